/**
 * Any agent serves any partition, and its view of the metadata log trails the log by a tail poll.
 * Answers that a stale view would get wrong (an offset above the local high watermark is out of range,
 * "latest" is the local high watermark, a group's committed offsets) are given after reading the log
 * tail now, waiting at most a bound.
 */
import type { MetadataLog } from "../metadata/log.js";

/** Longest a request waits for the log tail before answering from what it has. */
export const CATCH_UP_WAIT_MS = 1000;

/**
 * True once the log has applied every entry appended before the call; false when that did not happen
 * within `waitMs` or the read failed (the tail keeps trying in the background either way).
 */
export async function catchUpWithin(
  log: Pick<MetadataLog, "catchUpNow">,
  waitMs: number = CATCH_UP_WAIT_MS,
): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), waitMs)));
  try {
    return await Promise.race([
      log.catchUpNow().then(
        () => true,
        () => false,
      ),
      timedOut,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
