/**
 * Writes crds/warpagent.dev_warpagents.yaml from operator/src/api/crd.ts, and refreshes the Helm
 * chart's copy of it (scripts/sync-chart.ts). Run: npx tsx scripts/gen-crd.ts
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CRD_FILE, warpAgentCrdYaml } from "../operator/src/api/crd.js";
import { syncChart } from "./sync-chart.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
fs.writeFileSync(path.join(root, CRD_FILE), warpAgentCrdYaml());
process.stdout.write(`wrote ${CRD_FILE}\n`);
for (const copy of syncChart(root)) process.stdout.write(`wrote ${copy}\n`);
