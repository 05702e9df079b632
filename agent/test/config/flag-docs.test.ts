/**
 * The README's flag tables are generated from the CLI's flag tables (scripts/gen-flag-docs.ts);
 * this fails when someone changes a flag without regenerating the README.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { README, renderReadme } from "../../../scripts/gen-flag-docs.js";
import { AGENT_FLAG_LIST } from "../../src/config/flags.js";

describe("README flag tables", () => {
  it("are in step with the flag tables (run npx tsx scripts/gen-flag-docs.ts to fix)", () => {
    const current = readFileSync(README, "utf8");
    assert.equal(renderReadme(current), current);
  });

  it("list every agent flag with its environment variable", () => {
    const current = readFileSync(README, "utf8");
    for (const flag of AGENT_FLAG_LIST) {
      assert.ok(current.includes(`\`-${flag.name}`), `README lists -${flag.name}`);
      assert.ok(current.includes(`\`${flag.env}\``), `README lists ${flag.env}`);
    }
  });
});
