/**
 * One process per store directory: an exclusive lock file `<dir>/LOCK` holding the owner's pid,
 * created with O_EXCL. A lock left by a process that no longer exists is taken over.
 */
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

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return !isErrno(err, "ESRCH");
  }
}

export interface DirLock {
  release(): Promise<void>;
}

export async function lockDir(dir: string): Promise<DirLock> {
  const lockPath = path.join(dir, "LOCK");
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await fs.open(lockPath, "wx");
      try {
        await handle.writeFile(`${process.pid}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      let released = false;
      return {
        release: async () => {
          if (released) return;
          released = true;
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
    const pid = Number.parseInt(text.trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && processAlive(pid)) throw new StoreLockedError(dir, pid);
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
    const moved = Number.parseInt((await fs.readFile(stale, "utf8").catch(() => "")).trim(), 10);
    if (moved !== pid && Number.isInteger(moved) && moved > 0 && processAlive(moved)) {
      await fs.link(stale, lockPath).catch(() => {});
      await fs.rm(stale, { force: true });
      throw new StoreLockedError(dir, moved);
    }
    await fs.rm(stale, { force: true });
  }
  throw new Error(`could not take the lock file ${lockPath}: it keeps changing hands`);
}
