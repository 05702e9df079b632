/**
 * File MetadataStore (single process; the directory lock in lock.ts keeps others out).
 *
 * Log: append-only segment files `<dir>/log/seg-<12-digit sequence>.log` holding frames
 *
 *   u32 BE data length | u32 BE CRC-32C(index bytes ‖ data) | u64 BE index | data
 *
 * Concurrent appends are grouped: every frame queued while a write+fsync runs goes out in the next single
 * write+fsync, and append() resolves only after its frame's fsync. On open, every segment is replayed;
 * a torn or corrupt frame at the end of the last segment (a crash during a write) is truncated away, one
 * anywhere else is an error. trim() starts a new segment and deletes segments whose entries are all
 * below the mark.
 *
 * Snapshots: `<dir>/snapshots/snap-<20-digit index>.bin` = u32 BE CRC-32C(data) ‖ data, written atomically
 * (temp + fsync + rename); older ones are deleted once a newer one is durable.
 *
 * Items: `<dir>/items.json`, rewritten atomically on every change.
 */
import { crc32c } from "@node-rs/crc32";
import { promises as fs } from "node:fs";
import path from "node:path";
import { componentLogger } from "../../../../common/logger.js";
import { indexKey } from "../index-key.js";
import type { LogRecord, MetadataStore, PutCondition, Snapshot, VersionedItem } from "../types.js";
import { fsyncDir, isErrno, Mutex, writeFileAtomic } from "./fsutil.js";

const log = componentLogger("file-store");

export const FRAME_HEADER_BYTES = 16;
const SEGMENT_RE = /^seg-(\d{12})\.log$/;
const SNAPSHOT_RE = /^snap-(\d{20})\.bin$/;

export function encodeFrame(index: bigint, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + data.length);
  frame.writeUInt32BE(data.length, 0);
  frame.writeBigUInt64BE(index, 8);
  data.copy(frame, FRAME_HEADER_BYTES);
  frame.writeUInt32BE(crc32c(frame.subarray(8)), 4);
  return frame;
}

interface Location {
  readonly segment: Segment;
  readonly position: number;
  readonly length: number;
}

interface Segment {
  readonly seq: number;
  readonly file: string;
  handle: fs.FileHandle;
  size: number;
  minIndex: bigint | null;
  maxIndex: bigint | null;
}

interface PendingAppend {
  readonly index: bigint;
  readonly frame: Buffer;
  resolve(): void;
  reject(err: unknown): void;
}

interface StoredItem {
  value: Buffer;
  version: number;
  expiresAt?: number;
}

interface ItemsFile {
  readonly format: 1;
  readonly items: Record<string, { readonly value: string; readonly version: number; readonly expiresAt?: number }>;
}

function segmentName(seq: number): string {
  return `seg-${String(seq).padStart(12, "0")}.log`;
}

function snapshotName(index: bigint): string {
  return `snap-${indexKey(index)}.bin`;
}

function isLive(item: StoredItem | undefined, now = Date.now()): item is StoredItem {
  return item !== undefined && !(item.expiresAt !== undefined && item.expiresAt <= now);
}

export interface FileMetadataOptions {
  /** Largest entry append() accepts (default 16 MiB). */
  readonly maxEntryBytes?: number;
}

export class FileMetadataStore implements MetadataStore {
  readonly kind = "file";
  readonly maxEntryBytes: number;

  private readonly logDir: string;
  private readonly snapDir: string;
  private readonly tmpDir: string;
  private readonly itemsPath: string;

  private readonly segments: Segment[] = [];
  private readonly entries = new Map<bigint, Location>();
  /** The indexes in `entries`, ascending. */
  private readonly order: bigint[] = [];
  private readonly reserved = new Set<bigint>();
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;
  private readonly logMutex = new Mutex();
  private broken: Error | null = null;

  private snapshotIndex: bigint | null = null;
  private readonly snapMutex = new Mutex();

  private readonly items = new Map<string, StoredItem>();
  private readonly itemsMutex = new Mutex();
  private closed = false;

  private constructor(
    readonly dir: string,
    options: FileMetadataOptions,
  ) {
    this.maxEntryBytes = options.maxEntryBytes ?? 16 * 1024 * 1024;
    this.logDir = path.join(dir, "log");
    this.snapDir = path.join(dir, "snapshots");
    this.tmpDir = path.join(dir, "tmp");
    this.itemsPath = path.join(dir, "items.json");
  }

  /** Opens (and recovers) the metadata in `dir`. The caller holds the directory lock. */
  static async open(dir: string, options: FileMetadataOptions = {}): Promise<FileMetadataStore> {
    const store = new FileMetadataStore(dir, options);
    try {
      await store.load();
    } catch (err) {
      for (const s of store.segments) await s.handle.close().catch(() => {});
      throw err;
    }
    return store;
  }

  private async load(): Promise<void> {
    for (const d of [this.logDir, this.snapDir, this.tmpDir]) await fs.mkdir(d, { recursive: true });
    await fsyncDir(this.dir);
    await this.loadSnapshots();
    await this.loadItems();
    await this.loadLog();
  }

  private async loadSnapshots(): Promise<void> {
    const names = (await fs.readdir(this.snapDir))
      .filter((n) => SNAPSHOT_RE.test(n))
      .sort()
      .reverse();
    for (const name of names) {
      const index = BigInt(SNAPSHOT_RE.exec(name)![1]!);
      if (this.snapshotIndex === null && (await this.readSnapshotFile(index)) !== null) {
        this.snapshotIndex = index;
      } else {
        if (this.snapshotIndex === null)
          log.warn("dropping corrupt snapshot file", { file: path.join(this.snapDir, name) });
        await fs.rm(path.join(this.snapDir, name), { force: true });
      }
    }
  }

  private async readSnapshotFile(index: bigint): Promise<Buffer | null> {
    let raw: Buffer;
    try {
      raw = await fs.readFile(path.join(this.snapDir, snapshotName(index)));
    } catch (err) {
      if (isErrno(err, "ENOENT")) return null;
      throw err;
    }
    if (raw.length < 4) return null;
    const data = raw.subarray(4);
    return crc32c(data) === raw.readUInt32BE(0) ? data : null;
  }

  private async loadItems(): Promise<void> {
    let text: string;
    try {
      text = await fs.readFile(this.itemsPath, "utf8");
    } catch (err) {
      if (isErrno(err, "ENOENT")) return;
      throw err;
    }
    const parsed = JSON.parse(text) as ItemsFile;
    if (parsed.format !== 1) throw new Error(`${this.itemsPath}: unknown format ${String(parsed.format)}`);
    for (const [key, it] of Object.entries(parsed.items)) {
      this.items.set(key, {
        value: Buffer.from(it.value, "base64"),
        version: it.version,
        ...(it.expiresAt !== undefined ? { expiresAt: it.expiresAt } : {}),
      });
    }
  }

  private async loadLog(): Promise<void> {
    const names = (await fs.readdir(this.logDir)).filter((n) => SEGMENT_RE.test(n)).sort();
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const file = path.join(this.logDir, name);
      const seq = Number(SEGMENT_RE.exec(name)![1]);
      const raw = await fs.readFile(file);
      const segment: Segment = {
        seq,
        file,
        handle: await fs.open(file, "r+"),
        size: 0,
        minIndex: null,
        maxIndex: null,
      };
      this.segments.push(segment);
      let pos = 0;
      let torn: string | null = null;
      while (pos < raw.length) {
        if (raw.length - pos < FRAME_HEADER_BYTES) {
          torn = "truncated frame header";
          break;
        }
        const length = raw.readUInt32BE(pos);
        if (pos + FRAME_HEADER_BYTES + length > raw.length) {
          torn = `frame of ${length} bytes runs past the end of the file`;
          break;
        }
        const crc = raw.readUInt32BE(pos + 4);
        const body = raw.subarray(pos + 8, pos + FRAME_HEADER_BYTES + length);
        if (crc32c(body) !== crc) {
          torn = "CRC mismatch";
          break;
        }
        const index = raw.readBigUInt64BE(pos + 8);
        if (!this.entries.has(index)) this.addEntry(index, { segment, position: pos + FRAME_HEADER_BYTES, length });
        pos += FRAME_HEADER_BYTES + length;
      }
      if (torn !== null) {
        if (i !== names.length - 1) {
          throw new Error(
            `metadata log segment ${file} is corrupt at byte ${pos} (${torn}); only the last segment may have a torn tail`,
          );
        }
        log.warn("truncating torn tail of the metadata log", {
          file,
          position: pos,
          dropped: raw.length - pos,
          reason: torn,
        });
        await segment.handle.truncate(pos);
        await segment.handle.sync();
      }
      segment.size = pos;
    }
    if (this.segments.length === 0) await this.newSegment(1);
  }

  private async newSegment(seq: number): Promise<Segment> {
    const file = path.join(this.logDir, segmentName(seq));
    const handle = await fs.open(file, "wx+");
    await handle.sync();
    await fsyncDir(this.logDir);
    const segment: Segment = { seq, file, handle, size: 0, minIndex: null, maxIndex: null };
    this.segments.push(segment);
    return segment;
  }

  /** Position of the first index >= `index` in `order`. */
  private lowerBound(index: bigint): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order[mid]! < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private addEntry(index: bigint, location: Location): void {
    this.entries.set(index, location);
    const last = this.order[this.order.length - 1];
    if (last === undefined || index > last) this.order.push(index);
    else this.order.splice(this.lowerBound(index), 0, index);
    const segment = location.segment;
    if (segment.minIndex === null || index < segment.minIndex) segment.minIndex = index;
    if (segment.maxIndex === null || index > segment.maxIndex) segment.maxIndex = index;
  }

  private get active(): Segment {
    return this.segments[this.segments.length - 1]!;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error(`file store ${this.dir} is closed`);
    if (this.broken)
      throw new Error(`file store ${this.dir}: metadata log unusable after a write error: ${this.broken.message}`);
  }

  async append(index: bigint, data: Buffer): Promise<boolean> {
    if (index < 1n) throw new RangeError(`log index must be >= 1, got ${index}`);
    if (data.length > this.maxEntryBytes)
      throw new RangeError(`log entry of ${data.length} bytes exceeds ${this.maxEntryBytes}`);
    this.checkOpen();
    if (
      this.entries.has(index) ||
      this.reserved.has(index) ||
      (this.snapshotIndex !== null && index <= this.snapshotIndex)
    )
      return false;
    this.reserved.add(index);
    const frame = encodeFrame(index, data);
    await new Promise<void>((resolve, reject) => {
      this.queue.push({ index, frame, resolve, reject });
      this.kick();
    });
    return true;
  }

  private kick(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = null;
      if (this.queue.length > 0) this.kick();
    });
  }

  /** Group commit: everything queued goes out in one write and one fsync. */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      await this.logMutex.run(async () => {
        const segment = this.active;
        const start = segment.size;
        const buf = batch.length === 1 ? batch[0]!.frame : Buffer.concat(batch.map((p) => p.frame));
        try {
          if (this.broken) throw this.broken;
          let written = 0;
          while (written < buf.length) {
            const { bytesWritten } = await segment.handle.write(buf, written, buf.length - written, start + written);
            written += bytesWritten;
          }
          // fdatasync: the data and the file size (needed to read it back), without the timestamps.
          await segment.handle.datasync();
        } catch (err) {
          try {
            await segment.handle.truncate(start);
          } catch (truncErr) {
            this.broken = truncErr instanceof Error ? truncErr : new Error(String(truncErr));
          }
          for (const p of batch) {
            this.reserved.delete(p.index);
            p.reject(err);
          }
          return;
        }
        let pos = start;
        for (const p of batch) {
          this.addEntry(p.index, {
            segment,
            position: pos + FRAME_HEADER_BYTES,
            length: p.frame.length - FRAME_HEADER_BYTES,
          });
          this.reserved.delete(p.index);
          pos += p.frame.length;
        }
        segment.size = pos;
        for (const p of batch) p.resolve();
      });
    }
  }

  async read(from: bigint, limit: number): Promise<LogRecord[]> {
    this.checkOpen();
    const start = this.lowerBound(from);
    const locations = this.order
      .slice(start, start + Math.max(0, limit))
      .map((i): [bigint, Location] => [i, this.entries.get(i)!]);
    const out: LogRecord[] = [];
    for (const [index, loc] of locations) {
      const data = Buffer.allocUnsafe(loc.length);
      let done = 0;
      try {
        while (done < loc.length) {
          const { bytesRead } = await loc.segment.handle.read(data, done, loc.length - done, loc.position + done);
          if (bytesRead === 0) throw new Error(`metadata log ${loc.segment.file} ends inside entry ${index}`);
          done += bytesRead;
        }
      } catch (err) {
        // The segment was deleted by a concurrent trim: the entry is gone.
        if (!this.entries.has(index)) continue;
        throw err;
      }
      out.push({ index, data });
    }
    return out;
  }

  async putSnapshot(snapshot: Snapshot): Promise<void> {
    this.checkOpen();
    await this.snapMutex.run(async () => {
      if (this.snapshotIndex !== null && snapshot.index <= this.snapshotIndex) return;
      const header = Buffer.allocUnsafe(4);
      header.writeUInt32BE(crc32c(snapshot.data), 0);
      await writeFileAtomic(this.tmpDir, path.join(this.snapDir, snapshotName(snapshot.index)), [
        header,
        snapshot.data,
      ]);
      const previous = this.snapshotIndex;
      this.snapshotIndex = snapshot.index;
      if (previous !== null) await fs.rm(path.join(this.snapDir, snapshotName(previous)), { force: true });
    });
  }

  async latestSnapshot(): Promise<Snapshot | null> {
    this.checkOpen();
    return this.snapMutex.run(async () => {
      if (this.snapshotIndex === null) return null;
      const data = await this.readSnapshotFile(this.snapshotIndex);
      if (data === null) throw new Error(`snapshot ${this.snapshotIndex} in ${this.snapDir} is missing or corrupt`);
      return { index: this.snapshotIndex, data };
    });
  }

  async trim(before: bigint): Promise<void> {
    this.checkOpen();
    await this.logMutex.run(async () => {
      const cut = this.lowerBound(before);
      for (const index of this.order.splice(0, cut)) this.entries.delete(index);
      const active = this.active;
      if (active.size > 0 && active.minIndex !== null && active.minIndex < before)
        await this.newSegment(active.seq + 1);
      let removed = false;
      for (const segment of this.segments.slice(0, -1)) {
        if (segment.maxIndex !== null && segment.maxIndex >= before) continue;
        this.segments.splice(this.segments.indexOf(segment), 1);
        await segment.handle.close();
        await fs.rm(segment.file, { force: true });
        removed = true;
      }
      if (removed) await fsyncDir(this.logDir);
    });
  }

  /** Entries here never expire. */
  async renewEntries(): Promise<number> {
    return 0;
  }

  async getItem(key: string): Promise<VersionedItem | null> {
    this.checkOpen();
    const item = this.items.get(key);
    if (!isLive(item)) return null;
    return toVersioned(key, item);
  }

  async putItem(key: string, value: Buffer, condition: PutCondition, expiresAt?: Date): Promise<number | null> {
    this.checkOpen();
    return this.itemsMutex.run(async () => {
      const current = this.items.get(key);
      const exists = isLive(current);
      if (condition.kind === "absent" && exists) return null;
      if (condition.kind === "version" && (!exists || current.version !== condition.version)) return null;
      const next: StoredItem = {
        value: Buffer.from(value),
        version: (current?.version ?? 0) + 1,
        ...(expiresAt ? { expiresAt: expiresAt.getTime() } : {}),
      };
      this.items.set(key, next);
      try {
        await this.saveItems();
      } catch (err) {
        if (current) this.items.set(key, current);
        else this.items.delete(key);
        throw err;
      }
      return next.version;
    });
  }

  async listItems(prefix: string): Promise<VersionedItem[]> {
    this.checkOpen();
    const now = Date.now();
    const keys = [...this.items.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const out: VersionedItem[] = [];
    for (const key of keys) {
      const item = this.items.get(key);
      if (isLive(item, now)) out.push(toVersioned(key, item));
    }
    return out;
  }

  async deleteItem(key: string, version?: number): Promise<boolean> {
    this.checkOpen();
    return this.itemsMutex.run(async () => {
      const current = this.items.get(key);
      if (version !== undefined && (!isLive(current) || current.version !== version)) return false;
      if (!current) return true;
      this.items.delete(key);
      try {
        await this.saveItems();
      } catch (err) {
        this.items.set(key, current);
        throw err;
      }
      return true;
    });
  }

  private async saveItems(): Promise<void> {
    const now = Date.now();
    const items: Record<string, { value: string; version: number; expiresAt?: number }> = {};
    for (const [key, it] of this.items) {
      // Expired items are kept (their version continues on re-creation) for an hour, then dropped.
      if (it.expiresAt !== undefined && it.expiresAt < now - 3600_000) {
        this.items.delete(key);
        continue;
      }
      items[key] = {
        value: it.value.toString("base64"),
        version: it.version,
        ...(it.expiresAt !== undefined ? { expiresAt: it.expiresAt } : {}),
      };
    }
    const file: ItemsFile = { format: 1, items };
    await writeFileAtomic(this.tmpDir, this.itemsPath, Buffer.from(JSON.stringify(file)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing) await this.flushing;
    await this.logMutex.run(async () => {
      this.closed = true;
      for (const s of this.segments) await s.handle.close().catch(() => {});
    });
    await this.snapMutex.run(async () => {});
    await this.itemsMutex.run(async () => {});
  }
}

function toVersioned(key: string, item: StoredItem): VersionedItem {
  return {
    key,
    value: item.value,
    version: item.version,
    ...(item.expiresAt !== undefined ? { expiresAt: new Date(item.expiresAt) } : {}),
  };
}
