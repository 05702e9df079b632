import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import "../../src/handlers/index.js";
import { apiKeyName } from "../../src/protocol/index.js";
import { registeredHandlers } from "../../src/server/handler.js";
import { REPO_ROOT } from "../support/agents.js";

describe("docs/compatibility.md", () => {
  it("lists exactly the registered handlers and their version ranges", () => {
    const text = readFileSync(path.join(REPO_ROOT, "docs/compatibility.md"), "utf8");
    const table = text.slice(text.indexOf("<!-- api-table:start -->"), text.indexOf("<!-- api-table:end -->"));
    const documented = [...table.matchAll(/^\| (\w+) \| (\d+) \| (\d+)–(\d+) \|$/gm)].map(
      (m) => `${m[1]} ${m[2]} ${m[3]}-${m[4]}`,
    );
    const registered = registeredHandlers().map((h) => `${apiKeyName(h.key)} ${h.key} ${h.min}-${h.max}`);
    assert.deepEqual(documented, registered, "update the table in docs/compatibility.md");
  });
});
