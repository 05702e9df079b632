/**
 * Where compaction's data path (compaction-copy.ts) runs: in the agent's event loop (InProcessCopier),
 * or in a worker thread with store clients of its own (WorkerCopier, compaction-worker.ts). The worker
 * is what a DynamoDB and S3 agent uses: the lease holder reads, checks, copies and uploads tens of MiB a
 * pass, and its event loop also serves produce and fetch. Mem and file stores cannot be opened twice (a
 * mem store lives in this thread's heap, a file store is locked by its directory), so they copy in process.
 *
 * A worker that fails or exits fails the calls waiting on it; the next pass starts another. A worker with
 * nothing to do for `idleMs` (the agent lost the compaction lease) is stopped, and its memory (its own heap
 * and clients, about 0.2 GB of RSS in the `scale` benchmark) goes back with it.
 */
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { BucketUrl } from "../../../common/bucket-url.js";
import type { TimeSlicer } from "../../../common/time-slicer.js";
import type { StoreCall } from "../store/measured.js";
import { storeUsage, type UsageEvent } from "../store/usage.js";
import { CopySession, type CopyChecks, type CopyLimits, type CopyRequest, type CopyStores } from "./compaction-copy.js";
import type { WrittenObject } from "./compaction-copy.js";

export interface CompactionCopier {
  /** Reads and checks a pass's sources; the pass id names them until `write` or `release`. */
  read(request: CopyRequest, slicer: TimeSlicer): Promise<CopyChecks & { readonly pass: number }>;
  /** Assembles the segments of `order` and writes the object under `key`; drops the pass's sources. */
  write(pass: number, key: string, order: Int32Array, keepData: boolean, slicer: TimeSlicer): Promise<WrittenObject>;
  /** Drops a pass's sources (no-op after `write`). */
  release(pass: number): void;
  close(): Promise<void>;
}

/** The data path in this event loop, in slices (the compactor's TimeSlicer). */
export class InProcessCopier implements CompactionCopier {
  private readonly passes = new Map<number, CopySession>();
  private nextPass = 1;

  constructor(
    private readonly stores: CopyStores,
    private readonly limits: CopyLimits,
  ) {}

  async read(request: CopyRequest, slicer: TimeSlicer): Promise<CopyChecks & { readonly pass: number }> {
    const pass = this.nextPass++;
    const session = new CopySession(this.stores, this.limits);
    this.passes.set(pass, session);
    try {
      return { pass, ...(await session.read(request, slicer)) };
    } catch (err) {
      this.release(pass);
      throw err;
    }
  }

  async write(pass: number, key: string, order: Int32Array, keepData: boolean, slicer: TimeSlicer) {
    const session = this.passes.get(pass);
    if (!session) throw new Error(`compaction pass ${pass} has no sources`);
    this.passes.delete(pass);
    return session.write(key, order, keepData, slicer);
  }

  release(pass: number): void {
    this.passes.get(pass)?.release();
    this.passes.delete(pass);
  }

  async close(): Promise<void> {
    for (const pass of [...this.passes.keys()]) this.release(pass);
  }
}

/** What a worker is started with (its workerData). */
export interface CopyWorkerData {
  readonly ingestion: BucketUrl;
  readonly compaction: BucketUrl;
  readonly limits: CopyLimits;
}

/** Requests to a worker. */
export type CopyWorkerRequest =
  | {
      readonly id: number;
      readonly op: "read";
      readonly pass: number;
      /** Without its held sources: those travel packed (packHeld). */
      readonly request: CopyRequest;
      readonly held: PackedSources;
    }
  | {
      readonly id: number;
      readonly op: "write";
      readonly pass: number;
      readonly key: string;
      readonly order: Int32Array;
      readonly keepData: boolean;
    }
  | { readonly id: number; readonly op: "release"; readonly pass: number };

/** What a worker posts: answers, and the usage and store calls its stores report (counted here). */
export type CopyWorkerMessage =
  | { readonly id: number; readonly ok: true; readonly checks: CopyChecks }
  | { readonly id: number; readonly ok: true; readonly written: { readonly bytes: number; readonly data?: Uint8Array } }
  | { readonly id: number; readonly ok: false; readonly error: { readonly name: string; readonly message: string } }
  | { readonly usage: UsageEvent }
  | { readonly call: StoreCall };

/**
 * Sources already in memory, copied back to back into one buffer that moves to the worker: posted as they
 * are, each would be cloned with all of the memory it is a view of (a cached file may be a view of a larger
 * buffer), and in the serializer, in one step of the event loop (87 ms once in the `scale` benchmark).
 */
export interface PackedSources {
  readonly bytes: Uint8Array;
  /** Per source: its index in the request, its offset in `bytes`, its length. */
  readonly at: Float64Array;
}

export function packHeld(held: CopyRequest["held"]): PackedSources {
  let size = 0;
  for (const [, data] of held) size += data.byteLength;
  const bytes = Buffer.allocUnsafeSlow(size);
  const at = new Float64Array(held.length * 3);
  let offset = 0;
  held.forEach(([source, data], k) => {
    bytes.set(data, offset);
    at.set([source, offset, data.byteLength], 3 * k);
    offset += data.byteLength;
  });
  return { bytes, at };
}

export function unpackHeld(packed: PackedSources): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  const { bytes, at } = packed;
  for (let k = 0; k < at.length; k += 3) out.push([at[k]!, bytes.subarray(at[k + 1], at[k + 1]! + at[k + 2]!)]);
  return out;
}

/**
 * Whether compaction copies in a worker: ingestion on DynamoDB, compacted objects on S3 (the worker opens
 * both again; mem and file stores cannot be). With `-bucketURL dynamodb://` alone compaction writes its
 * objects into DynamoDB too and stays in the event loop: in two of four full test runs, the KIP-848 tests
 * on three agents over DynamoDB Local alone saw it stop answering for over 10 s while a worker copied.
 * `enabled`: -compactionWorker (off, the lease holder saves the worker's memory and copies in its loop).
 */
export function copiesInWorker(ingestion: BucketUrl, compaction: BucketUrl, enabled = true): boolean {
  return enabled && ingestion.kind === "dynamodb" && compaction.kind === "s3";
}

/**
 * Flags of the process's own code (`node -e CODE`, `-p CODE`, `--input-type module`) that a worker must not
 * inherit; each takes a value, in the same argument (`--eval=CODE`) or the next.
 */
const EVAL_FLAGS = new Set(["-e", "--eval", "-p", "--print", "--input-type"]);

/**
 * The process's Node flags for the worker: all of them (`--import tsx` loads the worker's TypeScript when
 * run from source, `--max-old-space-size` and the like apply to it too) but code given on the command line
 * (`node -e CODE`), which a worker started from a file refuses to start with.
 */
export function workerExecArgv(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const name = arg.startsWith("--") ? arg.split("=", 1)[0]! : arg;
    if (!EVAL_FLAGS.has(name)) {
      kept.push(arg);
      continue;
    }
    // "-e CODE": the value is the next argument, dropped too; "--eval=CODE": it is in this one.
    if (!arg.includes("=")) i++;
  }
  return kept;
}

/** The worker's module, beside this one: .ts when run from source (tsx), .js when built. */
function workerUrl(): URL {
  return new URL(`./compaction-worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url);
}

interface Pending {
  resolve(message: CopyWorkerMessage): void;
  reject(error: Error): void;
}

/** A worker idle this long is stopped (WorkerCopier idleMs); passes come every 2 s on the lease holder. */
export const WORKER_IDLE_MS = 60_000;

export class WorkerCopier implements CompactionCopier {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  /** Passes read and not yet written or released: their sources live in the worker. */
  private readonly open = new Set<number>();
  private idleTimer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private nextPass = 1;
  private closed = false;

  constructor(
    private readonly data: CopyWorkerData,
    /** Store calls the worker made (the agent's store metrics). */
    private readonly onStoreCall?: (call: StoreCall) => void,
    private readonly idleMs: number = WORKER_IDLE_MS,
  ) {}

  /** Whether a worker thread is running now. */
  get running(): boolean {
    return this.worker !== null;
  }

  async read(request: CopyRequest): Promise<CopyChecks & { readonly pass: number }> {
    const pass = this.nextPass++;
    this.open.add(pass);
    try {
      const held = packHeld(request.held);
      // The segments and the packed sources go over, not a copy: they are built for this call.
      const answer = await this.call({ id: 0, op: "read", pass, request: { ...request, held: [] }, held }, [
        request.segments.buffer as ArrayBuffer,
        held.bytes.buffer as ArrayBuffer,
        held.at.buffer as ArrayBuffer,
      ]);
      if (!("checks" in answer)) throw new Error("compaction worker answered a read with something else");
      return { pass, ...answer.checks };
    } catch (err) {
      this.open.delete(pass);
      this.idleLater();
      throw err;
    }
  }

  async write(pass: number, key: string, order: Int32Array, keepData: boolean): Promise<WrittenObject> {
    try {
      const answer = await this.call({ id: 0, op: "write", pass, key, order, keepData }, [order.buffer as ArrayBuffer]);
      if (!("written" in answer)) throw new Error("compaction worker answered a write with something else");
      const { bytes, data } = answer.written;
      return data ? { bytes, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) } : { bytes };
    } finally {
      this.open.delete(pass);
      this.idleLater();
    }
  }

  release(pass: number): void {
    if (!this.open.delete(pass)) return;
    this.worker?.postMessage({ id: this.nextId++, op: "release", pass } satisfies CopyWorkerRequest);
    this.idleLater();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failPending(new Error("compaction worker closed"));
    await this.stop();
  }

  /** Stops the worker (its sources and clients with it); the next call starts another. */
  private async stop(): Promise<void> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }

  /** Stops the worker once nothing has used it for idleMs. */
  private idleLater(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    if (!this.worker || this.pending.size > 0 || this.open.size > 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.pending.size === 0 && this.open.size === 0) void this.stop();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private start(): Worker {
    if (this.closed) throw new Error("compaction worker closed");
    if (this.worker) return this.worker;
    const worker = new Worker(workerUrl(), { workerData: this.data, execArgv: workerExecArgv(process.execArgv) });
    worker.on("message", (message: CopyWorkerMessage) => this.onMessage(message));
    const gone = (error: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      this.failPending(error);
    };
    worker.on("error", (err) => gone(new Error(`compaction worker failed: ${err.message}`, { cause: err })));
    worker.on("exit", (code) => gone(new Error(`compaction worker exited (code ${code})`)));
    // A worker waiting for the next pass does not keep the process alive (one answering a call does).
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private call(request: CopyWorkerRequest, transfer: ArrayBuffer[]): Promise<CopyWorkerMessage> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<CopyWorkerMessage>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ ...request, id }, transfer);
      } catch (err) {
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  private onMessage(message: CopyWorkerMessage): void {
    if ("usage" in message) return storeUsage.record(message.usage);
    if ("call" in message) return this.onStoreCall?.(message.call);
    const pending = this.pending.get(message.id);
    if (!pending) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (message.ok) pending.resolve(message);
    else {
      const error = new Error(message.error.message);
      error.name = message.error.name;
      pending.reject(error);
    }
  }

  private failPending(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }
}
