/**
 * Writes agent/src/protocol/messages/ (one NN-name.ts per API key, and index.ts) from Kafka's JSON
 * message specs in the kafka-clients jar (scripts/kafka-message-specs.ts): field names camelCased,
 * versions capped at the highest version served (APIS below), common structs inlined, docs and
 * comments dropped; formatted with the project's prettier configuration.
 *
 *   npx tsx scripts/gen-protocol-messages.ts          rewrite the message files (npm run gen:protocol)
 *   npx tsx scripts/gen-protocol-messages.ts --check  exit 1, listing the differences, when the committed
 *                                                     files are not what it would write (npm run check:protocol)
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { format, resolveConfig } from "prettier";
import { parseVersionRange } from "../agent/src/protocol/codec/schema.js";
import { ensureKafkaMessageSpecs, readMessageSpec } from "./kafka-message-specs.js";

/** The kafka-clients release whose specs the definitions follow (unless an API names a later one in APIS). */
export const KAFKA_SPEC_VERSION = "3.9.0";

/**
 * The release the KIP-848 group APIs follow: 3.9.0 has only their early-access version 0, while Kafka 4.x
 * clients send ConsumerGroupHeartbeat v1 (regular-expression subscriptions, member ids the client makes).
 */
export const KIP848_SPEC_VERSION = "4.1.1";

export const MESSAGES_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "agent",
  "src",
  "protocol",
  "messages",
);

/**
 * API key, name, the highest version the agent serves (fields of later versions are left out), and the
 * kafka-clients release to read its specs from when not KAFKA_SPEC_VERSION.
 */
export const APIS: ReadonlyArray<readonly [key: number, name: string, maxVersion: number, specVersion?: string]> = [
  [0, "Produce", 11],
  [1, "Fetch", 12],
  [2, "ListOffsets", 8],
  [3, "Metadata", 12],
  [8, "OffsetCommit", 9],
  [9, "OffsetFetch", 9],
  [10, "FindCoordinator", 5],
  [11, "JoinGroup", 9],
  [12, "Heartbeat", 4],
  [13, "LeaveGroup", 5],
  [14, "SyncGroup", 5],
  [15, "DescribeGroups", 5],
  [16, "ListGroups", 5],
  [17, "SaslHandshake", 1],
  [18, "ApiVersions", 4],
  [19, "CreateTopics", 7],
  [20, "DeleteTopics", 6],
  [21, "DeleteRecords", 2],
  [22, "InitProducerId", 5],
  // Transactions, the classic flow: AddPartitionsToTxn v4+ is brokers' batched form, EndTxn v5 and
  // TxnOffsetCommit v5 are KIP-890 part 2 (transaction.version 2, not advertised).
  [24, "AddPartitionsToTxn", 3],
  [25, "AddOffsetsToTxn", 4],
  [26, "EndTxn", 4],
  [28, "TxnOffsetCommit", 4],
  [29, "DescribeAcls", 3],
  [30, "CreateAcls", 3],
  [31, "DeleteAcls", 3],
  [32, "DescribeConfigs", 4],
  [33, "AlterConfigs", 2],
  [35, "DescribeLogDirs", 4],
  [36, "SaslAuthenticate", 2],
  [37, "CreatePartitions", 3],
  [42, "DeleteGroups", 2],
  [44, "IncrementalAlterConfigs", 1],
  [47, "OffsetDelete", 0],
  [48, "DescribeClientQuotas", 1],
  [50, "DescribeUserScramCredentials", 0],
  [51, "AlterUserScramCredentials", 0],
  [60, "DescribeCluster", 1],
  [61, "DescribeProducers", 0],
  [65, "DescribeTransactions", 0],
  [66, "ListTransactions", 1],
  [68, "ConsumerGroupHeartbeat", 1, KIP848_SPEC_VERSION],
  [69, "ConsumerGroupDescribe", 1, KIP848_SPEC_VERSION],
];

/** Every kafka-clients release APIS reads specs from. */
export function specVersions(): string[] {
  return [...new Set([KAFKA_SPEC_VERSION, ...APIS.map(([, , , v]) => v ?? KAFKA_SPEC_VERSION)])];
}

/** The parts of a Kafka JSON spec field the transcription reads. */
export interface FieldSpec {
  readonly name: string;
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly tag?: number;
  readonly taggedVersions?: string;
  readonly default?: string | number | boolean;
  readonly fields?: readonly FieldSpec[];
}

export interface MessageSpec {
  readonly name: string;
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly fields: readonly FieldSpec[];
  readonly commonStructs?: ReadonlyArray<{ readonly name: string; readonly fields: readonly FieldSpec[] }>;
}

const PRIMITIVES = new Set([
  "int8",
  "int16",
  "uint16",
  "int32",
  "uint32",
  "int64",
  "float64",
  "bool",
  "string",
  "bytes",
  "records",
  "uuid",
]);

function asMessageSpec(value: unknown, name: string): MessageSpec {
  const spec = value as Partial<MessageSpec> | null;
  if (
    typeof spec !== "object" ||
    spec === null ||
    spec.name !== name ||
    typeof spec.validVersions !== "string" ||
    typeof spec.flexibleVersions !== "string" ||
    !Array.isArray(spec.fields)
  )
    throw new Error(`${name}.json is not a message spec named ${name}`);
  return spec as MessageSpec;
}

const kebab = (s: string): string => s.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
const camel = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);

/** A version range limited to versions <= max, in our notation; null when nothing of it is left. */
export function capRange(text: string, max: number): string | null {
  const range = parseVersionRange(text);
  if (range.min > range.max || range.min > max) return null;
  if (range.max >= max) return `${range.min}+`;
  return range.min === range.max ? `${range.min}` : `${range.min}-${range.max}`;
}

/** A spec default as a TypeScript literal of the field's type. */
export function defaultLiteral(type: string, value: string | number | boolean): string {
  const text = String(value);
  if (text === "null") return "null";
  if (type === "int64") return `${BigInt(text)}n`;
  if (type === "bool") return text;
  if (type === "string") return JSON.stringify(text);
  if (/^int|^uint|float/.test(type)) return String(Number(text));
  throw new Error(`cannot write default ${text} of type ${type}`);
}

/** The field definitions (one per line, nested structs inlined) of the fields present up to version max. */
function fieldLines(
  fields: readonly FieldSpec[],
  max: number,
  common: MessageSpec["commonStructs"],
  indent: string,
): string {
  const out: string[] = [];
  for (const f of fields) {
    const versions = capRange(f.versions, max);
    if (!versions) continue;
    const isArray = f.type.startsWith("[]");
    const base = isArray ? f.type.slice(2) : f.type;
    let sub = f.fields;
    let type: string;
    if (PRIMITIVES.has(base)) type = isArray ? `${base}[]` : base;
    else {
      if (!sub) {
        const struct = (common ?? []).find((c) => c.name === base);
        if (!struct) throw new Error(`no struct ${base}`);
        sub = struct.fields;
      }
      type = isArray ? "struct[]" : "struct";
    }
    const parts = [`name: "${camel(f.name)}"`, `type: "${type}"`, `versions: "${versions}"`];
    if (f.nullableVersions) {
      const nullable = capRange(f.nullableVersions, max);
      if (nullable) parts.push(`nullableVersions: "${nullable}"`);
    }
    if (f.tag !== undefined) {
      if (f.taggedVersions === undefined) throw new Error(`tagged field ${f.name} has no taggedVersions`);
      parts.push(`tag: ${f.tag}`, `taggedVersions: "${capRange(f.taggedVersions, max)}"`);
    }
    if (f.default !== undefined && !isArray && type !== "struct")
      parts.push(`default: ${defaultLiteral(base, f.default)}`);
    if (sub) {
      out.push(
        `${indent}{ ${parts.join(", ")}, fields: [\n${fieldLines(sub, max, common, `${indent}  `)}\n${indent}] },`,
      );
    } else out.push(`${indent}{ ${parts.join(", ")} },`);
  }
  return out.join("\n");
}

/** One message definition (`export const <Name><Kind> = { ... } as const satisfies MessageDef;`). */
export function messageDefinition(
  key: number,
  name: string,
  max: number,
  kind: "Request" | "Response",
  spec: MessageSpec,
): string {
  const valid = parseVersionRange(spec.validVersions);
  if (valid.min !== 0 || valid.max < max)
    throw new Error(`${name}${kind} covers versions ${spec.validVersions}, not 0-${max}`);
  const flexible = spec.flexibleVersions === "none" ? "none" : (capRange(spec.flexibleVersions, max) ?? "none");
  return `\nexport const ${name}${kind} = {\n  apiKey: ${key},\n  name: "${name}${kind}",\n  validVersions: "0-${max}",\n  flexibleVersions: "${flexible}",\n  fields: [\n${fieldLines(spec.fields, max, spec.commonStructs, "    ")}\n  ],\n} as const satisfies MessageDef;\n`;
}

function fileBase(key: number, name: string): string {
  return `${String(key).padStart(2, "0")}-${kebab(name)}`;
}

/** The file of one API key, unformatted. */
export function messageFile(
  key: number,
  name: string,
  max: number,
  request: MessageSpec,
  response: MessageSpec,
  specVersion: string,
): string {
  return (
    `/**\n * ${name} (API key ${key}): request and response definitions, versions 0-${max}.\n` +
    ` * Transcribed field by field from Kafka's ${name}Request.json / ${name}Response.json (${specVersion})\n` +
    ` * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.\n */\n` +
    `import type { MessageDef } from "../codec/schema.js";\n` +
    messageDefinition(key, name, max, "Request", request) +
    messageDefinition(key, name, max, "Response", response)
  );
}

/** messages/index.ts, unformatted: the registry by API key and every definition re-exported. */
export function indexFile(apis: typeof APIS): string {
  const names = apis.flatMap(([, name]) => [`${name}Request`, `${name}Response`]);
  return [
    "/**",
    " * Registry of message definitions by API key (each file under messages/ holds one API).",
    " * Written by scripts/gen-protocol-messages.ts with the message files: regenerate, do not edit by hand.",
    " */",
    ...apis.map(([key, name]) => `import { ${name}Request, ${name}Response } from "./${fileBase(key, name)}.js";`),
    "",
    "export const MESSAGES = {",
    ...apis.map(([key, name]) => `  ${key}: { request: ${name}Request, response: ${name}Response },`),
    "} as const;",
    "",
    `export { ${names.join(", ")} };`,
    "",
  ].join("\n");
}

/**
 * Every file of messages/ (name -> formatted text) as this script writes it; `specDirs` maps each
 * release of specVersions() to the directory of its specs.
 */
export async function renderMessages(specDirs: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const sources: Array<[file: string, text: string]> = APIS.map(([key, name, max, version]) => {
    const specVersion = version ?? KAFKA_SPEC_VERSION;
    const specDir = specDirs.get(specVersion);
    if (specDir === undefined) throw new Error(`no spec directory for kafka-clients ${specVersion}`);
    const request = asMessageSpec(readMessageSpec(specDir, `${name}Request`), `${name}Request`);
    const response = asMessageSpec(readMessageSpec(specDir, `${name}Response`), `${name}Response`);
    return [`${fileBase(key, name)}.ts`, messageFile(key, name, max, request, response, specVersion)];
  });
  sources.push(["index.ts", indexFile(APIS)]);
  const files = new Map<string, string>();
  for (const [file, text] of sources) {
    const filepath = path.join(MESSAGES_DIR, file);
    const config = (await resolveConfig(filepath)) ?? {};
    files.set(file, await format(text, { ...config, filepath }));
  }
  return files;
}

/** The committed message files: index.ts and every NN-name.ts. */
function committedFiles(): string[] {
  return readdirSync(MESSAGES_DIR).filter((f) => f === "index.ts" || /^\d\d-[a-z-]+\.ts$/.test(f));
}

/** A short account of how `current` differs from `next`: the first changed region, a few lines of each. */
export function diffSummary(current: string, next: string, context = 8): string {
  const a = current.split("\n");
  const b = next.split("\n");
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const removed = a.slice(start, endA);
  const added = b.slice(start, endB);
  const clip = (lines: string[], sign: string): string[] => [
    ...lines.slice(0, context).map((l) => `${sign} ${l}`),
    ...(lines.length > context ? [`${sign} ... ${lines.length - context} more lines`] : []),
  ];
  return [
    `  @@ line ${start + 1}: ${removed.length} committed, ${added.length} generated`,
    ...clip(removed, "-"),
    ...clip(added, "+"),
  ].join("\n");
}

/** Differences between the committed files and `next`, one entry per file. */
export function compareWithCommitted(next: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  for (const [file, text] of next) {
    const filepath = path.join(MESSAGES_DIR, file);
    if (!existsSync(filepath)) problems.push(`${file}: missing`);
    else {
      const current = readFileSync(filepath, "utf8");
      if (current !== text) problems.push(`${file}: differs\n${diffSummary(current, text)}`);
    }
  }
  for (const file of committedFiles()) if (!next.has(file)) problems.push(`${file}: not generated (no API in APIS)`);
  return problems;
}

async function main(): Promise<void> {
  const specDirs = new Map<string, string>();
  for (const version of specVersions()) specDirs.set(version, await ensureKafkaMessageSpecs(version));
  const next = await renderMessages(specDirs);
  const relative = path.relative(process.cwd(), MESSAGES_DIR);
  if (process.argv.includes("--check")) {
    const problems = compareWithCommitted(next);
    if (problems.length > 0) {
      process.stderr.write(
        `${relative} is not what scripts/gen-protocol-messages.ts writes from kafka-clients ${specVersions().join(" and ")} (run npm run gen:protocol):\n${problems.join("\n")}\n`,
      );
      process.exitCode = 1;
      return;
    }
    process.stdout.write(`${relative}: ${next.size} files match kafka-clients ${specVersions().join(" and ")} specs\n`);
    return;
  }
  for (const file of committedFiles())
    if (!next.has(file)) {
      rmSync(path.join(MESSAGES_DIR, file));
      process.stdout.write(`removed ${path.join(relative, file)}\n`);
    }
  for (const [file, text] of next) {
    const filepath = path.join(MESSAGES_DIR, file);
    if (existsSync(filepath) && readFileSync(filepath, "utf8") === text) continue;
    writeFileSync(filepath, text);
    process.stdout.write(`wrote ${path.join(relative, file)}\n`);
  }
}

const invoked = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invoked) await main();
