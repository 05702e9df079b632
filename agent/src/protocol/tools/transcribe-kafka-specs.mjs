// Transcriber used to write agent/src/protocol/messages/*.ts: reads Kafka's message JSON specs from a
// git checkout of apache/kafka at a tag and writes our compact definitions (field names camelCased,
// versions capped at the range listed below, common structs inlined, docs and comments dropped).
//   KAFKA_REPO=/path/to/kafka KAFKA_TAG=3.9.0-rc3 node agent/src/protocol/tools/transcribe-kafka-specs.mjs
// Review the diff afterwards: the generated files are the source of truth, not this script.
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
const REPO = process.env.KAFKA_REPO ?? "kafka",
  TAG = process.env.KAFKA_TAG ?? "3.9.0-rc3",
  DIR = "clients/src/main/resources/common/message";
const OUT = fileURLToPath(new URL("../messages/", import.meta.url));
const apis = [
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
  [22, "InitProducerId", 5],
  [32, "DescribeConfigs", 4],
  [33, "AlterConfigs", 2],
  [36, "SaslAuthenticate", 2],
  [37, "CreatePartitions", 3],
  [42, "DeleteGroups", 2],
  [44, "IncrementalAlterConfigs", 1],
  [60, "DescribeCluster", 1],
];
const kebab = (s) => s.replace(/([a-z])([A-Z])/g, "$1-$2").toLowerCase();
const camel = (s) => s[0].toLowerCase() + s.slice(1);
function load(name) {
  const txt = execSync(`git -C ${REPO} show ${TAG}:${DIR}/${name}.json`, { encoding: "utf8" });
  return JSON.parse(
    txt
      .split("\n")
      .filter((l) => !/^\s*\/\//.test(l))
      .join("\n"),
  );
}
function parseRange(r) {
  if (r === "none") return null;
  let m = /^(\d+)\+$/.exec(r);
  if (m) return [Number(m[1]), Infinity];
  m = /^(\d+)-(\d+)$/.exec(r);
  if (m) return [Number(m[1]), Number(m[2])];
  m = /^(\d+)$/.exec(r);
  if (m) return [Number(m[1]), Number(m[1])];
  throw new Error("range " + r);
}
function capRange(r, max) {
  const p = parseRange(r);
  if (!p) return null;
  if (p[0] > max) return null;
  if (p[1] >= max) return `${p[0]}+`;
  return p[0] === p[1] ? `${p[0]}` : `${p[0]}-${p[1]}`;
}
function fmtDefault(type, d) {
  if (d === "null") return "null";
  if (type === "int64") return `${BigInt(d)}n`;
  if (type === "bool") return d;
  if (type === "string") return JSON.stringify(d);
  if (/^int|^uint|float/.test(type)) return String(Number(d));
  throw new Error("default " + type + " " + d);
}
const PRIMS = new Set([
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
function conv(fields, max, common, ind) {
  const out = [];
  for (const f of fields) {
    const versions = capRange(f.versions, max);
    if (!versions) continue;
    let type = f.type,
      sub = f.fields;
    const isArr = type.startsWith("[]");
    const base = isArr ? type.slice(2) : type;
    let t;
    if (PRIMS.has(base)) t = isArr ? `${base}[]` : base;
    else {
      if (!sub) {
        const c = common.find((c) => c.name === base);
        if (!c) throw new Error("no struct " + base);
        sub = c.fields;
      }
      t = isArr ? "struct[]" : "struct";
    }
    const parts = [`name: "${camel(f.name)}"`, `type: "${t}"`, `versions: "${versions}"`];
    if (f.nullableVersions) {
      const nv = capRange(f.nullableVersions, max);
      if (nv) parts.push(`nullableVersions: "${nv}"`);
    }
    if (f.tag !== undefined) {
      parts.push(`tag: ${f.tag}`, `taggedVersions: "${capRange(f.taggedVersions, max)}"`);
    }
    if (f.default !== undefined && !isArr && t !== "struct") parts.push(`default: ${fmtDefault(base, f.default)}`);
    if (sub) {
      const inner = conv(sub, max, common, ind + "  ");
      out.push(`${ind}{ ${parts.join(", ")}, fields: [\n${inner}\n${ind}] },`);
    } else out.push(`${ind}{ ${parts.join(", ")} },`);
  }
  return out.join("\n");
}
const index = [];
for (const [key, name, max] of apis) {
  const req = load(name + "Request"),
    res = load(name + "Response");
  const file = `${String(key).padStart(2, "0")}-${kebab(name)}`;
  let body = `/**\n * ${name} (API key ${key}): request and response definitions, versions 0-${max}.\n * Transcribed field by field from Kafka's ${name}Request.json / ${name}Response.json (3.9).\n */\nimport type { MessageDef } from "../schema.js";\n`;
  for (const [m, kind] of [
    [req, "Request"],
    [res, "Response"],
  ]) {
    const vv = parseRange(m.validVersions);
    if (vv[0] !== 0 || vv[1] < max) throw new Error(name + " range");
    const flex = m.flexibleVersions === "none" ? "none" : (capRange(m.flexibleVersions, max) ?? "none");
    body += `\nexport const ${name}${kind} = {\n  apiKey: ${key},\n  name: "${name}${kind}",\n  validVersions: "0-${max}",\n  flexibleVersions: "${flex}",\n  fields: [\n${conv(m.fields, max, m.commonStructs ?? [], "    ")}\n  ],\n} as const satisfies MessageDef;\n`;
  }
  writeFileSync(`${OUT}${file}.ts`, body);
  index.push([key, name, file]);
}
console.log(JSON.stringify(index));
