/**
 * File ObjectStore: one file per object under `<dir>/objects/`. Key segments (split at "/") are
 * percent-encoded; directories carry the suffix ".d" and objects ".o", so "a/b" and "a/b/c" can both
 * exist. Writes go to `<dir>/tmp/` first (fsync, rename, fsync dir). The expiresAt hint is ignored:
 * objects stay until deleted.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from "../types.js";
import { ObjectNotFoundError } from "../types.js";
import { isErrno, writeFileAtomic } from "./fsutil.js";

const DIR_SUFFIX = ".d";
const OBJ_SUFFIX = ".o";
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

  constructor(
    readonly dir: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.objectsDir = path.join(dir, "objects");
    this.tmpDir = path.join(dir, "tmp");
  }

  async init(): Promise<void> {
    await fs.mkdir(this.objectsDir, { recursive: true });
    await fs.mkdir(this.tmpDir, { recursive: true });
    // Leftovers of writes interrupted by a crash.
    for (const name of await fs.readdir(this.tmpDir)) await fs.rm(path.join(this.tmpDir, name), { force: true });
  }

  private pathOf(key: string): string {
    const segs = key.split("/").map((s) => {
      const enc = encodeSegment(s);
      if (enc.length > MAX_SEGMENT) throw new RangeError(`object key segment too long for the file store: ${JSON.stringify(s.slice(0, 40))}...`);
      return enc;
    });
    const last = segs.pop() ?? "";
    return path.join(this.objectsDir, ...segs.map((s) => s + DIR_SUFFIX), last + OBJ_SUFFIX);
  }

  async put(key: string, data: Buffer, _options?: PutOptions): Promise<void> {
    const target = this.pathOf(key);
    for (let attempt = 0; ; attempt++) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      try {
        await writeFileAtomic(this.tmpDir, target, data);
        return;
      } catch (err) {
        // A directory removed between mkdir and rename (should not happen: directories are kept).
        if (!isErrno(err, "ENOENT") || attempt >= 2) throw err;
      }
    }
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (range && (range.offset < 0 || range.length < 0)) throw new RangeError(`invalid byte range ${range.offset}+${range.length}`);
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

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) await fs.rm(this.pathOf(key), { force: true });
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
          if (!key.startsWith(prefix)) continue;
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
    await this.onClose();
  }
}
