/**
 * What handlers see of the agent. Each member is a narrow service; handlers never reach into stores.
 */
import type { Logger } from "../../../common/logger.js";
import type { ClusterView } from "../cluster/types.js";
import type { PartitionReader } from "../fetch/reader.js";
import type { FetchSessionCache } from "../fetch/sessions.js";
import type { GroupCoordinator } from "../groups/coordinator.js";
import type { TransactionCoordinator } from "../transactions/coordinator.js";
import type { IngestionBatcher } from "../ingest/batcher.js";
import type { MetadataLog } from "../metadata/log.js";
import type { TopicService } from "../metadata/topics.js";
import type { Authorizer } from "../security/authorizer.js";
import type { SaslUsers } from "../security/users.js";
import type { PartitionWaiters } from "./waiters.js";

export interface AgentContext {
  readonly log: Logger;
  readonly cluster: ClusterView;
  readonly groups: GroupCoordinator;
  /** Transactional ids' coordinator (transactions/coordinator.ts); null while transactions are off (-transactions=false). */
  readonly transactions: TransactionCoordinator | null;
  /** The metadata log; `metadata.state` is the current folded state (read it fresh each time). */
  readonly metadata: MetadataLog;
  readonly topics: TopicService;
  readonly batcher: IngestionBatcher;
  readonly reader: PartitionReader;
  /** Incremental fetch sessions (KIP-227) held by this agent. */
  readonly fetchSessions: FetchSessionCache;
  /** Long-poll fetches wait here for new data. */
  readonly waiters: PartitionWaiters;
  /**
   * Where the partitions' data lives (the compaction store's bucket URL, endpoint left out): the one
   * "log directory" DescribeLogDirs reports.
   */
  readonly dataLocation: string;
  /** Decides what each principal may do (ACLs in the metadata log); allows everything when authorization is off. */
  readonly authorizer: Authorizer;
  /**
   * The users file's users as last loaded (empty without one): they take precedence over the SCRAM
   * credentials in the metadata log, which AlterUserScramCredentials may therefore not change for them.
   */
  readonly usersFile: () => SaslUsers;
}
