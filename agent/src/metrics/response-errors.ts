/**
 * The Kafka error codes a response carries, wherever they sit (the top-level `errorCode`, or a topic's,
 * a partition's, a member's...): what `warp_request_errors_total` counts, so a dashboard sees the
 * per-partition NOT_LEADER or TOPIC_AUTHORIZATION_FAILED a client gets, not only failed requests.
 * Record bytes (Buffers) are not walked.
 */

/** Adds each non-zero `errorCode` in `response` to `counts` (code → occurrences). */
export function countErrorCodes(response: unknown, counts: Map<number, number> = new Map()): Map<number, number> {
  if (typeof response !== "object" || response === null || Buffer.isBuffer(response)) return counts;
  if (Array.isArray(response)) {
    for (const item of response) countErrorCodes(item, counts);
    return counts;
  }
  for (const [key, value] of Object.entries(response)) {
    if (key === "errorCode") {
      if (typeof value === "number" && value !== 0) counts.set(value, (counts.get(value) ?? 0) + 1);
    } else if (typeof value === "object" && value !== null) countErrorCodes(value, counts);
  }
  return counts;
}
