/**
 * Starts an agent: opens the stores, replays the metadata log, and serves Kafka and HTTP. The returned
 * handle's stop() drains in-flight produce requests before closing.
 */
import { createHash, randomUUID } from "node:crypto";
import { formatBucketUrl, type BucketUrl } from "../../common/bucket-url.js";
import { componentLogger, errorMessage } from "../../common/logger.js";
import { DynamicCluster } from "./cluster/dynamic-cluster.js";
import { AgentRegistry } from "./cluster/registry.js";
import { SingleAgentCluster } from "./cluster/static-cluster.js";
import { coordinatesHere } from "./cluster/types.js";
import { CompactionBacklog } from "./background/backlog.js";
import { startBackgroundJobs } from "./background/jobs.js";
import { copiesInWorker, WorkerCopier } from "./background/compaction-copier.js";
import { DEFAULT_COPY_LIMITS } from "./background/compaction-copy.js";
import type { BackgroundJobs } from "./background/jobs.js";
import type { AgentConfig } from "./config/parse.js";
import { ObjectCache } from "./fetch/object-cache.js";
import { PartitionReader } from "./fetch/reader.js";
import { FetchSessionCache } from "./fetch/sessions.js";
import { GroupCoordinator } from "./groups/coordinator.js";
import "./handlers/index.js";
import { startHttpServer } from "./http/server.js";
import { IngestionHealth } from "./ingest/health.js";
import { IngestionBatcher } from "./ingest/batcher.js";
import { TransactionCoordinator } from "./transactions/coordinator.js";
import { LogGroupOffsetStore } from "./metadata/group-offsets.js";
import { CommitForwarder } from "./sequencer/forwarder.js";
import { SequencerRole } from "./sequencer/role.js";
import { TailWatcher } from "./sequencer/watcher.js";
import { COMMIT_PATH, WATCH_PATH } from "./sequencer/wire.js";
import { MetadataLog } from "./metadata/log.js";
import { ENTRY_FORMAT } from "./metadata/commands.js";
import { LATEST_ENTRY_FORMAT, entryFormatFor } from "./metadata/entry-codec.js";
import * as metrics from "./metrics/metrics.js";
import { countErrorCodes } from "./metrics/response-errors.js";
import type { SaslSettings } from "./security/authenticator.js";
import { Authorizer } from "./security/authorizer.js";
import { jwksUrlForLogs } from "./security/jwks.js";
import { loadListenerSecurity, securityProtocol } from "./security/listener.js";
import { watchTlsFiles, watchUsersFile } from "./security/reload.js";
import { SaslUsers } from "./security/users.js";
import type { AgentContext } from "./server/context.js";
import { startKafkaServer } from "./server/server.js";
import { PartitionWaiters } from "./server/waiters.js";
import { storeUsage } from "./store/usage.js";
import type { UsageEvent } from "./store/usage.js";
import { measureStores, type StoreCall } from "./store/measured.js";
import { openStores } from "./store/open/open-stores.js";
import { TopicService } from "./metadata/topics.js";

/** How often an agent looks for recorded KIP-848 groups of its own that nobody loaded (adoptRecordedGroups). */
const ADOPT_INTERVAL_MS = 30_000;
/** ...and only when its view of the cluster has not changed for this long. */
const ADOPT_AFTER_STILL_MS = 20_000;
export interface RunningAgent {
  readonly kafkaPort: number;
  readonly httpPort: number;
  readonly context: AgentContext;
  /** Stops accepting work, drains in-flight produce requests, writes a snapshot and closes. */
  stop(): Promise<void>;
  /**
   * Settles when the agent stopped itself on an error it cannot recover from (a metadata log entry or
   * snapshot it cannot read: metadata/log.ts halted), after stopping, with that error. Never rejects.
   */
  readonly failed: Promise<Error>;
}

/**
 * Tail polls of a shared metadata log (docs/metadata-log.md section 5): every 50 ms while the log moves or
 * a fetch waits on it, backing off to -metadataIdlePollInterval on a quiet log with nothing waiting.
 */
const TAIL_ACTIVE_MS = 50;

/** A stable cluster id derived from where the data lives (22 chars, as Kafka's base64 UUIDs). */
function deriveClusterId(seed: string): string {
  return createHash("sha256").update(seed).digest("base64url").slice(0, 22);
}

/**
 * Where the partitions' data lives, as DescribeLogDirs names it: the compaction store's URL without its
 * endpoint (an endpoint override is a detail of how this agent reaches the store, and may carry more).
 */
function dataLocation(url: BucketUrl): string {
  return formatBucketUrl(url.kind === "dynamodb" || url.kind === "s3" ? { ...url, endpoint: undefined } : url);
}

/** Store usage events become Prometheus counters (DynamoDB units, S3 requests by type). */
function exportUsage(event: UsageEvent): void {
  if (event.kind === "s3Request") {
    metrics.s3Requests.inc({ type: event.type }, event.count);
    return;
  }
  const kind = event.kind === "dynamoRead" ? "read" : "write";
  metrics.dynamodbCapacityUnits.inc({ table: event.table, kind }, event.units);
  if (event.key) metrics.dynamodbPartitionKeyCapacityUnits.inc({ key: event.key, kind }, event.units);
}

function exportStoreCall(call: StoreCall): void {
  metrics.storeOperations.inc({ store: call.store, op: call.op, outcome: call.outcome });
  metrics.storeOperationLatency.observe({ store: call.store, op: call.op }, call.seconds);
}

export async function startAgent(config: AgentConfig): Promise<RunningAgent> {
  const logger = componentLogger("agent");
  // TLS files and the SASL users file are read first: a bad one stops start-up before anything is opened.
  const security = await loadListenerSecurity(config, componentLogger("kafka"));
  if (security.sasl?.mechanisms.includes("PLAIN") && !security.tls) {
    logger.warn(
      "SASL/PLAIN without TLS: passwords cross the network in clear; set -kafkaTLSCertFile and -kafkaTLSKeyFile",
    );
  }
  const authz = config.authorization;
  if (authz.enabled && authz.superUsers.length === 0 && !authz.allowEveryoneIfNoAclFound)
    logger.warn(
      "authorization is on without -superUsers: only ACLs already in the metadata log allow anything, and nobody may create the first ones",
    );
  if (authz.enabled && !security.sasl && !security.tls?.mutual)
    logger.warn(
      "authorization is on but the listener authenticates nobody (no SASL, no mutual TLS): every client is User:ANONYMOUS",
    );
  if (security.sasl?.mechanisms.includes("OAUTHBEARER") && !security.tls) {
    logger.warn(
      "SASL/OAUTHBEARER without TLS: bearer tokens cross the network in clear and can be replayed until they expire; set -kafkaTLSCertFile and -kafkaTLSKeyFile",
    );
  }
  const oauth = config.kafkaSASL?.oauth;
  if (oauth && oauth.issuer === undefined && oauth.audience.length === 0) {
    logger.warn(
      "SASL/OAUTHBEARER accepts any token the JWKS keys signed, whatever its issuer and audience; set -kafkaSASLOAuthIssuer and -kafkaSASLOAuthAudience",
    );
  }
  const stopUsageExport = storeUsage.onChange(exportUsage);
  const stores = measureStores(
    await openStores({
      ...(config.bucketUrl ? { bucketUrl: config.bucketUrl } : {}),
      ...(config.ingestionBucketUrl ? { ingestionBucketUrl: config.ingestionBucketUrl } : {}),
      ...(config.compactionBucketUrl ? { compactionBucketUrl: config.compactionBucketUrl } : {}),
      createTables: config.createTables,
    }),
    exportStoreCall,
  );
  const compactionUrl = (config.compactionBucketUrl ?? config.bucketUrl)!;
  const ingestionUrl = (config.ingestionBucketUrl ?? config.bucketUrl)!;
  // On DynamoDB and S3 the lease holder copies compaction data in a worker thread (compaction-copier.ts),
  // unless -compactionWorker=false.
  const copier = copiesInWorker(ingestionUrl, compactionUrl, config.compactionWorker)
    ? new WorkerCopier(
        { ingestion: ingestionUrl, compaction: compactionUrl, limits: DEFAULT_COPY_LIMITS },
        exportStoreCall,
      )
    : undefined;
  const agentId = randomUUID();
  const singleWriter = stores.metadata.kind === "file" || stores.metadata.kind === "mem";
  const ingestionExpires = stores.ingestion.kind === "dynamodb";
  let jobs: BackgroundJobs | null = null;
  // The newest entry format every live agent reads (docs/metadata-log.md, "Entry formats"); on a shared
  // store, format 1 until the registry has read the members (nothing is proposed before).
  let readersFormat = (): number => (singleWriter ? LATEST_ENTRY_FORMAT : ENTRY_FORMAT.first);
  let reportUnreadable!: (error: Error) => void;
  const unreadable = new Promise<Error>((resolve) => (reportUnreadable = resolve));
  // As the sequencer: an agent watching the log through this one has a fetch waiting (set below).
  let watchersWant = (): boolean => false;
  const log = new MetadataLog(stores.metadata, {
    tailIntervalMs: singleWriter ? 0 : TAIL_ACTIVE_MS,
    tailIdleIntervalMs: Math.max(TAIL_ACTIVE_MS, config.metadataIdlePollMs),
    // A long-polling fetch waits on data other agents may commit: polls stay at the active interval.
    tailWanted: () => waiters.waitingPartitions > 0 || watchersWant(),
    snapshotEveryEntries: config.metadataSnapshotEntries,
    entryTtlMs: config.metadataLogEntryTtlMs,
    keepEntriesAfterSnapshot: 1000,
    writesSnapshots: () => singleWriter || (jobs?.isLeader() ?? false),
    // The holder's snapshot and its compaction pass do not overlap (background/jobs.ts).
    snapshotWaits: () => jobs?.passRunning() ?? false,
    logger: componentLogger("metadata-log"),
    onAppend: (result, seconds) => {
      metrics.logAppends.inc({ result });
      metrics.logAppendLatency.observe(seconds);
    },
    onApplied: (index) => metrics.logAppliedIndex.set(Number(index)),
    onEntry: ({ attempts, queuedSeconds, appendingSeconds }) => {
      metrics.logEntryAttempts.observe(attempts);
      metrics.logEntryLatency.observe({ phase: "queued" }, queuedSeconds);
      metrics.logEntryLatency.observe({ phase: "appending" }, appendingSeconds);
    },
    onSnapshot: ({ encodeSeconds, bytes, seconds, loopDelayP99Seconds }) => {
      metrics.snapshotEncodeLatency.observe(encodeSeconds);
      metrics.snapshotBytes.set(bytes);
      metrics.snapshotLatency.observe(seconds);
      metrics.snapshotLoopDelay.observe(loopDelayP99Seconds);
    },
    onSnapshotFailed: () => metrics.snapshotFailures.inc(),
    onEntriesRenewed: (count) => metrics.logEntriesRenewed.inc(count),
    readersFormat: () => readersFormat(),
    onUnreadable: (error) => reportUnreadable(error),
    // As the sequencer, an aligned window's commits wait briefly for each other (metadata/gather.ts).
    ...(!singleWriter && config.sequencer ? { gatherLingerMs: config.sequencerLingerMs } : {}),
  });
  const waiters = new PartitionWaiters(() => log.wakeTail());
  // The group coordinator starts after the log is replayed; until then there is no group to drop.
  let groupCoordinatorChanged = (_groupId: string): void => {};
  log.listener = {
    partitionAppended: (topic, partition) => waiters.notify(topic, partition),
    topicsChanged: () => waiters.notifyAll(),
    groupCoordinatorChanged: (groupId) => groupCoordinatorChanged(groupId),
  };
  await log.open();

  // Every agent sees the cluster's compaction backlog in its folded state (background/backlog.ts).
  const backlog = new CompactionBacklog(() => log.state, {
    limitMs: config.maxUncompactedAgeMs,
    logger: componentLogger("compaction"),
  });
  metrics.setCompactionBacklogProbe(() => backlog.oldestAgeMs());

  const cache = new ObjectCache(config.fetchCacheBytes);
  // Agents sharing a store step out of the cluster while their ingestion writes fail (ingest/health.ts).
  const ingestionHealth = new IngestionHealth();
  // Agents sharing a log commit their files through the sequencer (sequencer/forwarder.ts).
  const sequencer =
    !singleWriter && config.sequencer
      ? new SequencerRole({
          store: stores.metadata,
          log,
          logger: componentLogger("sequencer"),
          onHeld: (held) => metrics.sequencerHeld.set(held ? 1 : 0),
          onRequest: (outcome, commands) => {
            metrics.sequencerRequests.inc({ outcome });
            if (outcome === "applied") metrics.sequencerCommands.inc(commands);
          },
        })
      : null;
  const committer = sequencer
    ? new CommitForwarder(
        log,
        {
          sequencer: () => sequencer.address(),
          isSequencer: () => sequencer.isHeld(),
          logger: componentLogger("sequencer"),
          onCommit: (route) => metrics.fileCommits.inc({ route }),
          onRequest: (outcome, _commits, seconds) => metrics.forwardedRequestLatency.observe({ outcome }, seconds),
        },
        agentId,
      )
    : log;
  // Agents that are not the sequencer follow the log through it instead of polling (sequencer/watcher.ts).
  const watcher = sequencer
    ? new TailWatcher(log, {
        sequencer: () => sequencer.address(),
        wanted: () => waiters.waitingPartitions > 0,
        logger: componentLogger("sequencer"),
        onWatch: (outcome) => metrics.tailWatches.inc({ outcome }),
      })
    : null;
  if (sequencer) watchersWant = () => sequencer.watchersWant();
  const batcher = new IngestionBatcher({
    health: ingestionHealth,
    store: stores.ingestion,
    log: committer,
    batchTimeoutMs: config.batchTimeoutMs,
    sealMode: config.sealMode,
    sealIdleGapMs: config.sealIdleGapMs,
    alignWindows: config.windowAlign,
    maxFileBytes: config.maxFileBytes,
    maxBufferedBytes: config.maxProduceBufferBytes,
    refusal: () => backlog.refusal(),
    keyPrefix: `ingest/${agentId.slice(0, 8)}-`,
    // DynamoDB ingestion files carry a TTL: expiry is free where a delete is billed like a write.
    ...(ingestionExpires ? { expireAfterMs: config.ingestionTtlMs } : {}),
    logger: componentLogger("ingest"),
    onFileWritten: (key, data) => cache.put(key, data),
    onFileCommitted: ({ bytes, batches, writeSeconds, phases, sealed }) => {
      metrics.filesWritten.inc({ sealed });
      metrics.fileBytes.observe(bytes);
      metrics.fileBatches.observe(batches);
      metrics.fileWriteLatency.observe(writeSeconds);
      for (const [phase, seconds] of Object.entries(phases)) metrics.filePhaseLatency.observe({ phase }, seconds);
    },
  });
  metrics.setProduceBufferProbe(() => batcher.bufferedBytes);
  const reader = new PartitionReader(stores.ingestion, stores.compaction, cache);
  const fetchSessions = new FetchSessionCache({
    slots: config.fetchSessionCacheSlots,
    ...(config.fetchSessionEvictionMs !== undefined ? { evictionMs: config.fetchSessionEvictionMs } : {}),
    onOutcome: (result) => metrics.fetchSessionRequests.inc({ result }),
    onEviction: () => metrics.fetchSessionEvictions.inc(),
  });
  metrics.setFetchSessionProbe({ sessions: () => fetchSessions.size, partitions: () => fetchSessions.partitions });
  const topics = new TopicService(log, {
    autoCreate: config.autoCreateTopics,
    defaultPartitions: config.defaultPartitions,
    logger: componentLogger("topics"),
  });
  const clusterId = config.clusterId ?? deriveClusterId(JSON.stringify([config.bucketUrl, config.ingestionBucketUrl]));
  const advertisedPort = config.advertisedPort ?? config.kafkaPort;
  // Agents sharing a DynamoDB log form one cluster through a registry of heartbeats; an agent on an
  // embedded store is alone.
  const registry = singleWriter
    ? null
    : await AgentRegistry.start({
        store: stores.metadata,
        host: config.advertisedHost,
        port: advertisedPort,
        zone: config.availabilityZone,
        logger: componentLogger("cluster"),
        dataPathProblem: () => ingestionHealth.problem(),
        ...(config.nodeId !== undefined ? { preferredNodeId: config.nodeId } : {}),
      });
  if (registry) readersFormat = () => entryFormatFor(registry.liveAgents().map((a) => a.logFormat));
  const cluster = registry
    ? new DynamicCluster(clusterId, registry)
    : new SingleAgentCluster(clusterId, {
        nodeId: config.nodeId ?? 1,
        host: config.advertisedHost,
        port: advertisedPort,
        zone: config.availabilityZone,
      });
  metrics.setClusterProbe({
    listedAgents: () => cluster.liveAgents().length,
    steppedOut: () => cluster.isolated(),
    ingestionFailing: () => ingestionHealth.problem() !== null,
  });
  const nodeId = cluster.self.nodeId;
  const topicOf = (t: { name: string; topicId: string; partitions: readonly unknown[] } | undefined) =>
    t && { id: t.topicId, name: t.name, partitions: t.partitions.length };
  const groups = new GroupCoordinator({
    offsets: new LogGroupOffsetStore(log),
    // What KIP-848 groups subscribe to: the folded topics, read fresh on every heartbeat.
    topics: {
      byName: (name) => topicOf(log.state.topics.get(name)),
      byId: (id) => topicOf([...log.state.topics.values()].find((t) => t.topicId === id)),
      names: () => log.state.topics.keys(),
    },
    coordinatorId: `node ${nodeId} (${agentId})`,
    log: componentLogger("groups"),
  });
  // Another agent claimed a group this one holds: it is dropped here (metadata/group-fence.ts).
  groupCoordinatorChanged = (groupId) => groups.dropIfFenced(groupId);
  // Groups whose coordinator moved to another agent stop here; their members are told NOT_COORDINATOR.
  let membershipChangedAt = Date.now();
  if (cluster instanceof DynamicCluster) {
    cluster.onMembershipChange(() => {
      membershipChangedAt = Date.now();
      groups.unloadGroups((id) => !coordinatesHere(cluster, id));
    });
  }
  // KIP-848 groups recorded in the log, this agent's now, that no member brought here: their coordinator went
  // away with their members. Loaded, their members' sessions expire and the records follow. Only once the
  // view has been still for a while, so that two agents whose views still differ do not take turns.
  const adoptTimer = setInterval(() => {
    if (Date.now() - membershipChangedAt < ADOPT_AFTER_STILL_MS) return;
    void groups
      .adoptRecordedGroups((id) => coordinatesHere(cluster, id))
      .then((n) => {
        if (n > 0) logger.info("loaded recorded consumer groups no member brought here", { groups: n });
      });
  }, ADOPT_INTERVAL_MS);
  adoptTimer.unref();
  const transactions = config.transactions
    ? new TransactionCoordinator({
        metadata: log,
        writeFile: (data) => batcher.writeFile(data),
        coordinates: (transactionalId) => coordinatesHere(cluster, transactionalId),
        log: componentLogger("transactions"),
      })
    : null;
  transactions?.start();
  // Logins look the log's SCRAM credentials up at the state current then (credentials.ts); the users
  // file, reloaded when it changes, takes precedence (and AlterUserScramCredentials refuses its users).
  const saslSettings: SaslSettings | null = security.sasl
    ? {
        ...security.sasl,
        logCredentials: { credential: (user, mechanism) => log.state.scramCredentials.credential(user, mechanism) },
      }
    : null;
  let fileUsers: SaslUsers = security.sasl?.users ?? new SaslUsers([]);
  const context: AgentContext = {
    log: logger,
    cluster,
    groups,
    transactions,
    metadata: log,
    topics,
    batcher,
    reader,
    fetchSessions,
    waiters,
    dataLocation: dataLocation(compactionUrl),
    authorizer: config.authorization.enabled
      ? new Authorizer(config.authorization, () => log.state.acls, componentLogger("authorizer"))
      : Authorizer.off(),
    usersFile: () => fileUsers,
  };

  const kafka = await startKafkaServer(context, {
    host: config.kafkaHost,
    port: config.kafkaPort,
    maxConnections: config.maxConnections,
    maxFrameBytes: config.maxFrameBytes,
    maxInFlight: config.maxInFlightRequests,
    logger: componentLogger("kafka"),
    tls: security.tls?.options ?? null,
    sasl: saslSettings,
    ...(config.kafkaTLSPrincipalMapper ? { principalMapper: config.kafkaTLSPrincipalMapper } : {}),
    saslEvents: {
      authenticated: (mechanism, reauth) =>
        metrics.saslAuthentications.inc({
          mechanism,
          kind: reauth ? "reauthentication" : "authentication",
          result: "success",
        }),
      failed: (mechanism, reauth) =>
        metrics.saslAuthentications.inc({
          mechanism: mechanism ?? "unknown",
          kind: reauth ? "reauthentication" : "authentication",
          result: "failure",
        }),
      expired: () => metrics.saslExpiredConnections.inc(),
    },
    onConnectionsChanged: (open) => metrics.openConnections.set(open),
    onRequest: (header, seconds, response) => {
      const api = String(header.apiKey);
      metrics.requests.inc({ api, version: String(header.apiVersion) });
      metrics.requestLatency.observe({ api }, seconds);
      for (const [code, n] of countErrorCodes(response)) metrics.requestErrors.inc({ api, code: String(code) }, n);
    },
  });
  const reloadMs = config.kafkaSecurityReloadIntervalMs;
  const stopTlsWatch = config.kafkaTLS
    ? watchTlsFiles(config.kafkaTLS, (options) => kafka.setTlsOptions(options), componentLogger("kafka"), reloadMs)
    : null;
  const usersFile = config.kafkaSASL?.usersFile;
  const stopUsersWatch =
    saslSettings && usersFile !== undefined
      ? watchUsersFile(
          saslSettings.mechanisms,
          usersFile,
          (users) => {
            fileUsers = users;
            kafka.setSaslSettings({ ...saslSettings, users });
          },
          componentLogger("kafka"),
          reloadMs,
        )
      : null;
  // Advertise the port actually bound (port 0 picks one).
  if (config.kafkaPort === 0 && config.advertisedPort === undefined) {
    if (registry) await registry.setPort(kafka.port);
    else (cluster.self as { port: number }).port = kafka.port;
  }
  jobs = startBackgroundJobs({
    stores,
    log,
    // Every compaction, retention and GC log line names the store it works on.
    logger: componentLogger("compaction").child({ compactionBucket: formatBucketUrl(compactionUrl) }),
    self: cluster.self,
    fetchCache: cache,
    ...(copier ? { copier } : {}),
    // Compacted runs go to the fetch cache only for partitions consumers read here (compactor.ts).
    readsPartition: (topic, partition) => {
      const p = log.state.partition(topic, partition);
      return p !== undefined && reader.readRecently(p);
    },
    // The sequencer and compaction on different agents where there are several (jobs.ts handOver).
    ...(sequencer && registry ? { handOver: () => sequencer.isHeld() && registry.liveAgents().length > 1 } : {}),
    hooks: { onLeaseChange: (held) => metrics.compactionHeld.set(held ? 1 : 0) },
    options: {
      ingestionFilesExpire: ingestionExpires,
      ingestionTtlMs: config.ingestionTtlMs,
      compactionIntervalMs: config.compactionIntervalMs,
      compactor: { waitForBytes: config.compactionMinBytes, waitAtMostMs: config.compactionMaxWaitMs },
      retentionIntervalMs: config.retentionIntervalMs,
      gcIntervalMs: Math.max(1000, Math.min(60_000, config.gcGraceMs)),
      gc: { graceMs: config.gcGraceMs },
    },
  });
  let stopping = false;
  const http = await startHttpServer({
    host: config.kafkaHost,
    port: config.httpPort,
    readiness: () => {
      if (stopping) return { ready: false, reason: "shutting down" };
      const refused = backlog.refusal();
      return refused === null ? { ready: true } : { ready: false, reason: refused };
    },
    ...(sequencer
      ? {
          postRoutes: new Map([
            [COMMIT_PATH, sequencer.route],
            [WATCH_PATH, sequencer.watchRoute],
          ]),
        }
      : {}),
  });
  // Reachable where the registry says this agent is, on the port just bound.
  sequencer?.start(nodeId, config.advertisedHost, http.port);
  watcher?.start();
  logger.info("agent started", {
    kafkaPort: kafka.port,
    httpPort: http.port,
    nodeId,
    clusterId,
    zone: config.availabilityZone,
    ingestion: stores.ingestion.kind,
    compaction: stores.compaction.kind,
    metadata: stores.metadata.kind,
    securityProtocol: securityProtocol(security),
    ...(security.tls
      ? { tlsSubject: security.tls.subject, tlsValidTo: security.tls.validTo, mutualTLS: security.tls.mutual }
      : {}),
    ...(security.sasl
      ? {
          saslMechanisms: security.sasl.mechanisms.join(","),
          ...(usersFile !== undefined ? { saslUsers: security.sasl.users.size } : {}),
          ...(security.sasl.maxReauthMs > 0 ? { connectionsMaxReauthMs: security.sasl.maxReauthMs } : {}),
        }
      : {}),
    ...(oauth && security.jwks
      ? {
          oauthJwks: jwksUrlForLogs(oauth.jwksUrl),
          oauthJwksKeys: security.jwks.size,
          oauthIssuer: oauth.issuer ?? null,
          oauthAudience: oauth.audience,
          oauthPrincipalClaim: oauth.principalClaim,
        }
      : {}),
    authorization: config.authorization.enabled,
    ...(config.authorization.enabled
      ? {
          superUsers: config.authorization.superUsers.length,
          allowEveryoneIfNoAclFound: config.authorization.allowEveryoneIfNoAclFound,
          aclBindings: log.state.acls.size,
        }
      : {}),
    ...(config.kafkaTLSPrincipalMapper ? { tlsPrincipalMappingRules: config.kafkaTLSPrincipalMapper.text } : {}),
  });

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info("agent stopping: draining produce requests");
    // Stop accepting at once; the server's close completes only once every connection is closed below.
    const listenerClosed = kafka.stopAccepting().catch(() => undefined);
    stopTlsWatch?.();
    stopUsersWatch?.();
    security.jwks?.close();
    await registry?.stop().catch((err: unknown) => logger.warn("deregistering failed", { error: errorMessage(err) }));
    await watcher?.stop();
    // Other agents' commits go elsewhere from now on; this agent's own are appended here.
    await sequencer
      ?.stop()
      .catch((err: unknown) => logger.warn("leaving the sequencer failed", { error: errorMessage(err) }));
    const drain = batcher.close();
    const deadline = new Promise<void>((r) => setTimeout(r, config.gracefulShutdownMs).unref());
    await Promise.race([drain, deadline]);
    await log
      .snapshotNow()
      .catch((err: unknown) => logger.warn("snapshot at shutdown failed", { error: errorMessage(err) }));
    await jobs
      ?.stop()
      .catch((err: unknown) => logger.warn("stopping background jobs failed", { error: errorMessage(err) }));
    await copier?.close();
    transactions?.close();
    clearInterval(adoptTimer);
    await log.close();
    groups.close();
    if (cluster instanceof DynamicCluster) cluster.close();
    kafka.closeConnections();
    await listenerClosed;
    waiters.notifyAll();
    await http.close();
    await stores.close();
    stopUsageExport();
    logger.info("agent stopped");
  };
  // An entry or snapshot this agent cannot read: it stops rather than serve a log it no longer follows.
  const failed = unreadable.then(async (error) => {
    logger.error("agent stopping: the metadata log cannot be read", { error: error.message });
    await stop().catch((err: unknown) => logger.warn("stopping failed", { error: errorMessage(err) }));
    return error;
  });

  return { kafkaPort: kafka.port, httpPort: http.port, context, stop, failed };
}
