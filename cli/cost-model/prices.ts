/**
 * AWS list prices the cost model uses, us-east-1, in US dollars, as data. Each entry names the AWS price
 * it is. Every one can be overridden on the `warp cost` command line (flag = the key's name).
 *
 * The defaults are today's list prices except S3 Express One Zone, which keeps the price the reference
 * table (docs/cost.md) was computed with (AWS cut it in April 2025; pass --s3ExpressPutPer1000 0.00113
 * for today's).
 */
export interface Prices {
  /** S3 Standard: PUT, COPY, POST, LIST requests, per 1,000 requests. */
  readonly s3PutPer1000: number;
  /** S3 Standard: GET, SELECT and all other requests, per 1,000 requests. */
  readonly s3GetPer1000: number;
  /** S3 Standard storage, first 50 TB / month, per GB-month. */
  readonly s3StorageGbMonth: number;
  /** S3 Express One Zone: PUT requests per 1,000 (the reference table's price; $0.00113 since April 2025). */
  readonly s3ExpressPutPer1000: number;
  /** S3 Express One Zone: GET requests per 1,000 (the reference table's price; $0.00003 since April 2025). */
  readonly s3ExpressGetPer1000: number;
  /** S3 Express One Zone: data upload, per GB of the part of each PUT above 512 KB (before April 2025; now $0.0032). */
  readonly s3ExpressUploadPerGb: number;
  /** S3 Express One Zone storage, per GB-month (before April 2025; now $0.11). */
  readonly s3ExpressStorageGbMonth: number;
  /** DynamoDB on-demand (Standard table class): per million write request units (since Nov 2024; $1.25 before). */
  readonly ddbWruPerMillion: number;
  /** DynamoDB on-demand (Standard table class): per million read request units (since Nov 2024; $0.25 before). */
  readonly ddbRruPerMillion: number;
  /** DynamoDB provisioned (Standard table class): per write capacity unit-hour. */
  readonly ddbWcuHour: number;
  /** DynamoDB provisioned (Standard table class): per read capacity unit-hour. */
  readonly ddbRcuHour: number;
  /** DynamoDB Standard table class storage, beyond the free 25 GB, per GB-month. */
  readonly ddbStorageGbMonth: number;
}

export const DEFAULT_PRICES: Prices = {
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  s3StorageGbMonth: 0.023,
  s3ExpressPutPer1000: 0.0025,
  s3ExpressGetPer1000: 0.0002,
  s3ExpressUploadPerGb: 0.008,
  s3ExpressStorageGbMonth: 0.16,
  ddbWruPerMillion: 0.625,
  ddbRruPerMillion: 0.125,
  ddbWcuHour: 0.00065,
  ddbRcuHour: 0.00013,
  ddbStorageGbMonth: 0.25,
};

/** What each price is called in the output (unit included). */
export const PRICE_LABELS: Readonly<Record<keyof Prices, string>> = {
  s3PutPer1000: "S3 Standard PUT, $ per 1,000",
  s3GetPer1000: "S3 Standard GET, $ per 1,000",
  s3StorageGbMonth: "S3 Standard storage, $ per GB-month",
  s3ExpressPutPer1000: "S3 Express One Zone PUT, $ per 1,000",
  s3ExpressGetPer1000: "S3 Express One Zone GET, $ per 1,000",
  s3ExpressUploadPerGb: "S3 Express One Zone upload above 512 KB per PUT, $ per GB",
  s3ExpressStorageGbMonth: "S3 Express One Zone storage, $ per GB-month",
  ddbWruPerMillion: "DynamoDB on-demand, $ per million WRU",
  ddbRruPerMillion: "DynamoDB on-demand, $ per million RRU",
  ddbWcuHour: "DynamoDB provisioned, $ per WCU-hour",
  ddbRcuHour: "DynamoDB provisioned, $ per RCU-hour",
  ddbStorageGbMonth: "DynamoDB storage, $ per GB-month",
};

export const PRICE_KEYS = Object.keys(DEFAULT_PRICES) as (keyof Prices)[];
