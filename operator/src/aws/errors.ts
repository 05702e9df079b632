/** AWS SDK errors turned into condition reasons and messages a person can act on. */
import { Reason } from "../api/conditions.js";

export interface AwsFailure {
  reason: typeof Reason.AccessDenied | typeof Reason.AwsError;
  message: string;
}

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

export function awsErrorName(err: unknown): string {
  return (err as SdkError | undefined)?.name ?? "";
}

export function isAccessDenied(err: unknown): boolean {
  const e = err as SdkError | undefined;
  const name = e?.name ?? "";
  return (
    name === "AccessDeniedException" ||
    name === "AccessDenied" ||
    name === "UnrecognizedClientException" ||
    name === "Forbidden" ||
    e?.$metadata?.httpStatusCode === 403
  );
}

/**
 * `action` is the IAM action that failed (e.g. "dynamodb:CreateTable") and `resource` what it was
 * called on; an AccessDenied answer names both, so the fix (a policy statement) is obvious.
 */
export function describeAwsError(err: unknown, action: string, resource: string): AwsFailure {
  const e = err as SdkError | undefined;
  const detail = e?.message && e.message !== "UnknownError" ? e.message : (e?.name ?? String(err));
  if (isAccessDenied(err)) {
    return {
      reason: Reason.AccessDenied,
      message: `access denied: the operator's AWS identity needs ${action} on ${resource} (${detail})`,
    };
  }
  return {
    reason: Reason.AwsError,
    message: `${action} on ${resource} failed: ${e?.name ? `${e.name}: ` : ""}${detail}`,
  };
}
