/**
 * SASL/PLAIN, server side (RFC 4616): one message `[authzid] NUL authcid NUL passwd`. The authzid
 * must be empty or equal to the user name. Send it over TLS only: the password travels in clear.
 */
import { SaslAuthenticationError } from "./mechanisms.js";
import type { SaslExchange, SaslStep } from "./mechanisms.js";

export interface PlainServerOptions {
  /** Whether the password is right for the user (false for unknown users). */
  readonly verify: (user: string, password: string) => Promise<boolean>;
}

export class PlainServerExchange implements SaslExchange {
  private done = false;

  constructor(private readonly options: PlainServerOptions) {}

  async step(clientMessage: Buffer): Promise<SaslStep> {
    if (this.done) throw new SaslAuthenticationError("PLAIN exchange already complete");
    this.done = true;
    const first = clientMessage.indexOf(0);
    const second = first < 0 ? -1 : clientMessage.indexOf(0, first + 1);
    if (second < 0 || clientMessage.indexOf(0, second + 1) >= 0) {
      throw new SaslAuthenticationError("Invalid SASL/PLAIN message: expected authzid NUL user NUL password");
    }
    const authzid = clientMessage.subarray(0, first).toString("utf8");
    const user = clientMessage.subarray(first + 1, second).toString("utf8");
    const password = clientMessage.subarray(second + 1).toString("utf8");
    if (user === "" || password === "")
      throw new SaslAuthenticationError("Authentication failed: user name and password must not be empty");
    if (authzid !== "" && authzid !== user)
      throw new SaslAuthenticationError("Authentication failed: the authorization id must be the user name");
    if (!(await this.options.verify(user, password)))
      throw new SaslAuthenticationError("Authentication failed: Invalid username or password");
    return { response: Buffer.alloc(0), principal: user };
  }
}
