import assert from "node:assert/strict";
import { isBase64Text } from "../base64.js";

describe("isBase64Text", () => {
  it("takes standard base64, padded or not, and the empty string", () => {
    for (const text of ["", "AA==", "AAA=", "AAAA", "d2FycA==", "+/+/"]) assert.equal(isBase64Text(text), true, text);
  });

  it("refuses what Node's decoder would skip or take loosely: base64url, spaces, padding inside, too much padding", () => {
    for (const text of ["-_8=", "AA AA", "A=AA", "AA===", "AA\n", "ÿ"]) assert.equal(isBase64Text(text), false, text);
  });
});
