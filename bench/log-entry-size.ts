/**
 * Metadata log entry size per partition batch, JSON entries (format 1) against binary ones naming topics
 * (format 3) and naming them by topic number (format 8), for ingestion files of 6 and of 1,000 partitions (docs/metadata-log.md, "Entry formats"). Deterministic:
 * no store, no clock. Also part of `npm run bench`.
 *
 *   npx tsx bench/log-entry-size.ts
 */
import { logEntrySizeTable, measureLogEntrySizes } from "./lib/log-entry-size.js";

process.stdout.write(`${logEntrySizeTable(measureLogEntrySizes())}\n`);
