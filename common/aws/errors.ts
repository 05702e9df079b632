/**
 * AWS SDK errors read by name and HTTP status: the one place the agent and the operator classify what
 * an SDK call threw. Anything that is not an object (or has no name) classifies as nothing.
 */

interface SdkErrorShape {
  readonly name?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
}

function shape(err: unknown): SdkErrorShape | undefined {
  return typeof err === "object" && err !== null ? err : undefined;
}

/** The error's name ("ConditionalCheckFailedException", "NoSuchKey", ...), or undefined. */
export function awsErrorName(err: unknown): string | undefined {
  const name = shape(err)?.name;
  return typeof name === "string" ? name : undefined;
}

/** The HTTP status of the response the error came from, or undefined. */
export function awsHttpStatus(err: unknown): number | undefined {
  const status = shape(err)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

/** A DynamoDB conditional write whose condition did not hold. */
export function isConditionalCheckFailed(err: unknown): boolean {
  return awsErrorName(err) === "ConditionalCheckFailedException";
}

/** A DynamoDB table (or other resource) that does not exist. */
export function isResourceNotFound(err: unknown): boolean {
  return awsErrorName(err) === "ResourceNotFoundException";
}

const THROTTLING = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "InternalServerError",
]);

/** DynamoDB throttling (and its 500 InternalServerError): worth retrying after a backoff. */
export function isThrottling(err: unknown): boolean {
  return THROTTLING.has(awsErrorName(err) ?? "");
}

/** An S3 object or bucket that does not exist (HeadObject/HeadBucket answer a bare 404 "NotFound"). */
export function isS3NotFound(err: unknown): boolean {
  const name = awsErrorName(err);
  return name === "NoSuchKey" || name === "NoSuchBucket" || name === "NotFound" || awsHttpStatus(err) === 404;
}

/** The caller's identity is not allowed to make the call (IAM), or is not recognised at all. */
export function isAccessDenied(err: unknown): boolean {
  const name = awsErrorName(err);
  return (
    name === "AccessDeniedException" ||
    name === "AccessDenied" ||
    name === "UnrecognizedClientException" ||
    name === "Forbidden" ||
    awsHttpStatus(err) === 403
  );
}
