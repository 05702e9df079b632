/** CPU time and peak resident memory of processes, from /proc/<pid>/stat and /proc/<pid>/status (Linux). */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux). */
const CLK_TCK = 100;

export interface ProcSample {
  /** utime + stime, seconds. */
  readonly cpuSeconds: number;
  /** VmHWM: peak resident set size, bytes. */
  readonly peakRssBytes: number;
}

export function sampleProcess(pid: number): ProcSample {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    return { cpuSeconds, peakRssBytes: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return { cpuSeconds: 0, peakRssBytes: 0 };
  }
}

/** Sum of CPU seconds and the largest peak RSS over several processes. */
export function sampleProcesses(pids: readonly number[]): ProcSample {
  const samples = pids.map(sampleProcess);
  return {
    cpuSeconds: samples.reduce((s, x) => s + x.cpuSeconds, 0),
    peakRssBytes: Math.max(0, ...samples.map((x) => x.peakRssBytes)),
  };
}

/** Pids whose command line contains every one of `needles` (for servers whose pid a helper does not expose). */
export function findPids(...needles: string[]): number[] {
  const out: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replace(/\0/g, " ");
      if (needles.every((n) => cmd.includes(n))) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return out;
}

/** The machine's CPU time from the first line of /proc/stat: busy and all jiffies over every CPU. */
export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

export function machineCpu(): MachineCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((s, x) => s + x, 0);
  const idle = v[3]! + v[4]!;
  return { busy: total - idle, total };
}

/**
 * Samples, every `everyMs` until stop(), how busy the machine's CPUs were (share of all CPUs) and how
 * many CPUs the given processes used, so a run can show whether the machine was saturated and by whom.
 */
export function sampleCpuTimeline(
  pids: readonly number[],
  everyMs = 500,
): { stop(): { machineBusy: number[]; processCpus: number[] } } {
  const machineBusy: number[] = [];
  const processCpus: number[] = [];
  let lastMachine = machineCpu();
  let lastProc = sampleProcesses(pids).cpuSeconds;
  let lastAt = Date.now();
  const tick = (): void => {
    const m = machineCpu();
    const p = sampleProcesses(pids).cpuSeconds;
    const now = Date.now();
    const dt = (now - lastAt) / 1000;
    if (m.total > lastMachine.total && dt > 0) {
      machineBusy.push((m.busy - lastMachine.busy) / (m.total - lastMachine.total));
      processCpus.push((p - lastProc) / dt);
    }
    lastMachine = m;
    lastProc = p;
    lastAt = now;
  };
  const timer = setInterval(tick, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      return { machineBusy, processCpus };
    },
  };
}
