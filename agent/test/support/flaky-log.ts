/**
 * A real metadata log on the mem store, whose appends fail on demand the way DynamoDB fails past its
 * retries (ThrottlingException), or hang the way a request to an unreachable store does until its
 * timeout. Shared by the handler tests of requests that append to the log.
 */
import { componentLogger } from "../../../common/logger.js";
import { MetadataLog, type MetadataLogOptions } from "../../src/metadata/log.js";
import { MemMetadataStore } from "../../src/store/mem.js";

export class FlakyMetadataStore extends MemMetadataStore {
  failing = false;
  /** Appends never answer (and never land). */
  hanging = false;
  override async append(index: bigint, data: Buffer): Promise<boolean> {
    if (this.hanging) return new Promise<boolean>(() => undefined);
    if (this.failing)
      throw Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
        name: "ThrottlingException",
      });
    return super.append(index, data);
  }
}

export async function openFlakyLog(
  options: Partial<MetadataLogOptions> = {},
): Promise<{ store: FlakyMetadataStore; log: MetadataLog }> {
  const store = new FlakyMetadataStore();
  const log = new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => true,
    logger: componentLogger("test"),
    ...options,
  });
  await log.open();
  return { store, log };
}
