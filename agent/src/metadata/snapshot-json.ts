/**
 * JSON snapshots, formats 1–4 and 6 (docs/metadata-log.md, "Snapshots"): what agents wrote before binary
 * snapshots, and still write while a live agent does not read binary ones (snapshot-codec.ts). Version 2
 * carries ACLs, 3 SCRAM credentials too, 4 KIP-848 groups' state too, 6 topic numbers too (the store
 * gets them in binary format 6; ClusterState.toSnapshot, the form tests compare states in, may hold
 * them in JSON, so that it compares them too); a state without any is written as
 * version 1 (one without groups' state as at most 3, and so on), which agents that know none of them still
 * read (a rolling upgrade), while they refuse a newer snapshot instead of dropping what it holds.
 *
 * A JSON snapshot is one string of the whole state, stringified in one go: the event loop is held for
 * all of it, and V8's string limit caps its size. Binary snapshots (snapshot-binary.ts) have neither limit.
 */
import type { AclRow } from "./acls.js";
import type { OffsetCommitEntry } from "./commands.js";
import type { GroupFenceRow } from "./group-fence.js";
import type { ScramUserRow } from "./scram-credentials.js";
import { holdsTransactions, partitionsOf, topicOf, type SnapshotView } from "./snapshot-view.js";
import { NO_TRANSACTION_ROWS, type TransactionRows } from "./transactions.js";
import type { ConsumerGroupRecord } from "../groups/consumer-group-record.js";

/** The JSON snapshot formats this agent reads. */
export const JSON_SNAPSHOT_FORMATS: readonly number[] = [1, 2, 3, 4, 6, 7, 9];

/** A page segment (version 9) carries its RunPageRefs as a ninth column. */
type SegRow = [number, number, number, "i" | "c" | "p", string, number, number, number, PageCol?];
type PageCol = [number, number, string[]];
// Times (last use, log time) are absent from snapshots written before the fold kept them: 0, unknown.
// A producer's last timestamp likewise: −1, unknown.
type ProdRow = [number, number, Array<[number, number, number]>, number?, number?];

interface JsonSnapshot {
  v: number;
  applied: string;
  nextProducerId: number;
  logTime?: number;
  topics: Array<{
    name: string;
    topicId: string;
    configs: Record<string, string>;
    partitions: Array<{ next: number; start: number; bytes: number; segs: SegRow[]; prods: ProdRow[] }>;
  }>;
  groups: Array<[string, OffsetCommitEntry[], number?]>;
  /** Absent in snapshots written before groups had coordinator fences. */
  fences?: GroupFenceRow[];
  /** Version 2: the ACL bindings in creation order. */
  acls?: AclRow[];
  /** Version 3: SCRAM credentials by user. */
  scram?: ScramUserRow[];
  /** Version 4: KIP-848 groups' durable state, [group, record]. */
  cgroups?: Array<[string, ConsumerGroupRecord]>;
  /** Version 6: every topic number given, [name, topicId] in number order. */
  numbers?: Array<[string, string]>;
  /** Version 7: the transactions (transactions.ts rows). */
  txns?: TransactionRows;
}

export function encodeJsonSnapshot(view: SnapshotView): Buffer {
  const topics = view.topics.map((t) => ({
    name: t.name,
    topicId: t.topicId,
    configs: t.configs,
    partitions: partitionsOf(t).map((p) => ({
      next: p.next,
      start: p.start,
      bytes: p.bytes,
      segs: p.segments.map((s): SegRow => {
        const row: SegRow = [
          s.baseOffset,
          s.lastOffset,
          s.maxTimestamp,
          s.location.store,
          s.location.key,
          s.location.pos,
          s.location.len,
          s.appendTime,
        ];
        if (s.page) row.push([s.page.size, s.page.runs, [...s.page.objects]]);
        return row;
      }),
      prods: p.producers.map((st) => [
        st.producerId,
        st.epoch,
        st.batches.map((b) => [b.firstSeq, b.lastSeq, b.baseOffset]),
        st.time,
        st.lastTimestamp,
      ]),
    })),
  }));
  const groups = view.groups.map((g) => [g.group, g.offsets, g.time]);
  const { acls, scram, cgroups, topicNumbers } = view;
  const txns = holdsTransactions(view);
  return Buffer.from(
    JSON.stringify({
      v:
        view.pages > 0
          ? 9
          : txns
            ? 7
            : topicNumbers.length > 0
              ? 6
              : cgroups.length > 0
                ? 4
                : scram.length > 0
                  ? 3
                  : acls.length > 0
                    ? 2
                    : 1,
      applied: view.applied.toString(),
      nextProducerId: view.nextProducerId,
      logTime: view.logTime,
      topics,
      groups,
      fences: view.fences,
      ...(acls.length > 0 ? { acls } : {}),
      ...(scram.length > 0 ? { scram } : {}),
      ...(cgroups.length > 0 ? { cgroups } : {}),
      ...(topicNumbers.length > 0 ? { numbers: topicNumbers } : {}),
      ...(txns ? { txns: view.transactions } : {}),
    }),
    "utf8",
  );
}

/**
 * The view a JSON snapshot holds, once its version is known to be one of JSON_SNAPSHOT_FORMATS
 * (snapshot-codec.ts checks it). Rows are checked where the state restores them (ClusterState.fromView).
 */
export function jsonSnapshotView(raw: unknown): SnapshotView {
  const s = raw as JsonSnapshot;
  if (s.acls !== undefined && !Array.isArray(s.acls)) throw new Error("snapshot: acls is not an array");
  if (s.scram !== undefined && !Array.isArray(s.scram)) throw new Error("snapshot: scram is not an array");
  if (s.cgroups !== undefined && !Array.isArray(s.cgroups)) throw new Error("snapshot: cgroups is not an array");
  if (s.numbers !== undefined && !Array.isArray(s.numbers)) throw new Error("snapshot: numbers is not an array");
  if (s.txns !== undefined)
    for (const k of Object.keys(NO_TRANSACTION_ROWS))
      if (!Array.isArray((s.txns as unknown as Record<string, unknown>)[k]))
        throw new Error(`snapshot: txns.${k} is not an array`);
  let pages = 0;
  const topics = s.topics.map((t) =>
    topicOf(
      { name: t.name, topicId: t.topicId, configs: t.configs },
      t.partitions.map((p) => ({
        next: p.next,
        start: p.start,
        bytes: p.bytes,
        segments: p.segs.map(([baseOffset, lastOffset, maxTimestamp, store, key, pos, len, appendTime, page]) => {
          if (page) pages++;
          return {
            baseOffset,
            lastOffset,
            maxTimestamp,
            location: { store, key, pos, len },
            appendTime,
            ...(page ? { page: { size: page[0], runs: page[1], objects: page[2] } } : {}),
          };
        }),
        producers: p.prods.map(([producerId, epoch, batches, time, lastTimestamp]) => ({
          producerId,
          epoch,
          batches: batches.map(([firstSeq, lastSeq, baseOffset]) => ({ firstSeq, lastSeq, baseOffset })),
          time: time ?? 0,
          // null (a NaN written as JSON) stays, for the state to refuse.
          lastTimestamp: lastTimestamp === undefined ? -1 : lastTimestamp,
        })),
      })),
    ),
  );
  return {
    applied: BigInt(s.applied),
    nextProducerId: s.nextProducerId,
    logTime: s.logTime ?? 0,
    topics,
    groups: s.groups.map(([group, offsets, time]) => ({ group, offsets, time: time ?? 0 })),
    fences: s.fences ?? [],
    acls: s.acls ?? [],
    scram: s.scram ?? [],
    cgroups: s.cgroups ?? [],
    topicNumbers: s.numbers ?? [],
    transactions: s.txns ?? NO_TRANSACTION_ROWS,
    pages,
  };
}
