/** AWS SDK errors turned into condition reasons and messages a person can act on. */
import { awsErrorName, isAccessDenied } from "../../../common/aws/errors.js";
import { Reason } from "../api/conditions.js";

export interface AwsFailure {
  reason: typeof Reason.AccessDenied | typeof Reason.AwsError;
  message: string;
}

function errorText(err: unknown): string | undefined {
  const message = typeof err === "object" && err !== null ? (err as { message?: unknown }).message : undefined;
  return typeof message === "string" && message !== "" && message !== "UnknownError" ? message : undefined;
}

/**
 * `action` is the IAM action that failed (e.g. "dynamodb:CreateTable") and `resource` what it was
 * called on; an AccessDenied answer names both, so the fix (a policy statement) is obvious.
 */
export function describeAwsError(err: unknown, action: string, resource: string): AwsFailure {
  const name = awsErrorName(err);
  const detail = errorText(err) ?? name ?? String(err);
  if (isAccessDenied(err)) {
    return {
      reason: Reason.AccessDenied,
      message: `access denied: the operator's AWS identity needs ${action} on ${resource} (${detail})`,
    };
  }
  return {
    reason: Reason.AwsError,
    message: `${action} on ${resource} failed: ${name ? `${name}: ` : ""}${detail}`,
  };
}
