/**
 * What agents send the sequencer and what it answers (docs/metadata-log.md section 14.6). The request is
 * an HTTP POST on the sequencer's HTTP port whose body is a metadata log entry in the binary encoding,
 * naming topics (no topic numbers: the sender's and the sequencer's states need not agree on them), and
 * holding only commitFile commands; the sequencer decodes it with the log's own decoder. The answer is
 * framed (reply-frame.ts: JSON fields, entries as stored) when the request's `accept` names
 * FRAMED_REPLY_TYPE, else JSON (what agents before it ask for), and says which of three outcomes the
 * commands had:
 *
 *   200 applied      {"outcome":"applied","index":"<entry index>","results":[...],"entries":[...]}: in the
 *                    log, applied at or below index, with the fold's results in command order; and, when
 *                    the sequencer still holds them, the entries after the sender's applied index (the
 *                    request's APPLIED_HEADER) up to index, as stored (in JSON, base64), which the sender
 *                    folds instead of reading them from the log
 *   4xx/503 not-applied {"outcome":"not-applied","error":...}: nothing was appended (not the sequencer, a
 *                    bad token, a malformed body, or the log refused the commands before appending)
 *   500 unknown      {"outcome":"unknown","error":...}: the commands may be in the log or may land later
 *
 * The sequencer's address and the token a request carries (`authorization: Bearer <token>`) are in the
 * sequencer lease's item, which only readers of the metadata table see.
 */
import { isBase64Text } from "../../../common/base64.js";
import type { LeaseHolder } from "../background/lease.js";
import type { CommitFileCommand } from "../metadata/commands.js";
import { decodeEntry, encodeEntry } from "../metadata/entry-codec.js";
import type { BatchResult, CommandResult } from "../metadata/state.js";
import type { LogRecord } from "../store/types.js";
import { decodeReplyFrame, encodeReplyFrame, FRAMED_REPLY_TYPE } from "./reply-frame.js";

export const SEQUENCER_LEASE_KEY = "lease/sequencer";
/**
 * How often the sequencer lease is renewed by its holder and read by the others (ms); it lives three times
 * as long. Twice the compaction lease's period: a sequencer that is gone costs no availability (agents
 * append themselves meanwhile), and each renewal and each read is billed.
 */
export const SEQUENCER_LEASE_RENEW_MS = 2000;
export const COMMIT_PATH = "/internal/v1/metadata/commit";
/** The request header naming the newest index the sender has folded. */
export const APPLIED_HEADER = "x-warp-applied-index";
/**
 * The request header saying its commit ended an aligned batch window, naming the window's end (ms since
 * the epoch): the sequencer may hold it briefly for the other agents' commits of that window
 * (metadata/gather.ts).
 */
export const GATHER_HEADER = "x-warp-gather-window";

/** The window a request's GATHER_HEADER names, or null (absent or not a time). */
export function gatherWindowOf(header: string | string[] | undefined): number | null {
  if (typeof header !== "string" || !/^[0-9]{1,15}$/.test(header)) return null;
  return Number(header);
}
/** The most entries, and entry bytes, an answer carries (more: the sender reads the log). */
export const MAX_REPLY_ENTRIES = 512;
export const MAX_REPLY_ENTRY_BYTES = 1024 * 1024;
/** The most command bytes a request carries (commits queued beyond go in the next request). */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** Where the sequencer listens, and the token its requests must carry. */
export interface SequencerAddress {
  /** The lease owner it answers as. */
  readonly owner: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
}

/** The lease item's info for a sequencer at `host:port` (LeaseOptions.info). */
export function sequencerLeaseInfo(
  nodeId: number,
  host: string,
  port: number,
  token: string,
): Readonly<Record<string, string | number>> {
  return { nodeId, host, httpPort: port, token };
}

/** The sequencer a lease holder is, or null when its item does not name one (an unknown writer). */
export function sequencerAddress(holder: LeaseHolder): SequencerAddress | null {
  const { host, httpPort, token } = holder.info;
  if (typeof host !== "string" || host === "" || typeof token !== "string" || token === "") return null;
  if (typeof httpPort !== "number" || !Number.isInteger(httpPort) || httpPort <= 0 || httpPort > 65535) return null;
  return { owner: holder.owner, host, port: httpPort, token };
}

/** The request body: `commands` as one entry from `sender`. */
export function encodeCommitRequest(sender: string, seq: number, commands: readonly CommitFileCommand[]): Buffer {
  return encodeEntry({ proposer: sender, seq, time: Date.now(), commands }, "binary", null);
}

/** A request body's sender and commands; throws an Error naming what is wrong. */
export function decodeCommitRequest(body: Buffer): { sender: string; commands: CommitFileCommand[] } {
  const entry = decodeEntry(body);
  const commands: CommitFileCommand[] = [];
  for (const c of entry.commands) {
    if (c.type !== "commitFile") throw new Error(`the sequencer takes commitFile commands only, not ${c.type}`);
    commands.push(c);
  }
  if (commands.length === 0) throw new Error("no commands");
  return { sender: entry.proposer, commands };
}

export type CommitReply =
  | {
      readonly outcome: "applied";
      readonly index: bigint;
      readonly results: readonly CommandResult[];
      /** The entries after the sender's applied index up to index, when the sequencer had them. */
      readonly entries?: readonly LogRecord[];
    }
  | { readonly outcome: "not-applied" | "unknown"; readonly error: string };

/** The HTTP status a reply is sent with. */
export function replyStatus(reply: CommitReply, notApplied: 400 | 401 | 409 | 503 = 503): number {
  return reply.outcome === "applied" ? 200 : reply.outcome === "unknown" ? 500 : notApplied;
}

/** A reply as sent: its body and the content type naming its form. */
export interface EncodedReply {
  readonly contentType: string;
  readonly body: string | Buffer;
}

const JSON_TYPE = "application/json";
/** The `accept` of this agent's commits and watches: framed answers, or JSON from a sequencer before them. */
export const REPLY_ACCEPT = `${FRAMED_REPLY_TYPE}, ${JSON_TYPE}`;

/** Whether a content type (or one of `accept`'s types) is FRAMED_REPLY_TYPE, its parameters aside. */
function isFramed(type: string | undefined): boolean {
  return type?.split(";")[0]!.trim().toLowerCase() === FRAMED_REPLY_TYPE;
}

/** Whether a request's `accept` names framed answers (reply-frame.ts); agents before them ask for none. */
export function acceptsFramedReply(accept: string | string[] | undefined): boolean {
  const values = Array.isArray(accept) ? accept.join(",") : (accept ?? "");
  return values.split(",").some(isFramed);
}

/** A reply's fields (`head`) and entries, framed or as JSON with the entries in base64. */
function encodeReply(head: object, entries: readonly LogRecord[] | undefined, framed: boolean): EncodedReply {
  if (framed) return { contentType: FRAMED_REPLY_TYPE, body: encodeReplyFrame(head, entries) };
  const json = entries?.map((r) => ({ index: r.index.toString(), data: r.data.toString("base64") }));
  return { contentType: JSON_TYPE, body: JSON.stringify(json ? { ...head, entries: json } : head) };
}

export function encodeCommitReply(reply: CommitReply, framed: boolean): EncodedReply {
  if (reply.outcome !== "applied") return encodeReply(reply, undefined, framed);
  const head = { outcome: reply.outcome, index: reply.index.toString(), results: reply.results };
  return encodeReply(head, reply.entries, framed);
}

/** The newest index a request's sender has folded (APPLIED_HEADER), or null. */
export function appliedIndexOf(header: string | string[] | undefined): bigint | null {
  return typeof header === "string" && /^[0-9]{1,20}$/.test(header) ? BigInt(header) : null;
}

/** A JSON reply's entries as records; undefined when absent or when one is not an index and base64 bytes. */
function jsonEntries(v: unknown): LogRecord[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const records: LogRecord[] = [];
  for (const e of v) {
    if (typeof e !== "object" || e === null) return undefined;
    const { index, data } = e as Record<string, unknown>;
    if (typeof index !== "string" || !/^[0-9]{1,20}$/.test(index) || typeof data !== "string" || !isBase64Text(data))
      return undefined;
    records.push({ index: BigInt(index), data: Buffer.from(data, "base64") });
  }
  return records;
}

/** A reply's entries: consecutive, ending at `index`; anything else and they are left out (the sender reads the log). */
function replyEntries(records: LogRecord[] | undefined, index: bigint): LogRecord[] | undefined {
  if (!records || records.length === 0) return undefined;
  for (let i = 1; i < records.length; i++) if (records[i]!.index !== records[i - 1]!.index + 1n) return undefined;
  return records.at(-1)!.index === index ? records : undefined;
}

/**
 * An answer's fields and entries: framed when its content type says so, else JSON (a sequencer before
 * framed answers, or whatever else answered). Fields are `{}` when the body does not parse.
 */
function parseReply(
  body: Buffer,
  contentType: string | undefined,
): { fields: Record<string, unknown>; entries: LogRecord[] | undefined; parsed: boolean } {
  const framed = isFramed(contentType);
  let head: unknown = null;
  let entries: LogRecord[] | undefined;
  if (framed) {
    const frame = decodeReplyFrame(body);
    if (frame) ({ head, entries } = frame);
  } else {
    try {
      head = JSON.parse(body.toString("utf8"));
    } catch {
      head = null;
    }
    if (typeof head === "object" && head !== null) entries = jsonEntries((head as Record<string, unknown>).entries);
  }
  const parsed = typeof head === "object" && head !== null;
  return { fields: (parsed ? head : {}) as Record<string, unknown>, entries, parsed };
}

/** What a reply that does not decode looked like, for the error naming it. */
function preview(body: Buffer, contentType: string | undefined): string {
  return isFramed(contentType)
    ? `${body.length} bytes of ${FRAMED_REPLY_TYPE} that do not decode`
    : body.toString("utf8", 0, 200);
}

function isNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function batchResult(v: unknown): BatchResult | null {
  if (typeof v !== "object" || v === null) return null;
  const { errorCode, baseOffset, logAppendTime, logStartOffset } = v as Record<string, unknown>;
  if (!isNumber(errorCode) || !isNumber(baseOffset) || !isNumber(logAppendTime) || !isNumber(logStartOffset))
    return null;
  return { errorCode, baseOffset, logAppendTime, logStartOffset };
}

function commandResult(v: unknown): CommandResult | null {
  if (typeof v !== "object" || v === null) return null;
  const { errorCode, message, batches } = v as Record<string, unknown>;
  if (!isNumber(errorCode)) return null;
  if (message !== undefined && typeof message !== "string") return null;
  let parsed: BatchResult[] | undefined;
  if (batches !== undefined) {
    if (!Array.isArray(batches)) return null;
    parsed = [];
    for (const b of batches) {
      const r = batchResult(b);
      if (!r) return null;
      parsed.push(r);
    }
  }
  return { errorCode, ...(message !== undefined ? { message } : {}), ...(parsed ? { batches: parsed } : {}) };
}

/**
 * A reply from its status, body and content type, for `commands` commands. A body that does not parse, or
 * answers another number of commands, says nothing sure: its outcome is unknown (a 200 means the log took
 * them).
 */
export function decodeCommitReply(
  status: number,
  body: Buffer,
  contentType: string | undefined,
  commands: number,
): CommitReply {
  const { fields: v, entries: carried } = parseReply(body, contentType);
  const error = typeof v.error === "string" ? v.error : `HTTP ${status}`;
  if (status === 200) {
    const results = Array.isArray(v.results) ? v.results.map(commandResult) : [];
    const index = typeof v.index === "string" && /^[0-9]+$/.test(v.index) ? BigInt(v.index) : null;
    if (v.outcome === "applied" && index !== null && results.length === commands && results.every((r) => r !== null)) {
      const entries = replyEntries(carried, index);
      return { outcome: "applied", index, results, ...(entries ? { entries } : {}) };
    }
    return { outcome: "unknown", error: `malformed reply from the sequencer: ${preview(body, contentType)}` };
  }
  // Only the sequencer's own word that nothing was appended counts as such.
  if (v.outcome === "not-applied" && status >= 400 && status < 500) return { outcome: "not-applied", error };
  if (v.outcome === "not-applied" && status === 503) return { outcome: "not-applied", error };
  return { outcome: "unknown", error };
}

// Tail watches (watcher.ts): an agent that is not the sequencer follows the log through it instead of
// polling the store at the active pace (docs/metadata-log.md section 14.6, "Watches").

export const WATCH_PATH = "/internal/v1/metadata/watch";
/**
 * A watch request's header: "1" when something waits on the watcher (a fetch, or a produce naming a topic
 * it does not know): the sequencer polls the log at once, and at its active pace while it holds the watch.
 */
export const WANTED_HEADER = "x-warp-tail-wanted";
/** How long the sequencer holds a watch that has nothing newer than the watcher's applied index (ms). */
export const WATCH_HOLD_MS = 1000;

export interface WatchReply {
  /** The sequencer's applied index when it answered. */
  readonly index: bigint;
  /** Its own tail was polled at the active pace then: what it has folded is as fresh as an active tail. */
  readonly active: boolean;
  /** The entries after the watcher's applied index up to index, when the sequencer had them. */
  readonly entries?: readonly LogRecord[];
}

export function encodeWatchReply(reply: WatchReply, framed: boolean): EncodedReply {
  return encodeReply({ index: reply.index.toString(), active: reply.active }, reply.entries, framed);
}

/** A watch's answer, or null when it is not a 200 or does not parse (the watcher polls the log itself). */
export function decodeWatchReply(status: number, body: Buffer, contentType: string | undefined): WatchReply | null {
  if (status !== 200) return null;
  const { fields: v, entries: carried, parsed } = parseReply(body, contentType);
  if (!parsed) return null;
  if (typeof v.index !== "string" || !/^[0-9]{1,20}$/.test(v.index) || typeof v.active !== "boolean") return null;
  const index = BigInt(v.index);
  const entries = replyEntries(carried, index);
  return { index, active: v.active, ...(entries ? { entries } : {}) };
}
