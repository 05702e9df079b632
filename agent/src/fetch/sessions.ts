/**
 * Incremental fetch sessions (KIP-227), following Kafka's FetchManager, FetchSession and
 * FetchSessionCacheShard rules so that clients see what a Kafka broker would answer.
 *
 * A Fetch names a session id and an epoch:
 *   - epoch 0 (full fetch): a session named by the id is closed; the request lists every partition,
 *     the response answers every one, and a new session holding them is created when the cache has
 *     room (its id is answered; 0 when there was no room, and the client keeps sending full fetches);
 *   - epoch −1 (final, or sessionless as librdkafka and kafkajs always send): a session named by the
 *     id is closed and no new one is created; the response answers every partition, session id 0;
 *   - any other epoch (incremental): the session must exist (else FETCH_SESSION_ID_NOT_FOUND) and
 *     expect exactly this epoch (else INVALID_FETCH_SESSION_EPOCH). The request lists only partitions
 *     to add or whose fetch position changed, and `forgottenTopicsData` those to remove; every partition
 *     of the session is read, and the response lists only those with something to say: records, a
 *     high watermark, last stable offset or log start offset other than last answered, or an error (after which
 *     the partition is answered again once the error is gone). A session left with no partitions is
 *     closed and the request answered as sessionless. Partitions that returned records move to the end
 *     of the session's order, so a response cut short by maxBytes does not starve the last ones.
 *
 * The cache holds at most `slots` sessions. With no free slot a full fetch may evict, as Kafka does,
 * the least recently used session if it was unused for `evictionMs` (Kafka: 2 minutes, fixed), or else
 * the session with the fewest partitions among those not recently created, and only for a new session
 * with more partitions than it.
 *
 * Sessions live in this agent's memory only: another agent, or this one after a restart, answers an
 * incremental fetch FETCH_SESSION_ID_NOT_FOUND and the client starts over with a full fetch.
 * Topic ids on the wire (Fetch v13+) are not served, so sessions are keyed by topic name and
 * FETCH_SESSION_TOPIC_ID_ERROR never arises.
 */
import { randomInt } from "node:crypto";
import { ErrorCode } from "../protocol/index.js";

/** The session id of "no session" (requests and responses). */
const INVALID_SESSION_ID = 0;
/** Epoch of a full fetch that asks for a new session. */
const INITIAL_EPOCH = 0;
/** Epoch of a full fetch that closes its session and asks for none (and of sessionless fetches). */
const FINAL_EPOCH = -1;

const MAX_INT32 = 2_147_483_647;

/** Kafka's FetchMetadata.nextEpoch: 1, 2, ... wrapping past int32 max to 1; negative epochs stay final. */
export function nextEpoch(epoch: number): number {
  if (epoch < 0) return FINAL_EPOCH;
  return epoch === MAX_INT32 ? 1 : epoch + 1;
}

/** Kafka's fixed eviction time (KafkaBroker.MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS). */
const DEFAULT_SESSION_EVICTION_MS = 120_000;

/** The fields of a Fetch request that sessions read (the decoded FetchRequest satisfies it). */
export interface FetchSessionRequest {
  readonly sessionId: number;
  readonly sessionEpoch: number;
  readonly topics: ReadonlyArray<{
    readonly topic: string;
    readonly partitions: ReadonlyArray<{
      readonly partition: number;
      readonly fetchOffset: bigint;
      readonly partitionMaxBytes: number;
    }>;
  }>;
  readonly forgottenTopicsData: ReadonlyArray<{ readonly topic: string; readonly partitions: readonly number[] }>;
}

/** One partition to read: where from and how much. */
export interface FetchPartition {
  readonly topic: string;
  readonly partition: number;
  /** A number, as offsets are in the folded state (a session keeps no bigint alive). */
  readonly fetchOffset: number;
  readonly partitionMaxBytes: number;
}

/** What was answered for one partition: the fields a session compares with what it answered last. */
export interface FetchPartitionResult {
  readonly topic: string;
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly highWatermark: bigint;
  readonly lastStableOffset: bigint;
  readonly logStartOffset: bigint;
  /** Record bytes in the answer (0 when none). */
  readonly recordBytes: number;
}

/** How a request was answered, for metrics: one count per Fetch request, when it is answered. */
export type FetchSessionOutcome =
  /** Epoch −1, or a session emptied by forgetting all its partitions: no session. */
  | "sessionless"
  /** A full fetch for which a session was created. */
  | "created"
  /** A full fetch for which no session could be created (no free slot, none evictable). */
  | "not_created"
  /** An incremental fetch served from its session. */
  | "incremental"
  /** FETCH_SESSION_ID_NOT_FOUND. */
  | "id_not_found"
  /** INVALID_FETCH_SESSION_EPOCH (on arrival, or when another request of the session overtook it). */
  | "invalid_epoch";

/** The answer's session fields and the partitions it lists. */
export interface FetchSessionAnswer<R extends FetchPartitionResult> {
  readonly errorCode: number;
  readonly sessionId: number;
  readonly partitions: R[];
}

/**
 * One Fetch request's view of the session cache: the partitions to read, and `complete`, which turns
 * what was read into the answer (creating or updating the session). An "error" context has no
 * partitions to read.
 */
export interface FetchContext {
  readonly kind: "error" | "sessionless" | "full" | "incremental";
  /** Partitions to read, in the order to read them. */
  readonly partitions: readonly FetchPartition[];
  /** Called once, with one result per partition of `partitions`, in the same order. */
  complete<R extends FetchPartitionResult>(results: R[]): FetchSessionAnswer<R>;
}

/**
 * A partition of a session. Offsets are numbers: sessions live long, and bigints stored in them would
 * be kept alive (and moved to the old generation) at every fetch.
 */
interface CachedPartition {
  readonly topic: string;
  readonly partition: number;
  fetchOffset: number;
  partitionMaxBytes: number;
  /** Last answered; −1 after an error so that the partition is answered again once it clears. */
  highWatermark: number;
  lastStableOffset: number;
  logStartOffset: number;
}

interface Session {
  readonly id: number;
  readonly createdMs: number;
  lastUsedMs: number;
  /** The epoch the next incremental request must carry. */
  epoch: number;
  /** By topic, then partition (no key strings to build on the hot path). */
  readonly byTopic: Map<string, Map<number, CachedPartition>>;
  /** The partitions in reading order (Kafka's ImplicitLinkedHashCollection order). */
  order: CachedPartition[];
  /** Partition count as of the last use (the eviction key, as Kafka's cachedSize). */
  size: number;
  /** Whether it was older than the eviction time at its last use (may then give way to a larger session). */
  evictable: boolean;
}

const key = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

/** A partition new to a session: nothing answered yet. */
function newCachedPartition(
  topic: string,
  partition: number,
  fetchOffset: number,
  partitionMaxBytes: number,
): CachedPartition {
  return {
    topic,
    partition,
    fetchOffset,
    partitionMaxBytes,
    highWatermark: -1,
    lastStableOffset: -1,
    logStartOffset: -1,
  };
}

function indexByTopic(order: readonly CachedPartition[]): Map<string, Map<number, CachedPartition>> {
  const byTopic = new Map<string, Map<number, CachedPartition>>();
  for (const c of order) {
    let inTopic = byTopic.get(c.topic);
    if (!inTopic) byTopic.set(c.topic, (inTopic = new Map()));
    inTopic.set(c.partition, c);
  }
  return byTopic;
}

/** Kafka's CachedPartition.maybeUpdateResponseData: whether to answer the partition, updating what was answered. */
function mustRespond(cached: CachedPartition, r: FetchPartitionResult): boolean {
  let respond = r.recordBytes > 0;
  const highWatermark = Number(r.highWatermark);
  if (cached.highWatermark !== highWatermark) {
    respond = true;
    cached.highWatermark = highWatermark;
  }
  // Kafka compares the log start offset; the last stable offset as well here, so that a change of it
  // alone (read_committed, once transactions exist) is never left out.
  const lastStableOffset = Number(r.lastStableOffset);
  if (cached.lastStableOffset !== lastStableOffset) {
    respond = true;
    cached.lastStableOffset = lastStableOffset;
  }
  const logStartOffset = Number(r.logStartOffset);
  if (cached.logStartOffset !== logStartOffset) {
    respond = true;
    cached.logStartOffset = logStartOffset;
  }
  if (r.errorCode !== ErrorCode.NONE) {
    respond = true;
    cached.highWatermark = -1;
  }
  return respond;
}

/**
 * The request's partitions in order; a partition named twice is read once, where first named, with
 * the last values named (Kafka builds a LinkedHashMap). Keys are built only when a topic or partition
 * repeats, which clients do not do.
 */
function requestedPartitions(request: FetchSessionRequest): FetchPartition[] {
  const out: FetchPartition[] = [];
  const topics = new Set<string>();
  let repeats = false;
  for (const t of request.topics) {
    if (topics.has(t.topic)) repeats = true;
    topics.add(t.topic);
    const seen = new Set<number>();
    for (const p of t.partitions) {
      if (seen.has(p.partition)) repeats = true;
      seen.add(p.partition);
      out.push({
        topic: t.topic,
        partition: p.partition,
        fetchOffset: Number(p.fetchOffset),
        partitionMaxBytes: p.partitionMaxBytes,
      });
    }
  }
  if (!repeats) return out;
  const byKey = new Map<string, FetchPartition>();
  for (const p of out) byKey.set(key(p.topic, p.partition), p);
  return [...byKey.values()];
}

export interface FetchSessionCacheOptions {
  /** Most sessions held at once (Kafka's max.incremental.fetch.session.cache.slots); 0 keeps none. */
  readonly slots: number;
  /** Unused this long, a session may be evicted for any new one (default Kafka's 2 minutes). */
  readonly evictionMs?: number;
  readonly now?: () => number;
  /** Called once per request with how it was answered. */
  readonly onOutcome?: (outcome: FetchSessionOutcome) => void;
  /** Called for each session evicted to make room. */
  readonly onEviction?: () => void;
}

export class FetchSessionCache {
  /** By id, least recently used first (a use moves a session to the end). */
  private readonly sessions = new Map<number, Session>();
  private cachedPartitions = 0;
  private readonly evictionMs: number;
  private readonly now: () => number;
  /** Requests by outcome and sessions evicted, since start (the metrics count the same across agents). */
  readonly counts: Record<FetchSessionOutcome | "evicted", number> = {
    sessionless: 0,
    created: 0,
    not_created: 0,
    incremental: 0,
    id_not_found: 0,
    invalid_epoch: 0,
    evicted: 0,
  };

  constructor(private readonly options: FetchSessionCacheOptions) {
    if (!Number.isInteger(options.slots) || options.slots < 0)
      throw new Error(`fetch session slots must be a whole number ≥ 0, got ${options.slots}`);
    this.evictionMs = options.evictionMs ?? DEFAULT_SESSION_EVICTION_MS;
    this.now = options.now ?? Date.now;
  }

  /** Sessions held. */
  get size(): number {
    return this.sessions.size;
  }

  /** Partitions held over all sessions (as of each session's last use). */
  get partitions(): number {
    return this.cachedPartitions;
  }

  /** The ids of the sessions held, least recently used first. */
  sessionIds(): number[] {
    return [...this.sessions.keys()];
  }

  private count(outcome: FetchSessionOutcome): void {
    this.counts[outcome]++;
    this.options.onOutcome?.(outcome);
  }

  /** Starts answering one Fetch request (Kafka's FetchManager.newContext). */
  open(request: FetchSessionRequest): FetchContext {
    const { sessionId, sessionEpoch: epoch } = request;
    if (epoch === INITIAL_EPOCH || epoch === FINAL_EPOCH) {
      // Any session a full fetch names is closed.
      if (sessionId !== INVALID_SESSION_ID) this.remove(sessionId);
      const partitions = requestedPartitions(request);
      return epoch === FINAL_EPOCH ? this.sessionless(partitions) : this.full(partitions);
    }
    const session = this.sessions.get(sessionId);
    if (!session) return this.error(ErrorCode.FETCH_SESSION_ID_NOT_FOUND, "id_not_found");
    if (session.epoch !== epoch) return this.error(ErrorCode.INVALID_FETCH_SESSION_EPOCH, "invalid_epoch");

    for (const t of request.topics) {
      for (const p of t.partitions) {
        let inTopic = session.byTopic.get(t.topic);
        if (!inTopic) session.byTopic.set(t.topic, (inTopic = new Map()));
        const cached = inTopic.get(p.partition);
        if (cached) {
          cached.fetchOffset = Number(p.fetchOffset);
          cached.partitionMaxBytes = p.partitionMaxBytes;
        } else {
          const added = newCachedPartition(t.topic, p.partition, Number(p.fetchOffset), p.partitionMaxBytes);
          inTopic.set(p.partition, added);
          session.order.push(added);
        }
      }
    }
    let forgot = false;
    for (const t of request.forgottenTopicsData) {
      const inTopic = session.byTopic.get(t.topic);
      if (!inTopic) continue;
      for (const p of t.partitions) if (inTopic.delete(p)) forgot = true;
      if (inTopic.size === 0) session.byTopic.delete(t.topic);
    }
    if (forgot) session.order = session.order.filter((c) => session.byTopic.get(c.topic)?.get(c.partition) === c);
    if (session.order.length === 0) {
      this.remove(session.id);
      return this.sessionless(requestedPartitions(request));
    }
    this.touch(session);
    session.epoch = nextEpoch(session.epoch);
    return this.incremental(session, epoch);
  }

  private error(errorCode: number, outcome: FetchSessionOutcome): FetchContext {
    return {
      kind: "error",
      partitions: [],
      complete: () => {
        this.count(outcome);
        return { errorCode, sessionId: INVALID_SESSION_ID, partitions: [] };
      },
    };
  }

  private sessionless(partitions: FetchPartition[]): FetchContext {
    return {
      kind: "sessionless",
      partitions,
      complete: (results) => {
        this.count("sessionless");
        return { errorCode: ErrorCode.NONE, sessionId: INVALID_SESSION_ID, partitions: results };
      },
    };
  }

  private full(partitions: FetchPartition[]): FetchContext {
    return {
      kind: "full",
      partitions,
      complete: (results) => {
        const id = this.maybeCreate(partitions, results);
        this.count(id === INVALID_SESSION_ID ? "not_created" : "created");
        return { errorCode: ErrorCode.NONE, sessionId: id, partitions: results };
      },
    };
  }

  private incremental(session: Session, requestEpoch: number): FetchContext {
    // The session's own entries are read (no copies): a later request of the session may change them
    // while this one waits, but this one is then answered INVALID_FETCH_SESSION_EPOCH, its reads unused.
    const cached = [...session.order];
    return {
      kind: "incremental",
      partitions: cached,
      complete: (results) => {
        // Another request of this session came in while this one waited: it is the one the client follows.
        if (session.epoch !== nextEpoch(requestEpoch)) {
          this.count("invalid_epoch");
          return { errorCode: ErrorCode.INVALID_FETCH_SESSION_EPOCH, sessionId: session.id, partitions: [] };
        }
        // No other request of the session came in meanwhile (the epoch says so): `cached` is its order.
        // Partitions answered with records go to the end, in the order read.
        const stay: CachedPartition[] = [];
        const moved: CachedPartition[] = [];
        const answered = results.filter((r, i) => {
          const c = cached[i]!;
          const respond = mustRespond(c, r);
          (respond && r.recordBytes > 0 ? moved : stay).push(c);
          return respond;
        });
        session.order = moved.length === 0 ? stay : stay.concat(moved);
        this.count("incremental");
        return { errorCode: ErrorCode.NONE, sessionId: session.id, partitions: answered };
      },
    };
  }

  /** A new session holding the full fetch's partitions with what was answered, or 0 when there is no room. */
  private maybeCreate(partitions: readonly FetchPartition[], results: readonly FetchPartitionResult[]): number {
    const now = this.now();
    if (this.sessions.size >= this.options.slots && !this.evictFor(partitions.length, now)) return INVALID_SESSION_ID;
    const order = partitions.map((p, i) => {
      const r = results[i]!;
      const c = newCachedPartition(p.topic, p.partition, p.fetchOffset, p.partitionMaxBytes);
      // An errored partition is answered again once the error clears (Kafka answers errors with −1).
      if (r.errorCode === ErrorCode.NONE) c.highWatermark = Number(r.highWatermark);
      c.lastStableOffset = Number(r.lastStableOffset);
      c.logStartOffset = Number(r.logStartOffset);
      return c;
    });
    let id: number;
    do id = randomInt(1, MAX_INT32);
    while (this.sessions.has(id));
    const session: Session = {
      id,
      createdMs: now,
      lastUsedMs: now,
      epoch: nextEpoch(INITIAL_EPOCH),
      byTopic: indexByTopic(order),
      order,
      size: 0,
      evictable: false,
    };
    this.sessions.set(id, session);
    this.touch(session);
    return id;
  }

  /**
   * Kafka's FetchSessionCacheShard.tryEvict: the least recently used session if unused for the eviction
   * time, else the smallest session not recently created if the new one is larger.
   */
  private evictFor(size: number, now: number): boolean {
    const oldest = this.sessions.values().next();
    if (oldest.done) return false;
    let victim: Session | null = null;
    if (now - oldest.value.lastUsedMs > this.evictionMs) victim = oldest.value;
    else {
      for (const s of this.sessions.values()) {
        if (!s.evictable) continue;
        if (!victim || s.size < victim.size || (s.size === victim.size && s.id < victim.id)) victim = s;
      }
      if (!victim || size <= victim.size) return false;
    }
    this.remove(victim.id);
    this.counts.evicted++;
    this.options.onEviction?.();
    return true;
  }

  /** Marks a session used now: it moves to the most recently used end and its size is recounted. */
  private touch(session: Session): void {
    const now = this.now();
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
    session.lastUsedMs = now;
    this.cachedPartitions += session.order.length - session.size;
    session.size = session.order.length;
    session.evictable = now - session.createdMs > this.evictionMs;
  }

  private remove(id: number): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.cachedPartitions -= session.size;
  }
}
