/** Small durable-file helpers shared by the file store's parts. */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";

/** fsyncs a directory so that a rename or create inside it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `data` to `target` atomically: a temp file in `tmpDir` (same file system), fsync, rename over
 * the target, fsync of the target's directory. A reader sees the old file or the new one, never a part.
 */
export async function writeFileAtomic(tmpDir: string, target: string, data: Buffer | readonly Buffer[]): Promise<void> {
  const tmp = path.join(tmpDir, `.tmp-${process.pid}-${randomBytes(8).toString("hex")}`);
  const handle = await fs.open(tmp, "w");
  try {
    if (Buffer.isBuffer(data)) {
      await handle.writeFile(data);
    } else {
      await handle.writev([...data]);
    }
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(path.dirname(target));
}

/**
 * Writes `data` to a new file `target` in place (O_EXCL: fails if it exists) and makes it durable: the
 * file's fsync and its directory's run at the same time, and both end before this resolves. For keys
 * nobody reads before the write ends (PutOptions.fresh); a failed write removes what it left.
 */
export async function writeNewFile(target: string, data: Buffer): Promise<void> {
  const handle = await fs.open(target, "wx");
  try {
    await handle.writeFile(data);
    await Promise.all([handle.sync(), fsyncDir(path.dirname(target))]);
  } catch (err) {
    await handle.close().catch(() => {});
    await fs.rm(target, { force: true });
    throw err;
  }
  await handle.close();
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === code;
}

/** Runs async sections one at a time, in call order. */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
