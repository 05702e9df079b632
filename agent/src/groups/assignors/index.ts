/** The server-side assignors a KIP-848 consumer group may pick (group.remote.assignor), by name. */
import { rangeAssignor } from "./range.js";
import type { Assignor } from "./types.js";
import { uniformAssignor } from "./uniform.js";

export type { AssignableTopic, AssignmentSpec, Assignor, AssignorMember } from "./types.js";

/** Kafka's group.consumer.assignors default order: the first is the default. */
export const ASSIGNORS: ReadonlyMap<string, Assignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);

export const DEFAULT_ASSIGNOR = uniformAssignor.name;
