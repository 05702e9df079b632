/**
 * A short CPU profile of an agent (node --cpu-prof) while Kafka's perf tools produce and consume at full
 * rate on the file store, summarised as self time per function and per agent source area.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../agent/test/support/agents.js";
import { consumePerf, producePerf } from "./perf-tools.js";
import type { Workload } from "./scenario.js";
import { spawnAgentWithNodeOptions } from "./profiled-agent.js";
import { createTopic } from "./targets.js";

export interface ProfileSummary {
  readonly description: string;
  readonly file: string;
  readonly samples: number;
  readonly topFunctions: readonly { readonly name: string; readonly where: string; readonly selfPercent: number }[];
  readonly byArea: readonly { readonly area: string; readonly selfPercent: number }[];
}

interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  /** Microseconds between consecutive samples. */
  readonly timeDeltas: readonly number[];
}

function where(url: string, line: number): string {
  if (url === "") return "";
  const rel = url.replace(/^file:\/\//, "").replace(`${REPO_ROOT}/`, "");
  // tsx hands V8 transformed code: agent sources show line 1, which says nothing.
  return line > 0 ? `${rel}:${line + 1}` : rel;
}

/** The agent source area (agent/src/<dir>), a package, Node's internals or V8's pseudo-frames. */
export function areaOf(functionName: string, url: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const rel = url.replace(/^file:\/\//, "").replace(`${REPO_ROOT}/`, "");
  const agent = /^agent\/src\/([^/]+)\//.exec(rel) ?? /^(agent\/src\/[^/]+)$/.exec(rel);
  if (agent) return `agent/src/${agent[1]!.replace(/^agent\/src\//, "")}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel);
  if (pkg) return `package ${pkg[1]}`;
  if (rel.startsWith("node:")) return "node internals";
  if (/^(common|cli)\//.test(rel)) return rel.split("/")[0]!;
  return "other";
}

/**
 * Self-time summary of a .cpuprofile: samples of the first `skipMs` (module loading, start-up) and idle
 * samples are left out of the percentages.
 */
export function summariseProfile(
  profile: CpuProfile,
  description: string,
  file: string,
  skipMs = 0,
  top = 15,
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const counts = new Map<number, number>();
  let t = 0;
  profile.samples.forEach((s, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t >= skipMs * 1000) counts.set(s, (counts.get(s) ?? 0) + 1);
  });
  const fn = new Map<string, { name: string; where: string; n: number }>();
  const area = new Map<string, number>();
  let busy = 0;
  for (const [id, n] of counts) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    busy += n;
    const name = functionName || "(anonymous)";
    const w = where(url, lineNumber);
    const key = `${name}@${w}`;
    const e = fn.get(key) ?? { name, where: w, n: 0 };
    e.n += n;
    fn.set(key, e);
    const a = areaOf(functionName, url);
    area.set(a, (area.get(a) ?? 0) + n);
  }
  const pct = (n: number): number => Math.round((n / Math.max(1, busy)) * 1000) / 10;
  return {
    description,
    file,
    samples: busy,
    topFunctions: [...fn.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfPercent: pct(e.n) })),
    byArea: [...area.entries()].sort((a, b) => b[1] - a[1]).map(([a, n]) => ({ area: a, selfPercent: pct(n) })),
  };
}

/** Runs one agent under --cpu-prof through a max-rate produce and a consume; returns the summary. */
export async function profileAgent(w: Workload, dir: string): Promise<ProfileSummary> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = path.join(dir, "data");
  const target = await spawnAgentWithNodeOptions(
    [`--cpu-prof`, `--cpu-prof-dir=${dir}`],
    ["-bucketURL", `file://${data}`, "-batchTimeout", "50ms"],
  );
  const records = w.throughputRecords.file;
  try {
    await createTopic(target.bootstrap, "prof", w.partitions);
    await producePerf(target.bootstrap, "prof", records, w.recordSize, -1);
    await consumePerf(target.bootstrap, "prof", records);
  } finally {
    await target.stop();
    rmSync(data, { recursive: true, force: true });
  }
  // tsx runs its loader in a worker thread, which writes a profile too: the main thread's is the largest.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files.length === 0) throw new Error(`node --cpu-prof wrote no profile into ${dir}`);
  const file = files[0]!;
  for (const other of files.slice(1)) rmSync(other, { force: true });
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  return summariseProfile(
    profile,
    `file store, batchTimeout 50ms, ${records} × ${w.recordSize} B produced at full rate then consumed; the first ${Math.round(target.startupMs / 1000 + 1)} s (start-up) left out`,
    path.relative(REPO_ROOT, file),
    target.startupMs + 1000,
  );
}
