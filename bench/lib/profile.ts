/**
 * A short CPU profile of an agent (node --cpu-prof) while Kafka's perf tools produce and consume at full
 * rate on the file store, summarised as self time per function and per agent source area.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../agent/test/support/agents.js";
import { snapshotWrites } from "./agent-log.js";
import { consumePerf, producePerf } from "./perf-tools.js";
import type { Workload } from "./scenario.js";
import { spawnAgentWithNodeOptions } from "./profiled-agent.js";
import { UNTUNED_PRODUCER_PROPS, UNTUNED_RECORD_SIZE } from "./small-requests.js";
import { createTopic } from "./targets.js";

export interface ProfileSummary {
  readonly description: string;
  readonly file: string;
  readonly samples: number;
  /** Busy samples over all samples after the skipped start: the share of one CPU the main thread used. */
  readonly busyFraction?: number;
  readonly topFunctions: readonly { readonly name: string; readonly where: string; readonly selfPercent: number }[];
  readonly byArea: readonly { readonly area: string; readonly selfPercent: number }[];
}

interface CpuProfileNode {
  readonly id: number;
  readonly children?: readonly number[];
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  /** Monotonic microseconds at the first sample (the clock of process.hrtime). */
  readonly startTime?: number;
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
  let all = 0;
  profile.samples.forEach((s, i) => {
    t += profile.timeDeltas[i] ?? 0;
    if (t >= skipMs * 1000) {
      counts.set(s, (counts.get(s) ?? 0) + 1);
      all++;
    }
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
    busyFraction: Math.round((busy / Math.max(1, all)) * 1000) / 1000,
    topFunctions: [...fn.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((e) => ({ name: e.name, where: e.where, selfPercent: pct(e.n) })),
    byArea: [...area.entries()].sort((a, b) => b[1] - a[1]).map(([a, n]) => ({ area: a, selfPercent: pct(n) })),
  };
}

export interface BusyStretch {
  /** When it started (s from the profile's start) and how long it ran (ms). */
  readonly atSeconds: number;
  readonly ms: number;
  /** Functions by self time within it (ms), the garbage collector included. */
  readonly self: readonly { readonly name: string; readonly where: string; readonly ms: number }[];
}

/** An amount per function (name and place), ranked: milliseconds for busy stretches and stalls, bytes for allocations. */
class FunctionTally {
  private readonly byKey = new Map<string, { name: string; where: string; amount: number }>();

  /** What one function is counted under: its name and where it is. */
  static keyOf(node: { readonly callFrame: CpuProfileNode["callFrame"] }): string {
    return `${node.callFrame.functionName || "(anonymous)"}@${where(node.callFrame.url, node.callFrame.lineNumber)}`;
  }

  add(node: { readonly callFrame: CpuProfileNode["callFrame"] }, amount: number): void {
    const name = node.callFrame.functionName || "(anonymous)";
    const key = FunctionTally.keyOf(node);
    const e = this.byKey.get(key) ?? { name, where: where(node.callFrame.url, node.callFrame.lineNumber), amount: 0 };
    e.amount += amount;
    this.byKey.set(key, e);
  }

  /** The `n` largest, rounded to whole units. */
  top(n: number): { name: string; where: string; amount: number }[] {
    return [...this.byKey.values()]
      .sort((a, b) => b.amount - a.amount)
      .slice(0, n)
      .map((e) => ({ ...e, amount: Math.round(e.amount) }));
  }

  /** The `n` largest as milliseconds. */
  topMs(n: number): { name: string; where: string; ms: number }[] {
    return this.top(n).map(({ name, where, amount }) => ({ name, where, ms: amount }));
  }
}

/**
 * The longest stretches of consecutive non-idle samples: when the event loop was held longest, and by
 * what. A stretch may span several tasks run back to back (the profile does not mark task boundaries), so
 * it bounds a single hold from above; its self times say where the time went.
 */
export function busyStretches(profile: CpuProfile, top = 5): BusyStretch[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const stretches: Array<{ atSeconds: number; ms: number; self: FunctionTally }> = [];
  let current: (typeof stretches)[number] | null = null;
  let t = 0;
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    t += dt;
    const node = byId.get(id);
    const fn = node?.callFrame.functionName ?? "(idle)";
    if (fn === "(idle)" || fn === "(program)") {
      if (current) stretches.push(current);
      current = null;
      return;
    }
    current ??= { atSeconds: Math.round(t / 100) / 10, ms: 0, self: new FunctionTally() };
    current.ms += dt;
    if (node) current.self.add(node, dt);
  });
  if (current) stretches.push(current);
  return stretches
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
    .map((s) => ({
      atSeconds: s.atSeconds,
      ms: Math.round(s.ms),
      self: s.self.topMs(8),
    }));
}

/** The main thread's profile among those node --cpu-prof wrote into `dir` (tsx's loader thread writes one too). */
function mainProfile(dir: string): { file: string; profile: CpuProfile } {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile"))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  if (files.length === 0) throw new Error(`node --cpu-prof wrote no profile into ${dir}`);
  const file = files[0]!;
  for (const other of files.slice(1)) rmSync(other, { force: true });
  return { file, profile: JSON.parse(readFileSync(file, "utf8")) as CpuProfile };
}

/**
 * Profiles the agent as `npm start` runs it (file store, default flags) under the untuned producer of
 * the small-requests scenario (Java defaults but acks=all, 1 partition, 1000-byte records), after an
 * unmeasured tenth of it; only the measured run is summarised.
 */
export async function profileUntunedProducer(
  records: number,
  dir: string,
): Promise<ProfileSummary & { readonly mbPerSec: number }> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = path.join(dir, "data");
  const target = await spawnAgentWithNodeOptions(
    [`--cpu-prof`, `--cpu-prof-dir=${dir}`],
    ["-bucketURL", `file://${data}`],
  );
  const started = Date.now();
  let skipMs: number;
  let mbPerSec: number;
  try {
    await createTopic(target.bootstrap, "untuned", 1);
    await createTopic(target.bootstrap, "warmup", 1);
    await producePerf(
      target.bootstrap,
      "warmup",
      Math.ceil(records / 10),
      UNTUNED_RECORD_SIZE,
      -1,
      UNTUNED_PRODUCER_PROPS,
    );
    skipMs = target.startupMs + (Date.now() - started);
    const r = await producePerf(target.bootstrap, "untuned", records, UNTUNED_RECORD_SIZE, -1, UNTUNED_PRODUCER_PROPS);
    mbPerSec = r.mbPerSec;
  } finally {
    await target.stop();
    rmSync(data, { recursive: true, force: true });
  }
  const { file, profile } = mainProfile(dir);
  return {
    ...summariseProfile(
      profile,
      `file store, default flags (as npm start), untuned producer (${UNTUNED_PRODUCER_PROPS.join(" ")}, 1 partition, ${records} × ${UNTUNED_RECORD_SIZE} B) at ${mbPerSec} MB/s; start-up and warm-up left out`,
      path.relative(REPO_ROOT, file),
      skipMs,
      25,
    ),
    mbPerSec,
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
  const { file, profile } = mainProfile(dir);
  return summariseProfile(
    profile,
    `file store, batchTimeout 50ms, ${records} × ${w.recordSize} B produced at full rate then consumed; the first ${Math.round(target.startupMs / 1000 + 1)} s (start-up) left out`,
    path.relative(REPO_ROOT, file),
    target.startupMs + 1000,
  );
}

/** One event-loop stall as bench/stall-probe.mjs wrote it: monotonic microseconds. */
export interface Stall {
  readonly fromUs: number;
  readonly toUs: number;
  readonly ms: number;
  /** CPU time the process used meanwhile (ms; absent from logs written before the probe recorded it). */
  readonly cpuMs?: number;
  /** When it ended, ms since the epoch (to match log lines; absent from logs written before). */
  readonly endMs?: number;
}

/** The stalls of a stall-probe log (its first line names the process). */
export function parseStalls(text: string): { process: string; stalls: Stall[] } {
  const [first = "", ...lines] = text.trim().split("\n");
  const stalls = lines.map((l) => {
    const [fromUs, toUs, ms, cpuMs, endMs] = l.split(" ").map(Number);
    return {
      fromUs: fromUs!,
      toUs: toUs!,
      ms: ms!,
      ...(cpuMs === undefined ? {} : { cpuMs }),
      ...(endMs === undefined ? {} : { endMs }),
    };
  });
  return { process: first, stalls };
}

/**
 * The spans in which an agent wrote metadata snapshots, from its log (agent-log.ts), as [start, end] in ms
 * since the epoch.
 */
export function snapshotSpans(agentLog: string): Array<readonly [number, number]> {
  return snapshotWrites(agentLog).map((w) => [w.fromMs, w.toMs] as const);
}

/** The stalls that overlap one of `spans` (stalls without a wall-clock end cannot be placed: none). */
export function stallsDuring(stalls: readonly Stall[], spans: ReadonlyArray<readonly [number, number]>): Stall[] {
  return stalls.filter(
    (s) => s.endMs !== undefined && spans.some(([from, to]) => s.endMs! - s.ms <= to && s.endMs! >= from),
  );
}

export interface StallReport extends Stall {
  /** Seconds from the profile's start. */
  readonly atSeconds: number;
  /** Functions by self time within it (ms), the garbage collector included. */
  readonly self: readonly { readonly name: string; readonly where: string; readonly ms: number }[];
  /** Functions by inclusive time (on the stack) within it (ms): which caller held the loop. */
  readonly inclusive: readonly { readonly name: string; readonly where: string; readonly ms: number }[];
}

/**
 * What the profile's samples were doing during each stall: unlike a busy stretch, a stall is one span in
 * which the event loop did not turn, so its samples are what held it (its own work, a collection, or the
 * process waiting for a core: samples keep their wall-clock spacing, so a starved process shows the
 * function it was in).
 */
export function stallsIn(profile: CpuProfile, stalls: readonly Stall[], top = 8): StallReport[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const start = profile.startTime ?? 0;
  const at: number[] = [];
  let t = start;
  for (const d of profile.timeDeltas) at.push((t += d));
  return stalls.map((stall) => {
    const self = new FunctionTally();
    const inclusive = new FunctionTally();
    // Samples are in time order: start at the stall's first one (binary search), stop past its end.
    let lo = 0;
    let hi = at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (at[mid]! < stall.fromUs) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < at.length && at[i]! <= stall.toUs; i++) {
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      let node = byId.get(profile.samples[i]!);
      if (node) self.add(node, ms);
      // Each function once per sample, however often it recurs on the stack.
      const seen = new Set<string>();
      while (node) {
        const k = FunctionTally.keyOf(node);
        if (node.callFrame.functionName !== "(root)" && !seen.has(k)) {
          seen.add(k);
          inclusive.add(node, ms);
        }
        const up = parent.get(node.id);
        node = up === undefined ? undefined : byId.get(up);
      }
    }
    return {
      ...stall,
      atSeconds: Math.round((stall.fromUs - start) / 1e5) / 10,
      self: self.topMs(top),
      inclusive: inclusive.topMs(top),
    };
  });
}

interface HeapProfileNode {
  readonly id: number;
  readonly selfSize: number;
  readonly callFrame: CpuProfileNode["callFrame"];
  readonly children: readonly HeapProfileNode[];
}

/** A sampling heap profile (V8's HeapProfiler.stopSampling, the format of .heapprofile files). */
export interface HeapProfile {
  readonly head: HeapProfileNode;
}

export interface AllocationReport {
  readonly totalBytes: number;
  /** Bytes allocated in each function itself, and in it or in what it called; largest first. */
  readonly self: readonly { readonly name: string; readonly where: string; readonly bytes: number }[];
  readonly inclusive: readonly { readonly name: string; readonly where: string; readonly bytes: number }[];
}

/** Ranks the functions of a sampling heap profile by the bytes allocated in them and under them. */
export function allocationsBy(profile: HeapProfile, top = 25): AllocationReport {
  const self = new FunctionTally();
  const inclusive = new FunctionTally();
  let totalBytes = 0;
  // Depth first; a function on the stack twice (recursion) counts once for what is below it.
  const walk = (node: HeapProfileNode, onStack: ReadonlyMap<string, number>): number => {
    const key = FunctionTally.keyOf(node);
    const stack = onStack.has(key) ? onStack : new Map(onStack).set(key, 0);
    let below = node.selfSize;
    for (const child of node.children) below += walk(child, stack);
    self.add(node, node.selfSize);
    if (!onStack.has(key)) inclusive.add(node, below);
    totalBytes += node.selfSize;
    return below;
  };
  walk(profile.head, new Map());
  const bytes = ({ name, where, amount }: { name: string; where: string; amount: number }) => ({
    name,
    where,
    bytes: amount,
  });
  return { totalBytes, self: self.top(top).map(bytes), inclusive: inclusive.top(top).map(bytes) };
}
