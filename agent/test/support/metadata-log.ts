/**
 * A MetadataLog for tests that drive it by hand: no tail timer, no snapshots unless a test asks
 * (snapshotNow), ten entries kept after one, a "test" logger. `options` overrides any of these.
 */
import { componentLogger } from "../../../common/logger.js";
import { MetadataLog, type MetadataLogOptions } from "../../src/metadata/log.js";
import type { MetadataStore } from "../../src/store/types.js";

export function testMetadataLog(store: MetadataStore, options: Partial<MetadataLogOptions> = {}): MetadataLog {
  return new MetadataLog(store, {
    tailIntervalMs: 0,
    snapshotEveryEntries: 0,
    keepEntriesAfterSnapshot: 10,
    writesSnapshots: () => false,
    logger: componentLogger("test"),
    ...options,
  });
}
