/**
 * S3 ObjectStore (s3://bucket?region&endpoint&s3ForcePathStyle&prefix): compacted objects. Keys are
 * `<prefix><key>`. Uses PutObject, GetObject (ranged), HeadObject (zero-length ranges only),
 * DeleteObjects (≤ 1000 keys per call) and ListObjectsV2 (paginated). Throttling (503 SlowDown) and 5xx
 * are retried by the SDK in adaptive mode. The expiresAt hint (and setExpiry) is ignored: compacted
 * objects are removed by retention through delete(). Requests are counted by type into storeUsage.
 */
import { Readable } from "node:stream";
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type ListObjectsV2CommandOutput,
} from "@aws-sdk/client-s3";
import { awsClientSettings } from "../../../../common/aws/client-settings.js";
import { awsErrorName, awsHttpStatus, isS3NotFound } from "../../../../common/aws/errors.js";
import type { S3BucketUrl } from "../../../../common/bucket-url.js";
import { storeUsage } from "../usage.js";
import { payloadDigests } from "./payload-digests.js";
import type { ByteRange, ObjectInfo, ObjectStore, PutOptions } from "../types.js";
import { ObjectNotFoundError } from "../types.js";

/** The SigV4 header naming the payload's SHA-256; the signer uses a value already set instead of hashing. */
const CONTENT_SHA256_HEADER = "x-amz-content-sha256";

/** DeleteObjects accepts at most 1000 keys per call. */
export const DELETE_BATCH = 1000;

/** The agent's S3 client: retries and timeouts from common/aws/client-settings.ts. */
export function makeS3Client(url: Pick<S3BucketUrl, "region" | "endpoint" | "forcePathStyle">): S3Client {
  return new S3Client({
    ...(url.region ? { region: url.region } : {}),
    ...(url.endpoint ? { endpoint: url.endpoint } : {}),
    forcePathStyle: url.forcePathStyle,
    ...awsClientSettings("s3", "agent"),
  });
}

export interface S3ObjectStoreOptions {
  /** A client to use instead of one built from the URL (tests). It is not destroyed on close. */
  readonly client?: S3Client;
  /** ListObjectsV2 MaxKeys (test seam to force pagination; default 1000). */
  readonly listPageSize?: number;
}

/** The bucket is missing, forbidden or elsewhere: S3 answered, and retrying will not change it. */
export class BucketCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BucketCheckError";
  }
}

export class S3ObjectStore implements ObjectStore {
  readonly kind = "s3";
  private readonly client: S3Client;
  private readonly owned: boolean;

  constructor(
    readonly bucket: string,
    /** Key prefix, "" or ending with "/". */
    readonly prefix: string,
    clientOrUrl: S3Client | Pick<S3BucketUrl, "region" | "endpoint" | "forcePathStyle">,
    private readonly options: Omit<S3ObjectStoreOptions, "client"> = {},
  ) {
    this.owned = !(clientOrUrl instanceof S3Client);
    this.client = clientOrUrl instanceof S3Client ? clientOrUrl : makeS3Client(clientOrUrl);
  }

  /**
   * Checks the bucket with HeadBucket. Throws BucketCheckError naming the bucket when S3 answers that it
   * does not exist (404), that access is denied (403) or that it lives in another region (301); any
   * other failure (no answer within timeoutMs, 5xx) is thrown as it is.
   */
  async checkBucket(timeoutMs = 15_000): Promise<void> {
    storeUsage.addS3Request("get");
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), {
        abortSignal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const status = awsHttpStatus(err);
      if (status === 404) throw new BucketCheckError(`bucket ${this.bucket} does not exist`);
      if (status === 403)
        throw new BucketCheckError(`access to bucket ${this.bucket} is denied (check the credentials and the policy)`);
      if (status === 301)
        throw new BucketCheckError(`bucket ${this.bucket} is in another region than the one configured (?region=)`);
      throw err;
    }
  }

  /**
   * One PutObject, with the body's digests computed beforehand a slice at a time (payload-digests.ts)
   * instead of by the client in one synchronous step: the CRC32 as the request's ChecksumCRC32, the SHA-256
   * as its `x-amz-content-sha256` header, which the signer then signs as it would its own.
   */
  async put(key: string, data: Buffer, _options?: PutOptions): Promise<void> {
    storeUsage.addS3Request("put");
    const { sha256Hex, crc32Base64 } = await payloadDigests(data);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.prefix + key,
      Body: data,
      ContentLength: data.length,
      ChecksumCRC32: crc32Base64,
    });
    command.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        if (request.headers) request.headers[CONTENT_SHA256_HEADER] = sha256Hex;
        return next(args);
      },
      { step: "build", name: "warpPayloadSha256" },
    );
    await this.client.send(command);
  }

  async get(key: string, range?: ByteRange): Promise<Buffer> {
    if (range && (range.offset < 0 || range.length < 0))
      throw new RangeError(`invalid byte range ${range.offset}+${range.length}`);
    if (range && range.length === 0) {
      // HTTP cannot ask for zero bytes; only existence matters.
      storeUsage.addS3Request("get");
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      } catch (err) {
        if (isS3NotFound(err)) throw new ObjectNotFoundError(key);
        throw err;
      }
      return Buffer.alloc(0);
    }
    storeUsage.addS3Request("get");
    try {
      const out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          ...(range ? { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {}),
        }),
      );
      if (!out.Body) return Buffer.alloc(0);
      if (out.Body instanceof Readable && typeof out.ContentLength === "number")
        return await readExactly(out.Body, out.ContentLength, key);
      const bytes = await out.Body.transformToByteArray();
      // A view of the SDK's array, not a copy of it: Buffer.from(Uint8Array) would copy every byte again,
      // about a fifth of the agent's CPU per MiB read (bench/s3-reads.ts).
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isS3NotFound(err)) throw new ObjectNotFoundError(key);
      // 416: the range starts at or past the end (or the object is empty). Absent objects answer 404 first.
      if (awsErrorName(err) === "InvalidRange" || awsHttpStatus(err) === 416) return Buffer.alloc(0);
      throw err;
    }
  }

  /** Compacted objects do not expire here (retention deletes them): tells whether the object exists. */
  async setExpiry(key: string, _expiresAt: Date): Promise<boolean> {
    try {
      await this.get(key, { offset: 0, length: 0 });
      return true;
    } catch (err) {
      if (err instanceof ObjectNotFoundError) return false;
      throw err;
    }
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      storeUsage.addS3Request("delete");
      const out = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((k) => ({ Key: this.prefix + k })), Quiet: true },
        }),
      );
      const errors = (out.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
      if (errors.length > 0) {
        const first = errors[0]!;
        throw new Error(
          `S3 DeleteObjects in ${this.bucket}: ${errors.length} keys failed, first ${first.Key}: ${first.Code} ${first.Message ?? ""}`.trim(),
        );
      }
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      storeUsage.addS3Request("list");
      const page: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix + prefix,
          ...(token ? { ContinuationToken: token } : {}),
          ...(this.options.listPageSize ? { MaxKeys: this.options.listPageSize } : {}),
        }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        yield { key: o.Key.slice(this.prefix.length), size: o.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {
    if (this.owned) this.client.destroy();
  }
}

/** Opens the S3 store of a bucket URL. */
export function openS3ObjectStore(url: S3BucketUrl, options: S3ObjectStoreOptions = {}): S3ObjectStore {
  const { client, ...rest } = options;
  return new S3ObjectStore(url.bucket, url.prefix, client ?? url, rest);
}

/**
 * The body of a response announcing `length` bytes, copied into one buffer of that size chunk by chunk as
 * it arrives. The SDK's transformToByteArray gathers the chunks and copies them all at the end into a new
 * zero-filled array: one synchronous copy of the whole body, which held the event loop for hundreds of
 * milliseconds for the tens of MiB a compaction pass reads from one object (bench/s3-reads.ts reports
 * the longest wait). A body shorter or longer than announced is an error, not a short read.
 */
export async function readExactly(body: Readable, length: number, key: string): Promise<Buffer> {
  const data = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    // Leaving the loop by a throw destroys the stream.
    if (at + chunk.length > length)
      throw new Error(`S3 object ${key}: more bytes than its Content-Length of ${length}`);
    chunk.copy(data, at);
    at += chunk.length;
  }
  if (at !== length) throw new Error(`S3 object ${key}: ${at} bytes received of its Content-Length of ${length}`);
  return data;
}
