/**
 * SCRAM server side: RFC 7677's SCRAM-SHA-256 test vector byte for byte, SCRAM-SHA-512 against an
 * independent client, and every way an exchange fails (wrong password, unknown user, tampered nonce,
 * channel binding, authzid, delegation tokens, a repeated step).
 */
import assert from "node:assert/strict";
import { SaslAuthenticationError } from "../../src/security/mechanisms.js";
import type { ScramMechanism } from "../../src/security/mechanisms.js";
import { ScramServerExchange, deriveScramCredential, scramPasswordMatches } from "../../src/security/scram.js";
import type { ScramCredential } from "../../src/security/scram.js";
import { ScramClient } from "./support.js";

function server(
  mechanism: ScramMechanism,
  users: Record<string, ScramCredential>,
  serverNonce?: string,
): ScramServerExchange {
  return new ScramServerExchange(mechanism, {
    lookup: (u) => users[u],
    ...(serverNonce ? { serverNonce: () => serverNonce } : {}),
  });
}

function fails(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof SaslAuthenticationError && pattern.test(err.message));
}

describe("SCRAM server", () => {
  describe('RFC 7677 test vector (SCRAM-SHA-256, user "user", password "pencil")', () => {
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const clientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    const clientFinal =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    const serverFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    it("answers with the RFC's server-first and server-final messages", async () => {
      const credential = await deriveScramCredential("SCRAM-SHA-256", "pencil", 4096, salt);
      const exchange = server("SCRAM-SHA-256", { user: credential }, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
      const first = exchange.step(Buffer.from(clientFirst));
      assert.equal(first.response.toString(), serverFirst);
      assert.equal(first.principal, null);
      const final = exchange.step(Buffer.from(clientFinal));
      assert.equal(final.response.toString(), serverFinal);
      assert.equal(final.principal, "user");
    });

    it("refuses the RFC's client proof for another password", async () => {
      const credential = await deriveScramCredential("SCRAM-SHA-256", "pencil2", 4096, salt);
      const exchange = server("SCRAM-SHA-256", { user: credential }, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
      exchange.step(Buffer.from(clientFirst));
      fails(() => exchange.step(Buffer.from(clientFinal)), /invalid credentials with SASL mechanism SCRAM-SHA-256/);
    });
  });

  for (const mechanism of ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const) {
    describe(mechanism, () => {
      let users: Record<string, ScramCredential>;
      before(async () => {
        users = {
          alice: await deriveScramCredential(mechanism, "alice-secret"),
          "we,ird=name": await deriveScramCredential(mechanism, "x"),
        };
      });

      it("authenticates a client with the right password and proves itself to the client", () => {
        const client = new ScramClient(mechanism, "alice", "alice-secret");
        const exchange = server(mechanism, users);
        const serverFirst = exchange.step(client.first()).response;
        const final = exchange.step(client.final(serverFirst));
        assert.equal(final.principal, "alice");
        client.verify(final.response);
      });

      it("decodes =2C and =3D in user names", () => {
        const client = new ScramClient(mechanism, "we,ird=name", "x");
        const exchange = server(mechanism, users);
        const final = exchange.step(client.final(exchange.step(client.first()).response));
        assert.equal(final.principal, "we,ird=name");
      });

      it("refuses a wrong password", () => {
        const client = new ScramClient(mechanism, "alice", "wrong");
        const exchange = server(mechanism, users);
        const serverFirst = exchange.step(client.first()).response;
        fails(
          () => exchange.step(client.final(serverFirst)),
          new RegExp(`invalid credentials with SASL mechanism ${mechanism}`),
        );
      });

      it("treats an unknown user like a wrong password, with a stable made-up salt", () => {
        const a = server(mechanism, users)
          .step(new ScramClient(mechanism, "mallory", "x").first())
          .response.toString();
        const b = server(mechanism, users)
          .step(new ScramClient(mechanism, "mallory", "x").first())
          .response.toString();
        assert.equal(/s=([^,]+)/.exec(a)![1], /s=([^,]+)/.exec(b)![1], "same salt for the same unknown user");
        assert.match(a, /,i=4096$/);
        const client = new ScramClient(mechanism, "mallory", "x");
        const exchange = server(mechanism, users);
        const serverFirst = exchange.step(client.first()).response;
        fails(() => exchange.step(client.final(serverFirst)), /invalid credentials/);
      });
    });
  }

  describe("malformed and refused exchanges", () => {
    let users: Record<string, ScramCredential>;
    before(async () => {
      users = { alice: await deriveScramCredential("SCRAM-SHA-256", "pw") };
    });
    const cases: Array<[string, string, RegExp]> = [
      ["no GS2 header", "n=alice,r=abc", /GS2 header|GS2 flag/],
      ["channel binding", "p=tls-unique,,n=alice,r=abc", /channel binding is not supported/],
      ["another authorization id", "n,a=bob,n=alice,r=abc", /authorization id/],
      ["a mandatory extension", "n,,m=x,n=alice,r=abc", /mandatory extensions/],
      ["delegation tokens", "n,,n=alice,r=abc,tokenauth=true", /Delegation tokens/],
      ["a bad user name escape", "n,,n=al=ice,r=abc", /malformed user name/],
      ["an empty nonce", "n,,n=alice,r=", /bad nonce/],
      ["attributes out of order", "n,,r=abc,n=alice", /expected n=<user>,r=<nonce>/],
    ];
    for (const [what, message, pattern] of cases) {
      it(`refuses ${what}`, () => fails(() => server("SCRAM-SHA-256", users).step(Buffer.from(message)), pattern));
    }

    it("accepts an authorization id equal to the user name and the y flag", () => {
      const exchange = server("SCRAM-SHA-256", users);
      assert.match(exchange.step(Buffer.from("y,a=alice,n=alice,r=abc")).response.toString(), /^r=abc/);
    });

    it("refuses a final message with another nonce or channel binding", () => {
      const client = new ScramClient("SCRAM-SHA-256", "alice", "pw");
      const exchange = server("SCRAM-SHA-256", users);
      const serverFirst = exchange.step(client.first()).response;
      const final = client.final(serverFirst).toString();
      fails(() => exchange.step(Buffer.from(final.replace(/r=[^,]+/, "r=other"))), /nonce does not match/);
      const again = server("SCRAM-SHA-256", users);
      const c2 = new ScramClient("SCRAM-SHA-256", "alice", "pw");
      const f2 = c2.final(again.step(c2.first()).response).toString();
      fails(() => again.step(Buffer.from(f2.replace("c=biws", "c=eSws"))), /channel binding does not match/);
    });

    it("accepts librdkafka's client-final nonce (its own nonce repeated before the combined one), as Kafka does", () => {
      const client = new ScramClient("SCRAM-SHA-256", "alice", "pw");
      const exchange = server("SCRAM-SHA-256", users);
      const serverFirst = exchange.step(client.first()).response;
      const final = exchange.step(client.final(serverFirst, true));
      assert.equal(final.principal, "alice");
    });

    it("refuses a step after the exchange completed", () => {
      const client = new ScramClient("SCRAM-SHA-256", "alice", "pw");
      const exchange = server("SCRAM-SHA-256", users);
      exchange.step(client.final(exchange.step(client.first()).response));
      fails(() => exchange.step(Buffer.from("anything")), /already complete/);
    });
  });

  it("checks a PLAIN password against a stored credential", async () => {
    const credential = await deriveScramCredential("SCRAM-SHA-512", "s3cret");
    assert.equal(await scramPasswordMatches("SCRAM-SHA-512", credential, "s3cret"), true);
    assert.equal(await scramPasswordMatches("SCRAM-SHA-512", credential, "s3cret "), false);
  });
});
