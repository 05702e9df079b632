/**
 * The embedded default store (file://<dir>): objects, metadata log, snapshots and items in one local
 * directory, used by a single agent. Layout and formats: docs/storage-format.md.
 */
import { promises as fs } from "node:fs";
import path from "node:path";
import type { ObjectStore, Stores } from "../types.js";
import { lockDir } from "./lock.js";
import { FileMetadataStore, type FileMetadataOptions } from "./metadata.js";
import { FileObjectStore } from "./objects.js";

export { StoreLockedError } from "./lock.js";
export { FileMetadataStore } from "./metadata.js";
export { FileObjectStore } from "./objects.js";

async function prepareDir(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  await fs.mkdir(abs, { recursive: true });
  return abs;
}

/** Opens the file store in `dir` (created when missing) for objects and metadata. Takes the directory lock. */
export async function openFileStores(dir: string, options: FileMetadataOptions = {}): Promise<Stores> {
  const abs = await prepareDir(dir);
  const lock = await lockDir(abs);
  try {
    const objects = new FileObjectStore(abs);
    await objects.init();
    const metadata = await FileMetadataStore.open(abs, options);
    let closing: Promise<void> | null = null;
    return {
      ingestion: objects,
      compaction: objects,
      metadata,
      close: () =>
        (closing ??= (async () => {
          try {
            await metadata.close();
            await objects.close();
          } finally {
            await lock.release();
          }
        })()),
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** Opens only the object part of a file store (a compaction directory apart from the ingestion one). Takes the lock; close() releases it. */
export async function openFileObjectStore(dir: string): Promise<ObjectStore> {
  const abs = await prepareDir(dir);
  const lock = await lockDir(abs);
  try {
    const objects = new FileObjectStore(abs, () => lock.release());
    await objects.init();
    return objects;
  } catch (err) {
    await lock.release();
    throw err;
  }
}
