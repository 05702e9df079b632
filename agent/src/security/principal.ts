/**
 * Who a connection is, as the authorizer names it (Kafka's KafkaPrincipal as a string):
 *
 *   - SASL: `User:<user name>`;
 *   - mutual TLS without SASL: `User:<name>`, the name being the client certificate's subject in RFC 2253
 *     form (`CN=app,OU=team,O=Example,C=US`, most specific first, as Java's X500Principal.getName() writes
 *     it) passed through the principal mapping rules (-kafkaTLSPrincipalMappingRules, Kafka's
 *     ssl.principal.mapping.rules);
 *   - anything else (PLAINTEXT, TLS without a client certificate): `User:ANONYMOUS`.
 *
 * Mapping rules follow Kafka's SslPrincipalMapper: a comma-separated list of `DEFAULT` (the DN as it is)
 * and `RULE:<pattern>/<replacement>/[L|U]` (when the Java-style regular expression matches the whole DN,
 * the DN with the pattern replaced by the replacement — `$1`... name groups, `\` escapes a character —
 * optionally lower- or upper-cased), tried in order; a DN no rule matches has no principal and its
 * connection is closed.
 */

export const ANONYMOUS = "User:ANONYMOUS";

/** A rule list that does not parse; the message names the rule. */
export class PrincipalMappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrincipalMappingError";
  }
}

interface Rule {
  /** null: DEFAULT. */
  readonly pattern: RegExp | null;
  readonly replacement: string;
  readonly caseChange: "" | "L" | "U";
}

// Kafka's RULE_PATTERN and RULE_SPLITTER (SslPrincipalMapper), in JavaScript syntax.
const RULE_PATTERN = String.raw`(DEFAULT)|RULE:((\\.|[^\\/])*)/((\\.|[^\\/])*)/([LU]?).*?|(.*?)`;
const RULE_SPLITTER = new RegExp(String.raw`\s*(` + RULE_PATTERN + String.raw`)\s*(,\s*|$)`, "g");
const RULE_PARSER = new RegExp("^(?:" + RULE_PATTERN + ")");

/** The rules of a mapping list. Throws PrincipalMappingError naming the rule that does not parse. */
function parseRules(text: string): Rule[] {
  const rules: Rule[] = [];
  const trimmed = text.trim();
  RULE_SPLITTER.lastIndex = 0;
  for (;;) {
    const at = RULE_SPLITTER.lastIndex;
    const split = RULE_SPLITTER.exec(trimmed);
    if (!split) break;
    if (split[0] === "") {
      // An empty match at the end; stop (Java's find() would step past it).
      if (at >= trimmed.length) break;
      RULE_SPLITTER.lastIndex = at + 1;
      continue;
    }
    const rule = split[1]!;
    const m = RULE_PARSER.exec(rule);
    if (!m || m[0].length !== rule.length)
      throw new PrincipalMappingError(
        `invalid rule ${JSON.stringify(rule)}${m ? `, unmatched part ${JSON.stringify(rule.slice(m[0].length))}` : ""}`,
      );
    if (m[1] !== undefined) rules.push({ pattern: null, replacement: "", caseChange: "" });
    else if (m[2] !== undefined) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(m[2], "g");
      } catch (err) {
        throw new PrincipalMappingError(
          `rule ${JSON.stringify(rule)}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      rules.push({ pattern, replacement: m[4]!, caseChange: (m[6] ?? "") as Rule["caseChange"] });
    } else if (rule.trim() !== "") {
      throw new PrincipalMappingError(
        `invalid rule ${JSON.stringify(rule)}: expected DEFAULT or RULE:<pattern>/<replacement>/[L|U]`,
      );
    }
    if (RULE_SPLITTER.lastIndex >= trimmed.length) break;
  }
  return rules;
}

/**
 * Expands a replacement for one match as Java's Matcher.replaceAll does: `$n` is group n (a number
 * larger than the group count is shortened digit by digit, then taken literally, as Kafka's rule mapper
 * arranges), `\x` is x.
 */
function expand(replacement: string, groups: ReadonlyArray<string | undefined>): string {
  let out = "";
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c === "\\" && i + 1 < replacement.length) {
      out += replacement[++i];
      continue;
    }
    if (c === "$") {
      const digits = /^\d+/.exec(replacement.slice(i + 1))?.[0];
      if (digits !== undefined) {
        const count = groups.length - 1;
        let n = digits;
        while (n.length > 1 && Number(n) > count) n = n.slice(0, -1);
        if (Number(n) <= count) {
          out += groups[Number(n)] ?? "";
          i += n.length;
          continue;
        }
      }
    }
    out += c;
  }
  return out;
}

function applyRule(rule: Rule, dn: string): string | null {
  if (rule.pattern === null) return dn;
  const whole = new RegExp(`^(?:${rule.pattern.source})$`);
  if (!whole.test(dn)) return null;
  rule.pattern.lastIndex = 0;
  const replaced = dn.replace(rule.pattern, (...args: unknown[]) => {
    // args: match, p1..pn, offset, string[, groups]
    const hasNamed = typeof args[args.length - 1] === "object" && args[args.length - 1] !== null;
    const end = args.length - (hasNamed ? 3 : 2);
    return expand(rule.replacement, args.slice(0, end) as Array<string | undefined>);
  });
  if (rule.caseChange === "L") return replaced.toLowerCase();
  if (rule.caseChange === "U") return replaced.toUpperCase();
  return replaced;
}

/** Kafka's ssl.principal.mapping.rules: the rules, tried in order. */
export class PrincipalMapper {
  private constructor(
    private readonly rules: readonly Rule[],
    readonly text: string,
  ) {}

  /** Parses a rule list (throws PrincipalMappingError). An empty list means DEFAULT, as in Kafka. */
  static parse(text: string): PrincipalMapper {
    const source = text.trim() === "" ? "DEFAULT" : text;
    return new PrincipalMapper(parseRules(source), source);
  }

  static readonly DEFAULT = PrincipalMapper.parse("DEFAULT");

  /** The rules as Kafka's SslPrincipalMapper prints them (`DEFAULT`, `RULE:<pattern>/<replacement>[/L|/U]`). */
  describe(): string[] {
    return this.rules.map((r) =>
      r.pattern === null
        ? "DEFAULT"
        : `RULE:${r.pattern.source === "(?:)" ? "" : r.pattern.source}/${r.replacement}${r.caseChange ? `/${r.caseChange}` : ""}`,
    );
  }

  /** The principal name for a DN, or null when no rule applies. */
  name(dn: string): string | null {
    for (const rule of this.rules) {
      const name = applyRule(rule, dn);
      if (name !== null) return name;
    }
    return null;
  }
}

/**
 * A certificate subject as Node writes it (X509Certificate.subject: one `type=value` per line, in the
 * certificate's order, the values escaped as RFC 2253 asks, multi-valued parts joined by ` + `) in RFC
 * 2253 form, most specific part first: `CN=app,OU=team,O=Example,C=US`. Attribute types other than
 * CN, C, L, ST, O, OU, STREET, DC and UID keep OpenSSL's short names (Java writes those as OIDs).
 */
export function subjectToDn(subject: string): string {
  return subject
    .split("\n")
    .filter((line) => line !== "")
    .map((rdn) => rdn.split(" + ").join("+"))
    .reverse()
    .join(",");
}
