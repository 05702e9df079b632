/**
 * The Helm chart ships copies of files whose single source lives elsewhere in the repository (Helm
 * cannot read outside the chart): the CRD (generated into crds/ by scripts/gen-crd.ts) and the
 * operator's RBAC rules (operator/rbac/). This script refreshes the copies; e2e/local/chart.test.ts
 * fails when one differs from its source.
 *
 *   npx tsx scripts/sync-chart.ts
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CHART_DIR = "charts/warp-operator";

/** [source, copy inside the chart], relative to the repository root. */
export const CHART_COPIES: ReadonlyArray<readonly [string, string]> = [
  ["crds/warpagent.dev_warpagents.yaml", `${CHART_DIR}/crds/warpagent.dev_warpagents.yaml`],
  ["operator/rbac/clusterrole.yaml", `${CHART_DIR}/files/rbac/clusterrole.yaml`],
  ["operator/rbac/role.yaml", `${CHART_DIR}/files/rbac/role.yaml`],
];

/** Copies every source over its chart copy; returns the copies that changed. */
export function syncChart(root = REPO_ROOT): string[] {
  const changed: string[] = [];
  for (const [source, copy] of CHART_COPIES) {
    const text = fs.readFileSync(path.join(root, source), "utf8");
    const target = path.join(root, copy);
    const before = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
    if (before === text) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, text);
    changed.push(copy);
  }
  return changed;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const changed = syncChart();
  process.stdout.write(changed.length ? `updated ${changed.join(", ")}\n` : "chart copies are up to date\n");
}
