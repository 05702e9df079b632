/**
 * The one error type of the protocol codec. Every malformed input (truncation, bad lengths, invalid
 * UTF-8, unknown API key or version, varints that are too long) surfaces as a ProtocolError, so the
 * connection layer can close the socket on exactly this class and treat anything else as a bug.
 */
export class ProtocolError extends Error {
  override readonly name = "ProtocolError";
  constructor(message: string) {
    super(message);
  }
}
