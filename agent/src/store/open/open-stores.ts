/**
 * Opens the agent's stores from its bucket URL flags.
 *
 *   -bucketURL X                      X holds everything: mem://, file:// or dynamodb:// (s3:// cannot
 *                                     hold the metadata log: it needs a conditional append).
 *   -ingestionBucketURL I             I holds ingestion files and the metadata log: dynamodb://, file://, mem://
 *   -compactionBucketURL C            C holds compacted objects: s3://, file://, mem:// (not dynamodb://:
 *                                     compacted objects are large and long-lived, exactly what S3 is cheap for),
 *                                     and, when I is dynamodb://, the metadata log's large snapshots
 *
 * The two forms exclude each other, and the split form needs both URLs. DynamoDB is the one store
 * contacted while opening (its tables are checked); a failure there other than a table problem names
 * the endpoint and the flag (StoreStartError).
 */
import path from "node:path";
import type { BucketUrl, DynamoBucketUrl } from "../../../../common/bucket-url.js";
import { dynamoEndpoint, formatBucketUrl } from "../../../../common/bucket-url.js";
import { componentLogger, errorMessage } from "../../../../common/logger.js";
import { DynamoObjectStore, makeDynamoClient, openDynamoStores, TableSetupError } from "../dynamodb/index.js";
import { openFileObjectStore, openFileStores } from "../file/index.js";
import { openMemStores } from "../mem.js";
import { BucketCheckError, openS3ObjectStore, type S3ObjectStore } from "../s3/index.js";
import { SnapshotObjectStore } from "../snapshot-objects.js";
import type { ObjectStore, Stores } from "../types.js";

export interface OpenStoresConfig {
  readonly bucketUrl?: BucketUrl;
  readonly ingestionBucketUrl?: BucketUrl;
  readonly compactionBucketUrl?: BucketUrl;
  /** Create missing DynamoDB tables (as WarpStream's agent does); existing ones are verified either way. */
  readonly createTables: boolean;
}

export class StoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreConfigError";
  }
}

/** A store could not be opened at start-up (unreachable, credentials refused); names the endpoint and the flag. */
export class StoreStartError extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
    this.name = "StoreStartError";
  }
}

/** Error codes of a request that never got an answer (connection refused, DNS, timeouts, resets). */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
]);

function isNetworkError(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const { code, name } = err as { code?: unknown; name?: unknown };
  return (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) || name === "TimeoutError";
}

/** Says where DynamoDB was asked and which flag said so; table problems (TableSetupError) name the table already. */
function dynamoStartError(err: unknown, flag: string, url: DynamoBucketUrl): unknown {
  if (err instanceof TableSetupError) return err;
  const endpoint = dynamoEndpoint(url);
  const from = endpoint.variable ? `from ${endpoint.variable}; ` : "";
  const where = `DynamoDB at ${endpoint.url} (${from}${flag} ${formatBucketUrl(url)})`;
  const name = err instanceof Error && err.name !== "Error" ? `${err.name}: ` : "";
  const message = isNetworkError(err)
    ? `cannot reach ${where}: ${errorMessage(err)}`
    : `${where}: checking its tables at start-up failed: ${name}${errorMessage(err)}`;
  return new StoreStartError(message, { cause: err });
}

const INGESTION_KINDS: ReadonlyArray<BucketUrl["kind"]> = ["dynamodb", "file", "mem"];
const COMPACTION_KINDS: ReadonlyArray<BucketUrl["kind"]> = ["s3", "file", "mem"];

/** Checks a store configuration without opening anything; throws StoreConfigError with what to change. */
export function checkStoreConfig(config: OpenStoresConfig): void {
  const { bucketUrl, ingestionBucketUrl: ing, compactionBucketUrl: comp } = config;
  if (bucketUrl && (ing || comp)) {
    throw new StoreConfigError("give either -bucketURL, or -ingestionBucketURL with -compactionBucketURL, not both");
  }
  if (bucketUrl) {
    if (bucketUrl.kind === "s3") {
      throw new StoreConfigError(
        `-bucketURL ${formatBucketUrl(bucketUrl)}: an s3:// bucket cannot hold the metadata log alone; use -ingestionBucketURL dynamodb://<region>/<files_table><><chunks_table> with -compactionBucketURL ${formatBucketUrl(bucketUrl)}`,
      );
    }
    return;
  }
  if (!ing && !comp)
    throw new StoreConfigError(
      "no store configured: give -bucketURL, or -ingestionBucketURL with -compactionBucketURL",
    );
  if (!ing)
    throw new StoreConfigError(
      "-compactionBucketURL needs -ingestionBucketURL too (where ingestion files and the metadata log live)",
    );
  if (!comp)
    throw new StoreConfigError(
      "-ingestionBucketURL needs -compactionBucketURL too (where compacted objects live), or use -bucketURL alone",
    );
  if (!INGESTION_KINDS.includes(ing.kind)) {
    throw new StoreConfigError(
      `-ingestionBucketURL ${formatBucketUrl(ing)}: ingestion and the metadata log need ${INGESTION_KINDS.map((k) => `${k}://`).join(", ")}; s3:// belongs in -compactionBucketURL`,
    );
  }
  if (!COMPACTION_KINDS.includes(comp.kind)) {
    throw new StoreConfigError(
      `-compactionBucketURL ${formatBucketUrl(comp)}: compacted objects go to ${COMPACTION_KINDS.map((k) => `${k}://`).join(", ")}; dynamodb:// belongs in -ingestionBucketURL`,
    );
  }
}

function sameLocation(a: BucketUrl, b: BucketUrl): boolean {
  if (a.kind === "mem" && b.kind === "mem") return a.name === b.name;
  if (a.kind === "file" && b.kind === "file") return path.resolve(a.path) === path.resolve(b.path);
  return false;
}

async function openSingle(url: BucketUrl, flag: string, createTables: boolean): Promise<Stores> {
  switch (url.kind) {
    case "mem":
      return openMemStores(url.name);
    case "file":
      return openFileStores(url.path);
    case "dynamodb":
      try {
        return await openDynamoStores(url, { createTables });
      } catch (err) {
        throw dynamoStartError(err, flag, url);
      }
    case "s3":
      throw new StoreConfigError(`s3:// cannot hold ingestion files and the metadata log: ${formatBucketUrl(url)}`);
  }
}

async function openObjectsOnly(url: BucketUrl): Promise<ObjectStore> {
  switch (url.kind) {
    case "mem":
      return openMemStores(url.name).compaction;
    case "file":
      return openFileObjectStore(url.path);
    case "s3": {
      const store = openS3ObjectStore(url);
      try {
        await checkCompactionBucket(store, url);
      } catch (err) {
        await store.close();
        throw err;
      }
      return store;
    }
    case "dynamodb":
      throw new StoreConfigError(`dynamodb:// cannot be the compaction store: ${formatBucketUrl(url)}`);
  }
}

/**
 * The compaction bucket is checked at start-up, like the tables: a bucket that S3 says is missing,
 * forbidden or in another region stops the agent with the flag named. When S3 does not answer, the
 * agent starts anyway: produce and tail reads do not need it, and compaction retries.
 */
async function checkCompactionBucket(store: S3ObjectStore, url: BucketUrl): Promise<void> {
  try {
    await store.checkBucket();
  } catch (err) {
    if (err instanceof BucketCheckError)
      throw new StoreConfigError(`-compactionBucketURL ${formatBucketUrl(url)}: ${err.message}`);
    componentLogger("stores").warn("could not check the compaction bucket; starting anyway, compaction will retry", {
      bucket: store.bucket,
      error: errorMessage(err),
    });
  }
}

export async function openStores(config: OpenStoresConfig): Promise<Stores> {
  checkStoreConfig(config);
  if (config.bucketUrl) return openSingle(config.bucketUrl, "-bucketURL", config.createTables);
  const ing = config.ingestionBucketUrl!;
  const comp = config.compactionBucketUrl!;
  const ingestion = await openSingle(ing, "-ingestionBucketURL", config.createTables);
  if (sameLocation(ing, comp)) return ingestion;
  let compaction: ObjectStore;
  try {
    compaction = await openObjectsOnly(comp);
  } catch (err) {
    await ingestion.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    ingestion: ingestion.ingestion,
    compaction,
    // On DynamoDB a snapshot costs a write unit per KB and as much to delete: large ones go to the
    // compaction bucket as objects (docs/metadata-log.md section 6).
    metadata:
      ingestion.metadata.kind === "dynamodb"
        ? new SnapshotObjectStore(ingestion.metadata, compaction, {
            onSweepFailed: (err) =>
              componentLogger("stores").warn("could not delete superseded metadata snapshot objects", {
                error: errorMessage(err),
              }),
          })
        : ingestion.metadata,
    close: () =>
      (closing ??= (async () => {
        try {
          await compaction.close();
        } finally {
          await ingestion.close();
        }
      })()),
  };
}

/**
 * Object stores of the same DynamoDB tables and S3 bucket, on clients of their own, without the start-up
 * checks (the agent's own stores made them): what a worker thread copying compaction data works with
 * (background/compaction-worker.ts). Mem and file stores cannot be opened twice; they are refused.
 */
export function openRemoteObjectStores(
  ingestionUrl: BucketUrl,
  compactionUrl: BucketUrl,
): { ingestion: ObjectStore; compaction: ObjectStore } {
  const open = (url: BucketUrl): ObjectStore => {
    switch (url.kind) {
      case "dynamodb": {
        const client = makeDynamoClient({ region: url.region, ...(url.endpoint ? { endpoint: url.endpoint } : {}) });
        return new DynamoObjectStore(client, url.filesTable, url.chunksTable, {}, async () => client.destroy());
      }
      case "s3":
        return openS3ObjectStore(url);
      case "mem":
      case "file":
        throw new StoreConfigError(`${formatBucketUrl(url)}: only DynamoDB and S3 stores can be opened again`);
    }
  };
  const ingestion = open(ingestionUrl);
  return {
    ingestion,
    compaction: formatBucketUrl(ingestionUrl) === formatBucketUrl(compactionUrl) ? ingestion : open(compactionUrl),
  };
}
