/**
 * The Kafka error codes a response carries, wherever they sit (the top-level `errorCode`, or a topic's,
 * a partition's, a member's...): what `warp_request_errors_total` counts, so a dashboard sees the
 * per-partition NOT_LEADER or TOPIC_AUTHORIZATION_FAILED a client gets, not only failed requests.
 * Record bytes (Buffers) and lists of numbers or strings (replica lists, ids) are not walked.
 *
 * Every response goes through here, so the walk allocates nothing: a Metadata response for 100,000
 * partitions took 400 ms to walk with `Object.entries` on each struct, holding the event loop.
 */

/** Adds each non-zero `errorCode` in `response` to `counts` (code → occurrences). */
export function countErrorCodes(response: unknown, counts: Map<number, number> = new Map()): Map<number, number> {
  walk(response, counts);
  return counts;
}

function walk(value: unknown, counts: Map<number, number>): void {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return;
  if (Array.isArray(value)) {
    // A protocol array holds one kind of item: numbers and strings carry no error code.
    if (value.length === 0 || typeof value[0] !== "object") return;
    for (const item of value) walk(item, counts);
    return;
  }
  const struct = value as Readonly<Record<string, unknown>>;
  for (const key in struct) {
    const field = struct[key];
    if (key === "errorCode") {
      if (typeof field === "number" && field !== 0) counts.set(field, (counts.get(field) ?? 0) + 1);
    } else if (typeof field === "object" && field !== null) walk(field, counts);
  }
}
