/**
 * Retry and timeout settings of every AWS SDK client the agent and the operator build, spread into
 * the client's configuration next to its region and endpoint:
 *
 *   new DynamoDBClient({ region, ...awsClientSettings("dynamodb", "agent") })
 *
 * Retries: the SDK's adaptive mode (exponential backoff with jitter on throttling, 5xx and timeouts,
 * plus a client-side rate limiter that slows the client while it is throttled).
 * Timeouts: without them a request into a silent network (partition, dead peer) waits for the SDK's
 * default 5-minute socket timeout. Both are per attempt; the socket timeout is on inactivity, so large
 * S3 objects still stream.
 */

export type AwsService = "dynamodb" | "s3";

/**
 * agent: calls on the produce, fetch and compaction paths, which have nothing better to do than wait
 * for the store, so the SDK retries up to 10 attempts.
 * operator: a failed call fails the reconcile pass, which the work queue retries with its own backoff,
 * so the SDK tries twice and the worker moves on.
 */
export type AwsCaller = "agent" | "operator";

export const AWS_MAX_ATTEMPTS: Readonly<Record<AwsCaller, number>> = { agent: 10, operator: 2 };

/** Connect and idle-socket timeouts per attempt. DynamoDB answers in milliseconds; S3 streams objects. */
export const AWS_TIMEOUTS_MS: Readonly<Record<AwsService, { readonly connect: number; readonly socket: number }>> = {
  dynamodb: { connect: 3_000, socket: 10_000 },
  s3: { connect: 5_000, socket: 30_000 },
};

export interface AwsClientSettings {
  readonly retryMode: "adaptive";
  readonly maxAttempts: number;
  readonly requestHandler: { readonly connectionTimeout: number; readonly socketTimeout: number };
}

export function awsClientSettings(service: AwsService, caller: AwsCaller): AwsClientSettings {
  const timeouts = AWS_TIMEOUTS_MS[service];
  return {
    retryMode: "adaptive",
    maxAttempts: AWS_MAX_ATTEMPTS[caller],
    requestHandler: { connectionTimeout: timeouts.connect, socketTimeout: timeouts.socket },
  };
}
