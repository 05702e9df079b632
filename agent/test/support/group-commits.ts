/** Committing offsets in tests the way a group's coordinator does. */
import assert from "node:assert/strict";
import { LogGroupOffsetStore } from "../../src/metadata/group-offsets.js";
import type { MetadataLog } from "../../src/metadata/log.js";
import { ErrorCode } from "../../src/protocol/index.js";

/** Claims the group's coordinator epoch through `metadata`, then commits under it; asserts it is accepted. */
export async function commitAsCoordinator(
  metadata: MetadataLog,
  group: string,
  offsets: Parameters<LogGroupOffsetStore["commit"]>[1],
): Promise<void> {
  const store = new LogGroupOffsetStore(metadata);
  const claim = await store.claimGroup(group, "previous-coordinator");
  const code = await store.commit(group, offsets, { coordinatorEpoch: claim.coordinatorEpoch, generationId: -1 });
  assert.equal(code, ErrorCode.NONE, "the commit is accepted");
}
