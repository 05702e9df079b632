/**
 * File ObjectStore: one file per object under `<dir>/objects/`. Key segments (split at "/") are
 * percent-encoded; directories carry the suffix ".d" and objects ".o", so "a/b" and "a/b/c" can both
 * exist. Writes go to `<dir>/tmp/` first (fsync, rename, fsync dir); a put of a fresh key (PutOptions.fresh:
 * ingestion files) writes the object's file in place and fsyncs it and its directory at the same time.
 * Directories are never removed: the ones known to exist are not created again.
 *
 * expiresAt: recorded in `<dir>/expiry.log` (lines `<epoch ms> <JSON key>`, the last line of a key wins,
 * 0 = no expiry). Expired objects read as absent at once and their files are deleted by a sweep on open
 * and every minute, so ingestion files of a long-running embedded agent do not pile up.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from "../types.js";
import { ObjectNotFoundError } from "../types.js";
import { fsyncDir, isErrno, Mutex, writeFileAtomic, writeNewFile } from "./fsutil.js";

const DIR_SUFFIX = ".d";
const OBJ_SUFFIX = ".o";
const SWEEP_INTERVAL_MS = 60_000;

/** Longest encoded key segment; file names are at most 255 bytes on common file systems. */
const MAX_SEGMENT = 240;

function encodeSegment(seg: string): string {
  let out = "";
  for (const byte of Buffer.from(seg, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function decodeSegment(name: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    if (name[i] === "%") {
      bytes.push(Number.parseInt(name.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(name.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export class FileObjectStore implements ObjectStore {
  readonly kind = "file";
  private readonly objectsDir: string;
  private readonly tmpDir: string;
  private readonly expiryPath: string;
  /** Object key → expiry (epoch ms), for objects put with expiresAt. */
  private readonly expiry = new Map<string, number>();
  private readonly expiryMutex = new Mutex();
  /** Directories made (durably) or found by put: not made again. */
  private readonly knownDirs = new Set<string>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(
    readonly dir: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.objectsDir = path.join(dir, "objects");
    this.tmpDir = path.join(dir, "tmp");
    this.expiryPath = path.join(dir, "expiry.log");
  }

  async init(): Promise<void> {
    await fs.mkdir(this.objectsDir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    await fsyncDir(this.dir);
    // Leftovers of writes interrupted by a crash.
    for (const name of await fs.readdir(this.tmpDir)) await fs.rm(path.join(this.tmpDir, name), { force: true });
    await this.loadExpiry();
    await this.sweep();
    this.sweepTimer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch(() => {}) // retried at the next interval; a failed sweep only delays disk reclaim
        .finally(() => {
          this.sweeping = null;
        });
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  private async loadExpiry(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.expiryPath, "utf8");
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      throw err;
    }
    for (const line of text.split("\n")) {
      const space = line.indexOf(" ");
      if (space <= 0) continue;
      const ms = Number(line.slice(0, space));
      let key: unknown;
      try {
        key = JSON.parse(line.slice(space + 1));
      } catch {
        continue; // a torn last line
      }
      if (typeof key !== "string" || !Number.isFinite(ms)) continue;
      if (ms > 0) this.expiry.set(key, ms);
      else this.expiry.delete(key);
    }
  }

  private recordExpiry(key: string, ms: number): Promise<void> {
    return this.expiryMutex.run(() => fs.appendFile(this.expiryPath, `${ms} ${JSON.stringify(key)}\n`));
  }

  /** Deletes the files of expired objects and rewrites expiry.log with what is left. */
  async sweep(): Promise<void> {
    const now = Date.now();
    for (const [key, ms] of [...this.expiry]) {
      if (ms > now || this.expiry.get(key) !== ms) continue;
      await fs.rm(this.pathOf(key), { force: true });
      if (this.expiry.get(key) === ms) this.expiry.delete(key);
    }
    await this.expiryMutex.run(async () => {
      const lines = [...this.expiry].map(([key, ms]) => `${ms} ${JSON.stringify(key)}\n`).join("");
      await writeFileAtomic(this.tmpDir, this.expiryPath, Buffer.from(lines));
    });
  }

  private expired(key: string, now = Date.now()): boolean {
    const ms = this.expiry.get(key);
    return ms !== undefined && ms <= now;
  }

  private pathOf(key: string): string {
    const segs = key.split("/").map((s) => {
      const enc = encodeSegment(s);
      if (enc.length > MAX_SEGMENT)
        throw new RangeError(`object key segment too long for the file store: ${JSON.stringify(s.slice(0, 40))}...`);
      return enc;
    });
    const last = segs.pop() ?? "";
    return path.join(this.objectsDir, ...segs.map((s) => s + DIR_SUFFIX), last + OBJ_SUFFIX);
  }

  async put(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    const target = this.pathOf(key);
    // The in-memory expiry changes before the file does, so a concurrent sweep never removes the new file.
    const expiresAt = options?.expiresAt?.getTime();
    const hadExpiry = this.expiry.delete(key);
    if (expiresAt !== undefined) this.expiry.set(key, expiresAt);
    const dir = path.dirname(target);
    for (let attempt = 0; ; attempt++) {
      await this.ensureDir(dir);
      try {
        if (options?.fresh) await writeNewFile(target, data);
        else await writeFileAtomic(this.tmpDir, target, data);
        break;
      } catch (err) {
        // A directory removed under us (should not happen: directories are kept): make it again.
        if (!isErrno(err, "ENOENT") || attempt >= 2) throw err;
        this.knownDirs.delete(dir);
      }
    }
    if (expiresAt !== undefined) await this.recordExpiry(key, expiresAt);
    else if (hadExpiry) await this.recordExpiry(key, 0);
  }

  /** mkdir -p that makes new directories durable: each new entry's parent directory is fsync'd. */
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await fs.mkdir(dir, { recursive: true });
    if (created !== undefined) {
      for (let d = dir; ; d = path.dirname(d)) {
        await fsyncDir(path.dirname(d));
        if (d === created || path.dirname(d) === d) break;
      }
    }
    this.knownDirs.add(dir);
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (range && (range.offset < 0 || range.length < 0))
      throw new RangeError(`invalid byte range ${range.offset}+${range.length}`);
    if (this.expired(key)) throw new ObjectNotFoundError(key);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.pathOf(key), "r");
    } catch (err) {
      if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) throw new ObjectNotFoundError(key);
      throw err;
    }
    try {
      const { size } = await handle.stat();
      const start = Math.min(range?.offset ?? 0, size);
      const end = range ? Math.min(size, range.offset + range.length) : size;
      const buf = Buffer.allocUnsafe(Math.max(0, end - start));
      let done = 0;
      while (done < buf.length) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, start + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return buf.subarray(0, done);
    } finally {
      await handle.close();
    }
  }

  async setExpiry(key: string, expiresAt: Date): Promise<boolean> {
    const ms = expiresAt.getTime();
    const previous = this.expiry.get(key);
    // The in-memory expiry changes first, so a sweep starting meanwhile leaves the file alone.
    this.expiry.set(key, ms);
    try {
      await fs.access(this.pathOf(key));
    } catch (err) {
      if (this.expiry.get(key) === ms) {
        if (previous === undefined) this.expiry.delete(key);
        else this.expiry.set(key, previous);
      }
      if (isErrno(err, "ENOENT") || isErrno(err, "ENOTDIR")) return false;
      throw err;
    }
    await this.recordExpiry(key, ms);
    return true;
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await fs.rm(this.pathOf(key), { force: true });
      if (this.expiry.delete(key)) await this.recordExpiry(key, 0);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const found: ObjectInfo[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries: import("node:fs").Dirent[];
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, "ENOENT")) return;
        throw err;
      }
      for (const e of entries) {
        if (e.isDirectory() && e.name.endsWith(DIR_SUFFIX)) {
          const sub = keyPrefix + decodeSegment(e.name.slice(0, -DIR_SUFFIX.length)) + "/";
          // Descend only where keys can still start with prefix.
          if (sub.startsWith(prefix) || prefix.startsWith(sub)) await walk(path.join(dir, e.name), sub);
        } else if (e.isFile() && e.name.endsWith(OBJ_SUFFIX)) {
          const key = keyPrefix + decodeSegment(e.name.slice(0, -OBJ_SUFFIX.length));
          if (!key.startsWith(prefix) || this.expired(key)) continue;
          try {
            const st = await fs.stat(path.join(dir, e.name));
            found.push({ key, size: st.size });
          } catch (err) {
            if (!isErrno(err, "ENOENT")) throw err; // deleted while listing
          }
        }
      }
    };
    await walk(this.objectsDir, "");
    found.sort((a, b) => compareKeys(a.key, b.key));
    yield* found;
  }

  async close(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping;
    await this.expiryMutex.run(async () => {});
    await this.onClose();
  }
}
