/**
 * What agents send the sequencer and what it answers (docs/metadata-log.md section 14.6). The request is
 * an HTTP POST on the sequencer's HTTP port whose body is a metadata log entry in the binary encoding,
 * naming topics (no topic numbers: the sender's and the sequencer's states need not agree on them), and
 * holding only commitFile commands; the sequencer decodes it with the log's own decoder. The answer is
 * JSON, and says which of three outcomes the commands had:
 *
 *   200 applied      {"outcome":"applied","index":"<entry index>","results":[...]}: in the log, applied at
 *                    or below index, with the fold's results in command order
 *   4xx/503 not-applied {"outcome":"not-applied","error":...}: nothing was appended (not the sequencer, a
 *                    bad token, a malformed body, or the log refused the commands before appending)
 *   500 unknown      {"outcome":"unknown","error":...}: the commands may be in the log or may land later
 *
 * The sequencer's address and the token a request carries (`authorization: Bearer <token>`) are in the
 * sequencer lease's item, which only readers of the metadata table see.
 */
import type { LeaseHolder } from "../background/lease.js";
import type { CommitFileCommand } from "../metadata/commands.js";
import { decodeEntry, encodeEntry } from "../metadata/entry-codec.js";
import type { BatchResult, CommandResult } from "../metadata/state.js";

export const SEQUENCER_LEASE_KEY = "lease/sequencer";
export const COMMIT_PATH = "/internal/v1/metadata/commit";

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

export function commitUrl(address: SequencerAddress): string {
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `http://${host}:${address.port}${COMMIT_PATH}`;
}

/** The request body: `commands` as one entry from `sender`. */
export function encodeCommitRequest(sender: string, seq: number, commands: readonly CommitFileCommand[]): Buffer {
  return encodeEntry({ proposer: sender, seq, time: Date.now(), commands }, "binary", null);
}

/** The commands of a request body; throws an Error naming what is wrong. */
export function decodeCommitRequest(body: Buffer): { readonly sender: string; readonly commands: CommitFileCommand[] } {
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
  | { readonly outcome: "applied"; readonly index: bigint; readonly results: readonly CommandResult[] }
  | { readonly outcome: "not-applied" | "unknown"; readonly error: string };

/** The HTTP status a reply is sent with. */
export function replyStatus(reply: CommitReply, notApplied: 400 | 401 | 409 | 503 = 503): number {
  return reply.outcome === "applied" ? 200 : reply.outcome === "unknown" ? 500 : notApplied;
}

export function encodeCommitReply(reply: CommitReply): string {
  return JSON.stringify(reply.outcome === "applied" ? { ...reply, index: reply.index.toString() } : reply);
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
 * A reply from its status and body, for `commands` commands. A body that does not parse, or answers
 * another number of commands, says nothing sure: its outcome is unknown (a 200 means the log took them).
 */
export function decodeCommitReply(status: number, body: string, commands: number): CommitReply {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = null;
  }
  const v = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const error = typeof v.error === "string" ? v.error : `HTTP ${status}`;
  if (status === 200) {
    const results = Array.isArray(v.results) ? v.results.map(commandResult) : [];
    const index = typeof v.index === "string" && /^[0-9]+$/.test(v.index) ? BigInt(v.index) : null;
    if (v.outcome === "applied" && index !== null && results.length === commands && results.every((r) => r !== null))
      return { outcome: "applied", index, results };
    return { outcome: "unknown", error: `malformed reply from the sequencer: ${body.slice(0, 200)}` };
  }
  // Only the sequencer's own word that nothing was appended counts as such.
  if (v.outcome === "not-applied" && status >= 400 && status < 500) return { outcome: "not-applied", error };
  if (v.outcome === "not-applied" && status === 503) return { outcome: "not-applied", error };
  return { outcome: "unknown", error };
}
