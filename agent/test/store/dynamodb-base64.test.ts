/**
 * The DynamoDB client's base64 decoder (store/dynamodb/base64.ts) against the SDK's own rule, which it
 * replaces for speed: a string is accepted when its length is a multiple of four and it matches
 * /^[A-Za-z0-9+/]*={0,2}$/, and then decodes as Node's base64 decoder does. Valid strings of many lengths,
 * and thousands of corruptions of them (characters outside the alphabet, whitespace, base64url's, padding
 * moved, added or cut), get the SDK rule's verdict, with its error messages.
 */
import assert from "node:assert/strict";
import { decodeBase64 } from "../../src/store/dynamodb/base64.js";
import { makeDynamoClient } from "../../src/store/dynamodb/client.js";
import { seededRandom } from "../../../e2e/support/fault-proxy.js";

/** The rule of the SDK's default decoder (@smithy/core's fromBase64), written out as the oracle. */
function sdkVerdict(input: string): Buffer | "Incorrect padding on base64 string." | "Invalid base64 string." {
  if ((input.length * 3) % 4 !== 0) return "Incorrect padding on base64 string.";
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(input)) return "Invalid base64 string.";
  return Buffer.from(input, "base64");
}

function ourVerdict(input: string): Buffer | string {
  try {
    return Buffer.from(decodeBase64(input));
  } catch (err) {
    assert.ok(err instanceof TypeError, `a ${String(err)} for ${JSON.stringify(input)}`);
    return err.message;
  }
}

const STRAY = [" ", "\n", "\r", "\t", "-", "_", "=", "==", "*", ".", ",", "é", "\u0000", "A", "+", "/"];

describe("dynamodb base64 decoder", () => {
  it("decodes every valid string to its bytes", () => {
    const random = seededRandom(7);
    for (let length = 0; length < 200; length++) {
      const bytes = Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
      const decoded = decodeBase64(bytes.toString("base64"));
      assert.ok(decoded instanceof Uint8Array);
      assert.deepEqual(Buffer.from(decoded), bytes, `length ${length}`);
    }
    const chunk = Buffer.from(Array.from({ length: 358_400 }, (_, i) => (i * 7919) & 255));
    assert.ok(Buffer.from(decodeBase64(chunk.toString("base64"))).equals(chunk));
  });

  it("refuses exactly what the SDK's decoder refuses, with its messages", () => {
    const random = seededRandom(11);
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * 256)));
      let text = bytes.toString("base64");
      for (let edits = 1 + Math.floor(random() * 2); edits > 0; edits--) {
        const at = Math.floor(random() * (text.length + 1));
        const edit = random();
        if (edit < 0.5) text = text.slice(0, at) + STRAY[Math.floor(random() * STRAY.length)] + text.slice(at);
        else if (edit < 0.8) text = text.slice(0, at) + text.slice(at + 1);
        else text = text.slice(0, at) + STRAY[Math.floor(random() * STRAY.length)] + text.slice(at + 1);
      }
      const expected = sdkVerdict(text);
      if (typeof expected === "string") refused++;
      assert.deepEqual(ourVerdict(text), expected, JSON.stringify(text));
    }
    // The corruptions are mostly refused, and some are accepted (a letter for a letter, say).
    assert.ok(refused > 10_000 && refused < 20_000, `${refused} of 20000 refused`);
  });

  it("is the decoder of the clients the stores build", async () => {
    const client = makeDynamoClient({ region: "us-east-1", endpoint: "http://127.0.0.1:1" });
    try {
      assert.equal(client.config.base64Decoder, decodeBase64);
    } finally {
      client.destroy();
    }
  });
});
