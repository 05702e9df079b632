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

  /**
   * The endpoints a WarpAgent's agents must use: its own, else the operator's. The agents are given
   * the same endpoints as the operator's calls for that WarpAgent, so they find the tables and the
   * bucket the operator created and checked (a LocalStack or DynamoDB Local set as the operator's
   * default would otherwise be used by the operator only, and the agents would call AWS).
   */
  effective(endpoints: AwsEndpoints): AwsEndpoints {
    const dynamodb = endpoints.dynamodb ?? this.defaults.dynamodb;
    const s3 = endpoints.s3 ?? this.defaults.s3;
    return { ...(dynamodb ? { dynamodb } : {}), ...(s3 ? { s3 } : {}) };
  }

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
