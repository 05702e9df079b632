/**
 * What the server-side assignors of KIP-848 consumer groups (uniform.ts, range.ts) take and give: the
 * members with the topics they subscribe to, the topics with their partition counts, and the previous
 * target assignment (for stickiness); out comes each member's new target. Pure data: no group, no clock.
 */
/** Topic id → partitions (the same shape as partitions.ts's Assignment; kept here so assignors import nothing). */
export type Assignment = ReadonlyMap<string, ReadonlySet<number>>;

export interface AssignableTopic {
  /** 32 lowercase hex characters (the topic id clients see in Metadata). */
  readonly id: string;
  readonly name: string;
  readonly partitions: number;
}

export interface AssignorMember {
  readonly memberId: string;
  /** group.instance.id, or null for a dynamic member. */
  readonly instanceId: string | null;
  /** Ids of the existing topics the member subscribes to (by name or by regular expression). */
  readonly topicIds: ReadonlySet<string>;
}

export interface AssignmentSpec {
  /** In a stable order (member id). */
  readonly members: readonly AssignorMember[];
  /** Every topic some member subscribes to, by id. */
  readonly topics: ReadonlyMap<string, AssignableTopic>;
  /** The previous target assignment, by member id (partitions of topics gone may appear: ignore them). */
  readonly previous: ReadonlyMap<string, Assignment>;
}

export interface Assignor {
  /** As clients name it in group.remote.assignor. */
  readonly name: string;
  /** The target assignment of every member of the spec (an empty assignment for members given nothing). */
  assign(spec: AssignmentSpec): Map<string, Assignment>;
}
