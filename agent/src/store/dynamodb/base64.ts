/**
 * The DynamoDB client's decoder of binary attributes (`B`, `BS`), which arrive base64 in the JSON answer.
 * The SDK's default checks every string against a regular expression before decoding it; on the chunks
 * of a BatchGetItem answer (up to 40 × 350 KiB) that check was most of the answer's synchronous decode,
 * about 7 ms of blocked event loop per MiB (bench/dynamodb-reads.ts). This one refuses what that one
 * refuses and decodes at Node's speed: a length not a multiple of four, a character outside the standard
 * alphabet, padding anywhere but at the end.
 */

/** Decodes standard base64 (with padding), throwing a TypeError naming the fault as the SDK's decoder does. */
export function decodeBase64(input: string): Uint8Array {
  if (input.length % 4 !== 0) throw new TypeError("Incorrect padding on base64 string.");
  const decoded = Buffer.from(input, "base64");
  // Node's decoder skips characters outside the alphabet and stops at padding, so any of those in the
  // input makes the output shorter than its length promises; it also takes base64url's "-" and "_".
  const padding = input.endsWith("==") ? 2 : input.endsWith("=") ? 1 : 0;
  if (decoded.length !== (input.length / 4) * 3 - padding || input.includes("-") || input.includes("_"))
    throw new TypeError("Invalid base64 string.");
  return decoded;
}
