/**
 * Server-side regular-expression subscriptions (ConsumerGroupHeartbeat v1 SubscribedTopicRegex; the Java
 * client's subscribe(SubscriptionPattern), librdkafka's "^" topics with group.protocol=consumer).
 *
 * Kafka compiles these with RE2/J and matches whole topic names. Here they are JavaScript regular
 * expressions (with the `u` flag), anchored to the whole name, with the differences from RE2/J that
 * matter made to behave like RE2/J:
 *   - RE2/J has no look-around and no back-references: a pattern using them is refused
 *     (INVALID_REGULAR_EXPRESSION), as Kafka refuses it, instead of being accepted here;
 *   - RE2/J takes leading inline flags such as `(?i)`; JavaScript does not, so leading `(?i)`, `(?s)`,
 *     `(?m)` (and combinations) are turned into flags.
 * Left different: RE2/J's `\Q...\E` quoting, `\pN` one-letter classes without braces and named groups
 * written `(?P<name>...)` are not understood here (refused as invalid); JavaScript-only syntax that RE2/J
 * would refuse beyond the above is accepted. Matching always runs in linear time in RE2/J; a JavaScript
 * pattern can backtrack, which is why look-around and back-references are refused. Internal topics do
 * not exist in this agent, so nothing needs excluding.
 */

/** A compiled subscription: whether a topic name matches, or the reason the pattern is invalid. */
export type CompiledRegex =
  { readonly ok: true; readonly matches: (topic: string) => boolean } | { readonly ok: false; readonly reason: string };

const UNSUPPORTED: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(\?<?[=!]/, "look-around is not supported"],
  [/\\[1-9]|\\k</, "back-references are not supported"],
];

export function compileSubscriptionRegex(pattern: string): CompiledRegex {
  let source = pattern;
  let flags = "u";
  const inline = /^\(\?([ims]+)\)/.exec(source);
  if (inline) {
    for (const f of new Set(inline[1])) flags += f;
    source = source.slice(inline[0].length);
  }
  for (const [re, reason] of UNSUPPORTED) if (re.test(source)) return { ok: false, reason };
  try {
    const re = new RegExp(`^(?:${source})$`, flags);
    return { ok: true, matches: (topic) => re.test(topic) };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
