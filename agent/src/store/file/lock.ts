/**
 * One process per store directory: an exclusive lock file `<dir>/LOCK`, created with O_EXCL, holding
 * the owner's pid and (on Linux) its start time: `<pid> <start time>\n`.
 *
 * A lock is stale, and is taken over, when its pid does not run, or runs with another start time (the
 * pid was reused — a container restarted with the same volume is pid 1 again). A lock naming this very
 * process but not held by it (this process never took it) is also stale.
 */
import { readFileSync } from "node:fs";
import { promises as fs } from "node:fs";
import path from "node:path";
import { isErrno } from "./fsutil.js";

export class StoreLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly ownerPid: number,
  ) {
    super(
      ownerPid === process.pid
        ? `file store ${dir} is already open in this process; open it once and share the Stores object`
        : `file store ${dir} is in use by process ${ownerPid} (lock file ${path.join(dir, "LOCK")}); only one agent may use a file:// store. Stop that process, or remove the lock file if it is not an agent`,
    );
    this.name = "StoreLockedError";
  }
}

/** Directories this process holds the lock of. */
const heldHere = new Set<string>();

/** The process start time in clock ticks since boot (Linux /proc), or null where unavailable. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22; the command name (field 2) is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return !isErrno(err, "ESRCH");
  }
}

interface LockOwner {
  readonly pid: number;
  readonly startTime: string | null;
}

function parseOwner(text: string): LockOwner | null {
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, startTime: start ?? null };
}

/** Whether the lock's owner is a running process that may still use the directory. */
function ownerLive(dir: string, owner: LockOwner): boolean {
  if (owner.pid === process.pid) return heldHere.has(dir);
  if (!processAlive(owner.pid)) return false;
  if (owner.startTime === null) return true;
  const now = startTime(owner.pid);
  return now === null || now === owner.startTime;
}

export interface DirLock {
  release(): Promise<void>;
}

export async function lockDir(dir: string): Promise<DirLock> {
  const lockPath = path.join(dir, "LOCK");
  const me = `${process.pid}${startTime(process.pid) !== null ? ` ${startTime(process.pid)}` : ""}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await fs.open(lockPath, "wx");
      try {
        await handle.writeFile(me);
        await handle.sync();
      } finally {
        await handle.close();
      }
      heldHere.add(dir);
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
          heldHere.delete(dir);
          await fs.rm(lockPath, { force: true });
        },
      };
    } catch (err) {
      if (!isErrno(err, "EEXIST")) throw err;
    }
    let text: string;
    try {
      text = await fs.readFile(lockPath, "utf8");
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue; // released meanwhile; try again
      throw err;
    }
    const owner = parseOwner(text);
    if (owner && ownerLive(dir, owner)) throw new StoreLockedError(dir, owner.pid);
    // Stale (dead owner) or unreadable (owner died while writing it): take over. Renaming it away first
    // makes the take-over atomic between two processes racing for the same stale lock.
    const stale = `${lockPath}.stale-${process.pid}`;
    try {
      await fs.rename(lockPath, stale);
    } catch (err) {
      if (isErrno(err, "ENOENT")) continue;
      throw err;
    }
    // Another process may have taken the stale lock over between our read and our rename: if what we
    // moved away is a live owner's lock, put it back and give up.
    const moved = parseOwner(await fs.readFile(stale, "utf8").catch(() => ""));
    if (moved && moved.pid !== owner?.pid && ownerLive(dir, moved)) {
      await fs.link(stale, lockPath).catch(() => {});
      await fs.rm(stale, { force: true });
      throw new StoreLockedError(dir, moved.pid);
    }
    await fs.rm(stale, { force: true });
  }
  throw new Error(`could not take the lock file ${lockPath}: it keeps changing hands`);
}
