/** AWS SDK error classification (common/aws/errors.ts) on errors shaped as the SDK throws them. */
import assert from "node:assert/strict";
import {
  awsErrorName,
  awsHttpStatus,
  isAccessDenied,
  isConditionalCheckFailed,
  isResourceNotFound,
  isS3NotFound,
  isThrottling,
} from "../../aws/errors.js";

function sdkError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode } });
}

describe("AWS error classification", () => {
  it("reads the name and HTTP status of SDK errors, and nothing of other values", () => {
    assert.equal(awsErrorName(sdkError("NoSuchKey", 404)), "NoSuchKey");
    assert.equal(awsHttpStatus(sdkError("NoSuchKey", 404)), 404);
    for (const v of [undefined, null, "ResourceNotFoundException", 42, { name: 7 }, { $metadata: "x" }]) {
      assert.equal(awsErrorName(v), undefined);
      assert.equal(awsHttpStatus(v), undefined);
      assert.equal(isResourceNotFound(v), false);
      assert.equal(isS3NotFound(v), false);
      assert.equal(isAccessDenied(v), false);
    }
  });

  it("recognises DynamoDB conditional-check failures, missing tables and throttling", () => {
    assert.ok(isConditionalCheckFailed(sdkError("ConditionalCheckFailedException", 400)));
    assert.ok(!isConditionalCheckFailed(sdkError("ValidationException", 400)));
    assert.ok(isResourceNotFound(sdkError("ResourceNotFoundException", 400)));
    assert.ok(!isResourceNotFound(sdkError("ResourceInUseException", 400)));
    for (const name of [
      "ProvisionedThroughputExceededException",
      "ThrottlingException",
      "RequestLimitExceeded",
      "InternalServerError",
    ])
      assert.ok(isThrottling(sdkError(name, 400)), name);
    assert.ok(!isThrottling(sdkError("ConditionalCheckFailedException", 400)));
  });

  it("treats missing S3 objects and buckets, and bare 404s, as not found", () => {
    for (const name of ["NoSuchKey", "NoSuchBucket", "NotFound"]) assert.ok(isS3NotFound(sdkError(name, 400)), name);
    assert.ok(isS3NotFound(sdkError("UnknownError", 404)));
    assert.ok(!isS3NotFound(sdkError("InvalidRange", 416)));
  });

  it("recognises access denied by name or by a 403 answer", () => {
    for (const name of ["AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "Forbidden"])
      assert.ok(isAccessDenied(sdkError(name, 400)), name);
    assert.ok(isAccessDenied(sdkError("403", 403)));
    assert.ok(!isAccessDenied(sdkError("ValidationException", 400)));
  });
});
