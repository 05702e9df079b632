/**
 * docs/architecture.md's "Map of folders" against the tree: every folder that holds TypeScript
 * (outside test folders) and every top-level folder has a row, and every row names a folder that
 * exists and is tracked.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../scripts/sync-chart.js";

const TEST_FOLDER = /(^|\/)test(\/|$)/;

/** The folders named in the first column of the map's table, without their trailing slash. */
function mappedFolders(markdown: string): string[] {
  const start = markdown.indexOf("## Map of folders");
  assert.ok(start >= 0, "docs/architecture.md has a 'Map of folders' section");
  const end = markdown.indexOf("\n## ", start + 1);
  const section = markdown.slice(start, end < 0 ? undefined : end);
  const rows = [...section.matchAll(/^\| `([^`]+)\/` \|/gm)].map((m) => m[1] ?? "");
  assert.ok(rows.length > 0, "the map has rows");
  return rows;
}

function trackedFiles(): string[] {
  return execFileSync("git", ["ls-files"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("docs/architecture.md: the map of folders matches the tree", () => {
  const rows = mappedFolders(fs.readFileSync(path.join(REPO_ROOT, "docs/architecture.md"), "utf8"));
  const files = trackedFiles();

  it("lists every folder that holds TypeScript outside tests, and every top-level folder", () => {
    const sourceFolders = new Set(
      files
        .filter((f) => f.endsWith(".ts") && !TEST_FOLDER.test(f) && f.includes("/"))
        .map((f) => path.posix.dirname(f)),
    );
    const missing = [...sourceFolders].filter((d) => !rows.includes(d)).sort();
    assert.deepEqual(missing, [], `folders missing from the map: ${missing.join(", ")}`);
    const topLevel = new Set(files.filter((f) => f.includes("/") && !f.startsWith(".")).map((f) => f.split("/")[0]));
    const uncovered = [...topLevel].filter((t) => !rows.some((r) => r === t || r.startsWith(`${t}/`))).sort();
    assert.deepEqual(uncovered, [], `top-level folders missing from the map: ${uncovered.join(", ")}`);
  });

  it("names only folders that exist in the tree", () => {
    const tracked = new Set(
      files.flatMap((f) =>
        f
          .split("/")
          .slice(0, -1)
          .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
      ),
    );
    const stale = rows.filter((r) => !tracked.has(r));
    assert.deepEqual(stale, [], `rows naming folders that do not exist: ${stale.join(", ")}`);
  });

  it("has one row per folder", () => {
    assert.equal(new Set(rows).size, rows.length, "no folder is listed twice");
  });
});
