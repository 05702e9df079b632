/** S3 side of a WarpAgent: check the compaction bucket, create it only when spec.bucket.create. */
import { CreateBucketCommand, HeadBucketCommand } from "@aws-sdk/client-s3";
import type { BucketLocationConstraint, S3Client } from "@aws-sdk/client-s3";
import { isS3NotFound } from "../../../common/aws/errors.js";
import { Reason } from "../api/conditions.js";
import type { ConditionInput } from "../api/conditions.js";
import type { ResolvedSpec } from "../api/resolve.js";
import { describeAwsError } from "./errors.js";
import type { OperatorEvent } from "./tables.js";

export interface BucketResult {
  condition: ConditionInput;
  events: OperatorEvent[];
}

export async function reconcileBucket(client: S3Client, spec: ResolvedSpec): Promise<BucketResult> {
  const bucket = spec.bucket;
  const arn = `arn:aws:s3:::${bucket}`;
  const ok = (reason: Reason, message: string, events: OperatorEvent[] = []): BucketResult => ({
    condition: { type: "BucketReady", status: "True", reason, message },
    events,
  });
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return ok(Reason.BucketFound, `bucket ${bucket} exists and is reachable`);
  } catch (err) {
    if (!isS3NotFound(err)) {
      // HeadBucket is authorised by s3:ListBucket.
      const f = describeAwsError(err, "s3:ListBucket", arn);
      return { condition: { type: "BucketReady", status: "False", reason: f.reason, message: f.message }, events: [] };
    }
  }
  if (!spec.createBucket) {
    return {
      condition: {
        type: "BucketReady",
        status: "False",
        reason: Reason.BucketNotFound,
        message: `bucket ${bucket} does not exist; create it or set spec.bucket.create: true`,
      },
      events: [],
    };
  }
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(spec.region !== "us-east-1"
          ? { CreateBucketConfiguration: { LocationConstraint: spec.region as BucketLocationConstraint } }
          : {}),
      }),
    );
    return ok(Reason.BucketCreated, `created bucket ${bucket}`, [
      { type: "Normal", reason: "BucketCreated", message: `created S3 bucket ${bucket}` },
    ]);
  } catch (err) {
    const f = describeAwsError(err, "s3:CreateBucket", arn);
    return { condition: { type: "BucketReady", status: "False", reason: f.reason, message: f.message }, events: [] };
  }
}
