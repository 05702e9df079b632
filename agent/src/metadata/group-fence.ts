/**
 * Coordinator fences of consumer groups, part of the fold (state.ts). Agents choose a group's
 * coordinator from their own view of the cluster, and views disagree for a moment whenever agents come
 * and go, so two agents may coordinate one group at once. The log orders them: an agent that starts
 * coordinating a group appends `coordinateGroup`, and the fold gives it the group's next **coordinator
 * epoch**; only the latest epoch may write. Per group the fold keeps that epoch and the group's last
 * generation (the highest recorded by `groupGeneration` or carried by an accepted commit, in any epoch):
 *
 *   - a commit or generation from an older epoch is refused with NOT_COORDINATOR (the coordinator then
 *     drops the group and its members look the coordinator up again);
 *   - within the current epoch, a commit from a generation older than the last one is refused with
 *     ILLEGAL_GENERATION; generation −1 (a commit from outside any generation) is checked by epoch only;
 *   - a new epoch keeps the last generation, so the new coordinator's generations continue after it and a
 *     generation id never names two different assignments.
 *
 * Epochs never go back: deleting a group's offsets keeps its fence.
 */
import { ErrorCode } from "../protocol/error-codes.js";

export interface GroupFence {
  /** The coordinator instance that claimed the current epoch. */
  readonly coordinator: string;
  readonly epoch: number;
  /** The group's last generation (0: none yet). */
  readonly generation: number;
}

/** Snapshot form of one fence: [group, coordinator, epoch, generation]. */
export type GroupFenceRow = [string, string, number, number];

export class GroupFences {
  private readonly byGroup = new Map<string, GroupFence>();

  get(group: string): GroupFence | undefined {
    return this.byGroup.get(group);
  }

  /** Gives `coordinator` the group's next epoch; the last generation carries over. */
  claim(group: string, coordinator: string): GroupFence {
    const previous = this.byGroup.get(group);
    const fence = { coordinator, epoch: (previous?.epoch ?? 0) + 1, generation: previous?.generation ?? 0 };
    this.byGroup.set(group, fence);
    return fence;
  }

  /**
   * Admits a write of the group's coordinator at `epoch` for generation `generationId` (−1: none), and
   * records the generation when it is newer. Returns NONE or the error the write is refused with.
   */
  admit(group: string, epoch: number, generationId: number): number {
    const fence = this.byGroup.get(group);
    // An epoch the fold never gave out cannot be current either.
    if (!fence || epoch !== fence.epoch) return ErrorCode.NOT_COORDINATOR;
    if (generationId < 0) return ErrorCode.NONE;
    if (generationId < fence.generation) return ErrorCode.ILLEGAL_GENERATION;
    if (generationId > fence.generation) this.byGroup.set(group, { ...fence, generation: generationId });
    return ErrorCode.NONE;
  }

  toRows(): GroupFenceRow[] {
    return [...this.byGroup].map(([group, f]) => [group, f.coordinator, f.epoch, f.generation]);
  }

  restore(rows: readonly GroupFenceRow[]): void {
    for (const [group, coordinator, epoch, generation] of rows)
      this.byGroup.set(group, { coordinator, epoch, generation });
  }
}
