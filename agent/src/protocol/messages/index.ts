/**
 * Registry of message definitions by API key (each file under messages/ holds one API).
 * Written by scripts/gen-protocol-messages.ts with the message files: regenerate, do not edit by hand.
 */
import { ProduceRequest, ProduceResponse } from "./00-produce.js";
import { FetchRequest, FetchResponse } from "./01-fetch.js";
import { ListOffsetsRequest, ListOffsetsResponse } from "./02-list-offsets.js";
import { MetadataRequest, MetadataResponse } from "./03-metadata.js";
import { OffsetCommitRequest, OffsetCommitResponse } from "./08-offset-commit.js";
import { OffsetFetchRequest, OffsetFetchResponse } from "./09-offset-fetch.js";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "./10-find-coordinator.js";
import { JoinGroupRequest, JoinGroupResponse } from "./11-join-group.js";
import { HeartbeatRequest, HeartbeatResponse } from "./12-heartbeat.js";
import { LeaveGroupRequest, LeaveGroupResponse } from "./13-leave-group.js";
import { SyncGroupRequest, SyncGroupResponse } from "./14-sync-group.js";
import { DescribeGroupsRequest, DescribeGroupsResponse } from "./15-describe-groups.js";
import { ListGroupsRequest, ListGroupsResponse } from "./16-list-groups.js";
import { SaslHandshakeRequest, SaslHandshakeResponse } from "./17-sasl-handshake.js";
import { ApiVersionsRequest, ApiVersionsResponse } from "./18-api-versions.js";
import { CreateTopicsRequest, CreateTopicsResponse } from "./19-create-topics.js";
import { DeleteTopicsRequest, DeleteTopicsResponse } from "./20-delete-topics.js";
import { DeleteRecordsRequest, DeleteRecordsResponse } from "./21-delete-records.js";
import { InitProducerIdRequest, InitProducerIdResponse } from "./22-init-producer-id.js";
import { AddPartitionsToTxnRequest, AddPartitionsToTxnResponse } from "./24-add-partitions-to-txn.js";
import { AddOffsetsToTxnRequest, AddOffsetsToTxnResponse } from "./25-add-offsets-to-txn.js";
import { EndTxnRequest, EndTxnResponse } from "./26-end-txn.js";
import { TxnOffsetCommitRequest, TxnOffsetCommitResponse } from "./28-txn-offset-commit.js";
import { DescribeAclsRequest, DescribeAclsResponse } from "./29-describe-acls.js";
import { CreateAclsRequest, CreateAclsResponse } from "./30-create-acls.js";
import { DeleteAclsRequest, DeleteAclsResponse } from "./31-delete-acls.js";
import { DescribeConfigsRequest, DescribeConfigsResponse } from "./32-describe-configs.js";
import { AlterConfigsRequest, AlterConfigsResponse } from "./33-alter-configs.js";
import { DescribeLogDirsRequest, DescribeLogDirsResponse } from "./35-describe-log-dirs.js";
import { SaslAuthenticateRequest, SaslAuthenticateResponse } from "./36-sasl-authenticate.js";
import { CreatePartitionsRequest, CreatePartitionsResponse } from "./37-create-partitions.js";
import { DeleteGroupsRequest, DeleteGroupsResponse } from "./42-delete-groups.js";
import { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from "./44-incremental-alter-configs.js";
import { OffsetDeleteRequest, OffsetDeleteResponse } from "./47-offset-delete.js";
import { DescribeClientQuotasRequest, DescribeClientQuotasResponse } from "./48-describe-client-quotas.js";
import {
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
} from "./50-describe-user-scram-credentials.js";
import {
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
} from "./51-alter-user-scram-credentials.js";
import { DescribeClusterRequest, DescribeClusterResponse } from "./60-describe-cluster.js";
import { DescribeProducersRequest, DescribeProducersResponse } from "./61-describe-producers.js";
import { DescribeTransactionsRequest, DescribeTransactionsResponse } from "./65-describe-transactions.js";
import { ListTransactionsRequest, ListTransactionsResponse } from "./66-list-transactions.js";
import { ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse } from "./68-consumer-group-heartbeat.js";
import { ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse } from "./69-consumer-group-describe.js";

export const MESSAGES = {
  0: { request: ProduceRequest, response: ProduceResponse },
  1: { request: FetchRequest, response: FetchResponse },
  2: { request: ListOffsetsRequest, response: ListOffsetsResponse },
  3: { request: MetadataRequest, response: MetadataResponse },
  8: { request: OffsetCommitRequest, response: OffsetCommitResponse },
  9: { request: OffsetFetchRequest, response: OffsetFetchResponse },
  10: { request: FindCoordinatorRequest, response: FindCoordinatorResponse },
  11: { request: JoinGroupRequest, response: JoinGroupResponse },
  12: { request: HeartbeatRequest, response: HeartbeatResponse },
  13: { request: LeaveGroupRequest, response: LeaveGroupResponse },
  14: { request: SyncGroupRequest, response: SyncGroupResponse },
  15: { request: DescribeGroupsRequest, response: DescribeGroupsResponse },
  16: { request: ListGroupsRequest, response: ListGroupsResponse },
  17: { request: SaslHandshakeRequest, response: SaslHandshakeResponse },
  18: { request: ApiVersionsRequest, response: ApiVersionsResponse },
  19: { request: CreateTopicsRequest, response: CreateTopicsResponse },
  20: { request: DeleteTopicsRequest, response: DeleteTopicsResponse },
  21: { request: DeleteRecordsRequest, response: DeleteRecordsResponse },
  22: { request: InitProducerIdRequest, response: InitProducerIdResponse },
  24: { request: AddPartitionsToTxnRequest, response: AddPartitionsToTxnResponse },
  25: { request: AddOffsetsToTxnRequest, response: AddOffsetsToTxnResponse },
  26: { request: EndTxnRequest, response: EndTxnResponse },
  28: { request: TxnOffsetCommitRequest, response: TxnOffsetCommitResponse },
  29: { request: DescribeAclsRequest, response: DescribeAclsResponse },
  30: { request: CreateAclsRequest, response: CreateAclsResponse },
  31: { request: DeleteAclsRequest, response: DeleteAclsResponse },
  32: { request: DescribeConfigsRequest, response: DescribeConfigsResponse },
  33: { request: AlterConfigsRequest, response: AlterConfigsResponse },
  35: { request: DescribeLogDirsRequest, response: DescribeLogDirsResponse },
  36: { request: SaslAuthenticateRequest, response: SaslAuthenticateResponse },
  37: { request: CreatePartitionsRequest, response: CreatePartitionsResponse },
  42: { request: DeleteGroupsRequest, response: DeleteGroupsResponse },
  44: { request: IncrementalAlterConfigsRequest, response: IncrementalAlterConfigsResponse },
  47: { request: OffsetDeleteRequest, response: OffsetDeleteResponse },
  48: { request: DescribeClientQuotasRequest, response: DescribeClientQuotasResponse },
  50: { request: DescribeUserScramCredentialsRequest, response: DescribeUserScramCredentialsResponse },
  51: { request: AlterUserScramCredentialsRequest, response: AlterUserScramCredentialsResponse },
  60: { request: DescribeClusterRequest, response: DescribeClusterResponse },
  61: { request: DescribeProducersRequest, response: DescribeProducersResponse },
  65: { request: DescribeTransactionsRequest, response: DescribeTransactionsResponse },
  66: { request: ListTransactionsRequest, response: ListTransactionsResponse },
  68: { request: ConsumerGroupHeartbeatRequest, response: ConsumerGroupHeartbeatResponse },
  69: { request: ConsumerGroupDescribeRequest, response: ConsumerGroupDescribeResponse },
} as const;

export {
  ProduceRequest,
  ProduceResponse,
  FetchRequest,
  FetchResponse,
  ListOffsetsRequest,
  ListOffsetsResponse,
  MetadataRequest,
  MetadataResponse,
  OffsetCommitRequest,
  OffsetCommitResponse,
  OffsetFetchRequest,
  OffsetFetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  SyncGroupRequest,
  SyncGroupResponse,
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
  ApiVersionsRequest,
  ApiVersionsResponse,
  CreateTopicsRequest,
  CreateTopicsResponse,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  DeleteRecordsRequest,
  DeleteRecordsResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  EndTxnRequest,
  EndTxnResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
  DescribeAclsRequest,
  DescribeAclsResponse,
  CreateAclsRequest,
  CreateAclsResponse,
  DeleteAclsRequest,
  DeleteAclsResponse,
  DescribeConfigsRequest,
  DescribeConfigsResponse,
  AlterConfigsRequest,
  AlterConfigsResponse,
  DescribeLogDirsRequest,
  DescribeLogDirsResponse,
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  CreatePartitionsRequest,
  CreatePartitionsResponse,
  DeleteGroupsRequest,
  DeleteGroupsResponse,
  IncrementalAlterConfigsRequest,
  IncrementalAlterConfigsResponse,
  OffsetDeleteRequest,
  OffsetDeleteResponse,
  DescribeClientQuotasRequest,
  DescribeClientQuotasResponse,
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse,
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  DescribeProducersRequest,
  DescribeProducersResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
  ConsumerGroupHeartbeatRequest,
  ConsumerGroupHeartbeatResponse,
  ConsumerGroupDescribeRequest,
  ConsumerGroupDescribeResponse,
};
