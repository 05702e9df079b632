/**
 * Test material for TLS and SASL: certificates made with the openssl CLI into a temp dir (a CA, a
 * server certificate for 127.0.0.1 and localhost, a client certificate, and a second CA nobody trusts),
 * users files, a raw Kafka client that speaks plaintext or TLS, a SCRAM client, and log capture.
 */
import assert from "node:assert/strict";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import winston from "winston";
import { runCommand, which } from "../../../e2e/support/processes.js";
import { rootLogger } from "../../../common/logger.js";
import { ApiKey, ErrorCode } from "../../src/protocol/index.js";
import type { ScramMechanism } from "../../src/security/mechanisms.js";
import { tempDir } from "../support/agents.js";
import type { RawKafkaClient } from "../support/raw-kafka-client.js";
export { RawKafkaClient } from "../support/raw-kafka-client.js";

export interface TestCerts {
  readonly dir: string;
  readonly caFile: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A client certificate signed by a CA the agent does not trust. */
  readonly rogueCert: string;
  readonly rogueKey: string;
  /** The extra client certificates asked for (makeTestCerts' `clients`), by name. */
  readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
  remove(): void;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await runCommand("openssl", args, { cwd: dir, timeoutMs: 60_000 });
  assert.equal(r.code, 0, `openssl ${args.join(" ")} failed:\n${r.stderr}`);
}

/**
 * Makes a CA, a server certificate (SAN IP:127.0.0.1, DNS:localhost) and client certificates with openssl;
 * `clients` adds client certificates signed by the CA, by name, with the subjects given
 * (openssl -subj form, e.g. "/O=Example/OU=apps/CN=orders-app").
 */
export async function makeTestCerts(clients: Readonly<Record<string, string>> = {}): Promise<TestCerts> {
  if (!which("openssl"))
    throw new Error(
      "openssl not found: the TLS tests make their certificates with it; install it with `apt-get install openssl`",
    );
  const tmp = tempDir("tls");
  const dir = tmp.path;
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const ca = async (name: string): Promise<void> =>
    openssl(dir, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
  const leaf = async (name: string, caName: string, ext: string, subject = `/CN=${name}`): Promise<void> => {
    writeFileSync(path.join(dir, `${name}.ext`), ext);
    await openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject]);
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${caName}.pem`,
      "-CAkey",
      `${caName}.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ]);
  };
  await ca("warp-test-ca");
  await ca("rogue-ca");
  const common = "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n";
  await leaf(
    "server",
    "warp-test-ca",
    `${common}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`,
  );
  await leaf("client", "warp-test-ca", `${common}extendedKeyUsage=clientAuth\n`);
  await leaf("rogue", "rogue-ca", `${common}extendedKeyUsage=clientAuth\n`);
  for (const [name, subject] of Object.entries(clients))
    await leaf(`client-${name}`, "warp-test-ca", `${common}extendedKeyUsage=clientAuth\n`, subject);
  const f = (name: string): string => path.join(dir, name);
  return {
    dir,
    caFile: f("warp-test-ca.pem"),
    serverCert: f("server.pem"),
    serverKey: f("server.key"),
    clientCert: f("client.pem"),
    clientKey: f("client.key"),
    rogueCert: f("rogue.pem"),
    rogueKey: f("rogue.key"),
    clients: Object.fromEntries(
      Object.keys(clients).map((name) => [name, { cert: f(`client-${name}.pem`), key: f(`client-${name}.key`) }]),
    ),
    remove: tmp.remove,
  };
}

/** Writes a users file into `dir` and returns its path. */
export function writeUsersFile(dir: string, users: Record<string, string>, name = "users"): string {
  const file = path.join(dir, name);
  writeFileSync(file, ["# test users", ...Object.entries(users).map(([u, p]) => `${u}:${p}`), ""].join("\n"));
  return file;
}

const HASH = { "SCRAM-SHA-256": ["sha256", 32], "SCRAM-SHA-512": ["sha512", 64] } as const;

/** The client side of SCRAM (RFC 5802), independent of the server code, for tests. */
export class ScramClient {
  readonly clientNonce: string;
  private clientFirstBare = "";
  private serverSignature: Buffer | null = null;

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
    nonce?: string,
  ) {
    this.clientNonce = nonce ?? randomBytes(18).toString("base64");
  }

  first(): Buffer {
    this.clientFirstBare = `n=${this.user.replace(/=/g, "=3D").replace(/,/g, "=2C")},r=${this.clientNonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`);
  }

  /** The client-final message; `librdkafkaNonce` repeats the client nonce in front, as librdkafka 2.0 does. */
  final(serverFirst: Buffer, librdkafkaNonce = false): Buffer {
    const [hashName, length] = HASH[this.mechanism];
    const text = serverFirst.toString();
    const attrs = Object.fromEntries(text.split(",").map((p) => [p[0], p.slice(2)]));
    assert.ok(attrs.r!.startsWith(this.clientNonce), "server nonce extends the client nonce");
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s, "base64"), Number(attrs.i), length, hashName);
    const clientKey = createHmac(hashName, salted).update("Client Key").digest();
    const storedKey = createHash(hashName).update(clientKey).digest();
    const withoutProof = `c=biws,r=${librdkafkaNonce ? this.clientNonce : ""}${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const signature = createHmac(hashName, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    const serverKey = createHmac(hashName, salted).update("Server Key").digest();
    this.serverSignature = createHmac(hashName, serverKey).update(authMessage).digest();
    return Buffer.from(`${withoutProof},p=${proof.toString("base64")}`);
  }

  /** Checks the server's final message proves it knows the credential. */
  verify(serverFinal: Buffer): void {
    assert.equal(serverFinal.toString(), `v=${this.serverSignature!.toString("base64")}`);
  }
}

/** Logs in with SCRAM through SaslHandshake v1 and SaslAuthenticate v2: the final answer and the client. */
export async function scramLogin(client: RawKafkaClient, mechanism: ScramMechanism, user: string, password: string) {
  const hs = await client.request(ApiKey.SaslHandshake, 1, { mechanism });
  assert.equal(hs.errorCode, ErrorCode.NONE);
  const scram = new ScramClient(mechanism, user, password);
  const first = await client.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.first() });
  assert.equal(first.errorCode, ErrorCode.NONE, first.errorMessage ?? "");
  const final = await client.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.final(first.authBytes) });
  return { final, scram };
}

/** Captures every log line (all levels) written while `fn` runs; other transports are muted meanwhile. */
export async function captureLogs(fn: () => Promise<void>): Promise<string> {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => (text += d.toString()));
  const transport = new winston.transports.Stream({ stream, level: "silly" });
  const previousLevel = rootLogger.level;
  const muted = rootLogger.transports.map((t) => [t, t.silent] as const);
  for (const [t] of muted) t.silent = true;
  rootLogger.level = "silly";
  rootLogger.add(transport);
  try {
    await fn();
  } finally {
    rootLogger.remove(transport);
    rootLogger.level = previousLevel;
    for (const [t, silent] of muted) t.silent = silent;
  }
  return text;
}
