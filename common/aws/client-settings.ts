/**
 * Retry and timeout settings of every AWS SDK client the agent and the operator build, spread into
 * the client's configuration next to its region and endpoint:
 *
 *   new DynamoDBClient({ region, ...awsClientSettings("dynamodb", "agent") })
 *
 * The SDK's retry is the only retry layer on top of these clients: callers send once and get the SDK's
 * last error. (Loops over a batch call's UnprocessedItems are not error retries; they are bounded
 * where they are, in agent/src/store/dynamodb/client.ts.)
 *
 * DynamoDB: the SDK's standard retry strategy (throttling, 5xx, timeouts and connection errors are
 * retried; a per-client retry quota stops retrying while retries keep failing) with full-jitter
 * exponential backoff from 25 ms, capped at 2 s (DYNAMODB_BACKOFF): DynamoDB throttling clears in
 * milliseconds to seconds, and the produce path writes a file every 50 ms or so. The SDK's own delays
 * (1 s base for throttling, 20 s cap) would hold a batch for many batch intervals. 10 attempts wait
 * about 3.6 s in total on average (at most 7.2 s). Adaptive mode's client-side rate limiter is not
 * used, although it could be combined with this backoff: it is one limiter per client, shared by
 * every table and call kind, so throttling of data writes would slow heartbeats and metadata log
 * appends too; and after a throttle on a client with little traffic it drops to 0.5 requests per
 * second, so 10 throttled attempts of one call take about 20 s instead of about 4 s. Back-pressure
 * comes from the backoff, the retry quota and the agent's produce buffer limit instead.
 *
 * S3: adaptive mode (the SDK's backoff from 1 s on throttling, and the rate limiter). S3 is only on
 * the compaction path, in the background, and SlowDown asks the client to lower its request rate.
 *
 * Timeouts: without them a request into a silent network (partition, dead peer) waits for the SDK's
 * default 5-minute socket timeout. Both are per attempt; the socket timeout is on inactivity, so large
 * S3 objects still stream. The agent's DynamoDB calls also have a deadline over all their attempts
 * (DYNAMODB_CALL_DEADLINE_MS).
 */
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { fullJitterMs, type Backoff } from "../backoff.js";

export type AwsService = "dynamodb" | "s3";

/**
 * agent: calls on the produce, fetch and compaction paths, which have nothing better to do than wait
 * for the store, so the SDK makes up to 10 attempts.
 * operator: a failed call fails the reconcile pass, which the work queue retries with its own backoff,
 * so the SDK tries twice and the worker moves on.
 */
export type AwsCaller = "agent" | "operator";

export const AWS_MAX_ATTEMPTS: Readonly<Record<AwsCaller, number>> = { agent: 10, operator: 2 };

/** Waits between DynamoDB attempts (and between rounds of a batch call's unprocessed items). */
export const DYNAMODB_BACKOFF: Backoff = { baseMs: 25, capMs: 2_000 };

/**
 * Longest an agent's DynamoDB call takes, attempts and waits included, before it fails with an
 * AbortError: above a full sequence of throttled attempts (at most 7.2 s of waits), and under the
 * metadata log's 30 s proposal timeout, so a call into a silent network frees the log for the
 * proposals queued behind it while they still have time.
 */
export const DYNAMODB_CALL_DEADLINE_MS = 15_000;

/** Connect and idle-socket timeouts per attempt. DynamoDB answers in milliseconds; S3 streams objects. */
export const AWS_TIMEOUTS_MS: Readonly<Record<AwsService, { readonly connect: number; readonly socket: number }>> = {
  dynamodb: { connect: 3_000, socket: 10_000 },
  s3: { connect: 5_000, socket: 30_000 },
};

export interface AwsClientSettings {
  readonly maxAttempts: number;
  /** DynamoDB: the strategy (one per client: its retry quota is the client's). */
  readonly retryStrategy?: ConfiguredRetryStrategy;
  /** S3: the SDK's adaptive mode. */
  readonly retryMode?: "adaptive";
  readonly requestHandler: { readonly connectionTimeout: number; readonly socketTimeout: number };
}

/** The DynamoDB retry strategy: `maxAttempts` attempts, full-jitter backoff (DYNAMODB_BACKOFF) between them. */
export function dynamoRetryStrategy(maxAttempts: number): ConfiguredRetryStrategy {
  // The SDK numbers the attempt about to be made: 1 for the first retry.
  return new ConfiguredRetryStrategy(maxAttempts, (attempt) => fullJitterMs(DYNAMODB_BACKOFF, attempt - 1));
}

export function awsClientSettings(service: AwsService, caller: AwsCaller): AwsClientSettings {
  const timeouts = AWS_TIMEOUTS_MS[service];
  const maxAttempts = AWS_MAX_ATTEMPTS[caller];
  return {
    maxAttempts,
    ...(service === "dynamodb" ? { retryStrategy: dynamoRetryStrategy(maxAttempts) } : { retryMode: "adaptive" }),
    requestHandler: { connectionTimeout: timeouts.connect, socketTimeout: timeouts.socket },
  };
}
