/**
 * DynamoDB stores (dynamodb://region/files<>chunks): ingestion objects and the metadata log in the two
 * tables. Layout: docs/storage-format.md.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoBucketUrl } from "../../../../common/bucket-url.js";
import type { Stores } from "../types.js";
import { makeDynamoClient } from "./client.js";
import { DynamoMetadataStore } from "./metadata.js";
import { DynamoObjectStore } from "./objects.js";
import { ensureTables } from "./tables.js";

export { ensureTables, type EnsureTablesOptions, type TableNames } from "./tables.js";
export { TableSetupError } from "../../../../common/aws/tables.js";
export { DynamoMetadataStore } from "./metadata.js";
export { DynamoObjectStore } from "./objects.js";
export { makeDynamoClient } from "./client.js";

export interface OpenDynamoOptions {
  /** Create missing tables (the agent's default); otherwise they must exist. Existing tables are always verified. */
  readonly createTables: boolean;
  /** A client to use instead of one built from the URL (tests). It is not destroyed on close. */
  readonly client?: DynamoDBClient;
  /** Query page size (test seam to force pagination). */
  readonly queryPageLimit?: number;
}

export async function openDynamoStores(url: DynamoBucketUrl, options: OpenDynamoOptions): Promise<Stores> {
  const owned = !options.client;
  const client =
    options.client ?? makeDynamoClient({ region: url.region, ...(url.endpoint ? { endpoint: url.endpoint } : {}) });
  try {
    await ensureTables(
      client,
      { filesTable: url.filesTable, chunksTable: url.chunksTable },
      { create: options.createTables },
    );
  } catch (err) {
    if (owned) client.destroy();
    throw err;
  }
  const pageOptions = options.queryPageLimit ? { queryPageLimit: options.queryPageLimit } : {};
  const objects = new DynamoObjectStore(client, url.filesTable, url.chunksTable, pageOptions);
  const metadata = new DynamoMetadataStore(client, url.filesTable, url.chunksTable, pageOptions);
  let closed = false;
  return {
    ingestion: objects,
    compaction: objects,
    metadata,
    close: async () => {
      if (closed) return;
      closed = true;
      if (owned) client.destroy();
    },
  };
}
