/**
 * AWS SDK clients per (region, endpoint), shared by every WarpAgent that uses them. Retries and
 * timeouts come from common/aws/client-settings.ts.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { awsClientSettings } from "../../../common/aws/client-settings.js";

export interface AwsEndpoints {
  dynamodb?: string;
  s3?: string;
}

export class AwsClients {
  private readonly dynamo = new Map<string, DynamoDBClient>();
  private readonly s3 = new Map<string, S3Client>();

  /** `defaults` apply when a WarpAgent sets no endpoint of its own (tests, LocalStack setups). */
  constructor(private readonly defaults: AwsEndpoints = {}) {}

  dynamodb(region: string, endpoint?: string): DynamoDBClient {
    const ep = endpoint ?? this.defaults.dynamodb;
    const key = `${region}|${ep ?? ""}`;
    let c = this.dynamo.get(key);
    if (!c) {
      c = new DynamoDBClient({
        region,
        ...(ep ? { endpoint: ep } : {}),
        ...awsClientSettings("dynamodb", "operator"),
      });
      this.dynamo.set(key, c);
    }
    return c;
  }

  s3Client(region: string, endpoint?: string): S3Client {
    const ep = endpoint ?? this.defaults.s3;
    const key = `${region}|${ep ?? ""}`;
    let c = this.s3.get(key);
    if (!c) {
      c = new S3Client({
        region,
        ...(ep ? { endpoint: ep, forcePathStyle: true } : {}),
        ...awsClientSettings("s3", "operator"),
      });
      this.s3.set(key, c);
    }
    return c;
  }

  destroy(): void {
    for (const c of this.dynamo.values()) c.destroy();
    for (const c of this.s3.values()) c.destroy();
    this.dynamo.clear();
    this.s3.clear();
  }
}
