/** Standard base64 text: the alphabet A–Z, a–z, 0–9, "+" and "/", then at most two "=" (the empty string too). */
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether `text` is standard base64 by its characters. Node's decoder does not check: it skips characters
 * outside the alphabet and takes base64url's "-" and "_".
 */
export function isBase64Text(text: string): boolean {
  return BASE64_TEXT.test(text);
}
