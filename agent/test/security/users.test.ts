/**
 * The users file: password lines and pre-hashed SCRAM lines, comments and CRLF, and an error naming
 * the line (never its content) for each kind of bad input.
 */
import assert from "node:assert/strict";
import { ScramServerExchange } from "../../src/security/scram.js";
import { UsersFileError, parseUsersFile, prehashedUserLine } from "../../src/security/users.js";
import { ScramClient } from "./support.js";

const ALL = { mechanisms: ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const };

async function fails(text: string | Promise<string>, ...parts: string[]): Promise<void> {
  const content = await text;
  await assert.rejects(
    () => parseUsersFile(content, ALL),
    (err: unknown) => {
      assert.ok(err instanceof UsersFileError, `expected UsersFileError, got ${String(err)}`);
      for (const part of parts)
        assert.ok(err.message.includes(part), `${JSON.stringify(err.message)} should include ${JSON.stringify(part)}`);
      assert.ok(!err.message.includes("hunter2"), "the message never repeats a password");
      return true;
    },
  );
}

describe("SASL users file", () => {
  it("reads user:password lines, skipping comments and blank lines, with CRLF endings", async () => {
    const users = await parseUsersFile(
      "# users\r\n\r\nalice:alice-secret\r\n  # indented comment\nbob:pa:ss word \n",
      ALL,
    );
    assert.equal(users.size, 2);
    assert.equal(await users.passwordMatches("alice", "alice-secret"), true);
    assert.equal(
      await users.passwordMatches("bob", "pa:ss word "),
      true,
      "the password is everything after the first colon",
    );
    assert.equal(await users.passwordMatches("bob", "pa:ss word"), false);
    assert.equal(await users.passwordMatches("carol", "x"), false);
    assert.ok(users.scramCredential("alice", "SCRAM-SHA-256"));
    assert.ok(users.scramCredential("alice", "SCRAM-SHA-512"));
    assert.equal(users.scramCredential("alice", "SCRAM-SHA-256")!.iterations, 4096);
  });

  it("derives only the SCRAM credentials of enabled mechanisms (PLAIN alone keeps one to check against)", async () => {
    const scram512 = await parseUsersFile("alice:pw\n", { mechanisms: ["SCRAM-SHA-512"] });
    assert.equal(scram512.scramCredential("alice", "SCRAM-SHA-256"), undefined);
    assert.ok(scram512.scramCredential("alice", "SCRAM-SHA-512"));
    const plain = await parseUsersFile("alice:pw\n", { mechanisms: ["PLAIN"] });
    assert.equal(await plain.passwordMatches("alice", "pw"), true);
  });

  it("derives password lines' keys off the event loop (it keeps turning while a file loads)", async () => {
    let turned = false;
    setImmediate(() => (turned = true));
    const users = await parseUsersFile("alice:alice-secret\n", { ...ALL, iterations: 200_000 });
    assert.equal(turned, true, "an immediate callback ran while the keys were derived");
    assert.equal(await users.passwordMatches("alice", "alice-secret"), true);
  });

  it("salts every credential differently", async () => {
    const users = await parseUsersFile("a:same\nb:same\n", ALL);
    assert.notDeepEqual(
      users.scramCredential("a", "SCRAM-SHA-256")!.salt,
      users.scramCredential("b", "SCRAM-SHA-256")!.salt,
    );
  });

  it("accepts pre-hashed SCRAM credentials, usable by SCRAM and PLAIN", async () => {
    const line = await prehashedUserLine("carol", "SCRAM-SHA-512", "carol-pw", 8192);
    assert.match(line, /^carol:SCRAM-SHA-512:salt=[^,]+,stored_key=[^,]+,server_key=[^,]+,iterations=8192$/);
    assert.ok(!line.includes("carol-pw"));
    const users = await parseUsersFile(
      `${line}\n${await prehashedUserLine("carol", "SCRAM-SHA-256", "carol-pw")}\n`,
      ALL,
    );
    const client = new ScramClient("SCRAM-SHA-512", "carol", "carol-pw");
    const exchange = new ScramServerExchange("SCRAM-SHA-512", {
      lookup: (u) => users.scramCredential(u, "SCRAM-SHA-512"),
    });
    const serverFirst = exchange.step(client.first()).response;
    assert.match(serverFirst.toString(), /,i=8192$/);
    assert.equal(exchange.step(client.final(serverFirst)).principal, "carol");
    assert.equal(await users.passwordMatches("carol", "carol-pw"), true);
    assert.equal(await users.passwordMatches("carol", "nope"), false);
  });

  describe("errors name the line", () => {
    it("a line without a colon", () => fails("alice:x\nbob hunter2\n", "line 2", "expected <user>:<password>"));
    it("an empty user name", () => fails(":hunter2\n", "line 1", "empty user name"));
    it("an empty password", () => fails("# c\nalice:\n", "line 2", "empty password", "alice"));
    it("spaces around the user name", () => fails(" alice:hunter2\n", "line 1", "leading or trailing spaces"));
    it("a user defined twice", () => fails("alice:hunter2\nalice:other\n", "line 2", "already defined on line 1"));
    it("a password and a pre-hashed credential for one user", () =>
      fails(
        prehashedUserLine("alice", "SCRAM-SHA-256", "hunter2").then((line) => `alice:hunter2\n${line}\n`),
        "line 2",
        "already has a password on line 1",
      ));
    it("a pre-hashed credential missing a field", () =>
      fails("alice:SCRAM-SHA-256:salt=AAAA,stored_key=AAAA,iterations=4096\n", "line 1", "lacks server_key="));
    it("a pre-hashed credential with an unknown field", () =>
      fails("alice:SCRAM-SHA-256:hunter2=1\n", "line 1", "salt=<base64>"));
    it("a pre-hashed credential with too few iterations", () =>
      fails(
        prehashedUserLine("alice", "SCRAM-SHA-256", "pw").then((line) =>
          line.replace("iterations=4096", "iterations=100"),
        ),
        "line 1",
        "iterations must be",
      ));
    it("a pre-hashed key of the wrong length", () =>
      fails(
        prehashedUserLine("alice", "SCRAM-SHA-512", "pw").then((line) =>
          line.replace(/stored_key=[^,]+/, "stored_key=AAAA"),
        ),
        "line 1",
        "stored_key must be 64 bytes",
      ));
    it("no users at all", () => fails("# nobody\n\n", "no users"));
  });
});
