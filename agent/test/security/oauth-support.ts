/**
 * A small OAuth 2.0 identity provider for tests, written independently of the agent's code: signing
 * keys (RSA, EC) made with node:crypto, JWTs signed with them, a JWKS published as a file and over
 * HTTP, and a token endpoint on 127.0.0.1 that issues tokens for the client-credentials grant (as
 * Keycloak, Okta or Entra ID do) to the clients it knows. Plus the OAUTHBEARER client first message
 * and a helper reading the agent's Prometheus counters.
 */
import assert from "node:assert/strict";
import { constants, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";

export type TestAlgorithm = "RS256" | "RS384" | "PS256" | "ES256" | "ES384";

export interface SigningKey {
  readonly kid: string;
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  /** The public key as a JWK, with kid, alg and use. */
  readonly jwk: Record<string, unknown>;
}

/** A fresh key pair for `alg` (RSA 2048 bits, or EC on the algorithm's curve). */
export function makeSigningKey(
  alg: TestAlgorithm,
  kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`,
  rsaBits = 2048,
): SigningKey {
  const pair = alg.startsWith("ES")
    ? generateKeyPairSync("ec", { namedCurve: alg === "ES256" ? "P-256" : "P-384" })
    : generateKeyPairSync("rsa", { modulusLength: rsaBits });
  return {
    kid,
    alg,
    privateKey: pair.privateKey,
    jwk: { ...pair.publicKey.export({ format: "jwk" }), kid, alg, use: "sig" },
  };
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString("base64url");

/** A compact JWS over `claims`, signed with `key` (header alg/kid from the key unless overridden). */
export function signJwt(
  claims: Record<string, unknown>,
  key: SigningKey,
  header: Record<string, unknown> = {},
): string {
  const input = `${b64url(JSON.stringify({ alg: key.alg, typ: "JWT", kid: key.kid, ...header }))}.${b64url(JSON.stringify(claims))}`;
  const hash = `sha${key.alg.slice(2)}`;
  const signature = key.alg.startsWith("ES")
    ? sign(hash, Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" })
    : key.alg.startsWith("PS")
      ? sign(hash, Buffer.from(input), {
          key: key.privateKey,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: Number(key.alg.slice(2)) / 8,
        })
      : sign(hash, Buffer.from(input), key.privateKey);
  return `${input}.${b64url(signature)}`;
}

/** An unsigned token (`alg: none`), which must be refused. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.`;
}

/** The OAUTHBEARER client first message (RFC 7628) as Kafka's clients send it. */
export function oauthBearerMessage(
  token: string,
  options: { authzid?: string; extensions?: Record<string, string> } = {},
): Buffer {
  const ext = Object.entries(options.extensions ?? {})
    .map(([k, v]) => `${k}=${v}\x01`)
    .join("");
  return Buffer.from(`n,${options.authzid ? `a=${options.authzid}` : ""},\x01auth=Bearer ${token}\x01${ext}\x01`);
}

export interface IdentityProviderOptions {
  /** Folder for the JWKS file. */
  readonly dir: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Lifetime of issued tokens (default 1 h). */
  readonly tokenLifetimeSeconds?: number;
  /** Client id → secret of the clients the token endpoint knows. */
  readonly clients: Readonly<Record<string, string>>;
  /** The signing key (default a fresh RS256 key). */
  readonly key?: SigningKey;
}

/** Tokens issued, and token requests refused, by the token endpoint. */
export interface TokenEndpointLog {
  issued: number;
  refused: number;
}

export class TestIdentityProvider {
  readonly log: TokenEndpointLog = { issued: 0, refused: 0 };
  private keys: SigningKey[];

  private constructor(
    private readonly options: IdentityProviderOptions,
    private readonly server: http.Server,
    readonly port: number,
  ) {
    this.keys = [options.key ?? makeSigningKey("RS256")];
    this.writeJwks();
  }

  static async start(options: IdentityProviderOptions): Promise<TestIdentityProvider> {
    let idp: TestIdentityProvider | null = null;
    const server = http.createServer((req, res) => idp!.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    idp = new TestIdentityProvider(options, server, (server.address() as AddressInfo).port);
    return idp;
  }

  get issuer(): string {
    return this.options.issuer ?? `http://127.0.0.1:${this.port}/realms/test`;
  }

  get audience(): string {
    return this.options.audience ?? "warp-kafka";
  }

  get tokenUrl(): string {
    return `http://127.0.0.1:${this.port}/token`;
  }

  get jwksHttpUrl(): string {
    return `http://127.0.0.1:${this.port}/jwks`;
  }

  get jwksFile(): string {
    return path.join(this.options.dir, "jwks.json");
  }

  get jwksFileUrl(): string {
    return pathToFileURL(this.jwksFile).href;
  }

  /** The key new tokens are signed with. */
  get signingKey(): SigningKey {
    return this.keys[this.keys.length - 1]!;
  }

  /** Claims of a valid token for `sub`, issued now. */
  claims(sub: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: this.issuer,
      aud: this.audience,
      sub,
      iat: now,
      exp: now + (this.options.tokenLifetimeSeconds ?? 3600),
      jti: randomUUID(),
      scope: "kafka",
      ...overrides,
    };
  }

  /** A token for `sub` signed with the current key (claims overridable, e.g. exp in the past). */
  token(sub: string, overrides: Record<string, unknown> = {}, key: SigningKey = this.signingKey): string {
    return signJwt(this.claims(sub, overrides), key);
  }

  /** Publishes a new signing key next to the old ones (a key rotation); new tokens use it. */
  rotate(alg: TestAlgorithm = "ES256"): SigningKey {
    const key = makeSigningKey(alg);
    this.keys.push(key);
    this.writeJwks();
    return key;
  }

  private jwksDocument(): string {
    return JSON.stringify({ keys: this.keys.map((k) => k.jwk) });
  }

  private writeJwks(): void {
    writeFileSync(this.jwksFile, this.jwksDocument());
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === "GET" && req.url === "/jwks") {
      res.writeHead(200, { "content-type": "application/json" }).end(this.jwksDocument());
      return;
    }
    if (req.method !== "POST" || req.url !== "/token") {
      res.writeHead(404).end();
      return;
    }
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const form = new URLSearchParams(body);
      let id = form.get("client_id");
      let secret = form.get("client_secret");
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? "");
      if (basic) {
        const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " "));
        secret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " "));
      }
      const known = id !== null && Object.prototype.hasOwnProperty.call(this.options.clients, id);
      if (form.get("grant_type") !== "client_credentials" || !known || this.options.clients[id!] !== secret) {
        this.log.refused++;
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":"invalid_client"}');
        return;
      }
      this.log.issued++;
      const claims = this.claims(id!);
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          access_token: signJwt(claims, this.signingKey),
          token_type: "Bearer",
          expires_in: (claims.exp as number) - (claims.iat as number),
          scope: "kafka",
        }),
      );
    });
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The value of one Prometheus sample of the agent at `httpPort` (0 when it has not been counted yet). */
export async function metricValue(
  httpPort: number,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  const wanted = Object.entries(labels);
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? "";
    if (wanted.every(([k, v]) => labelText.includes(`${k}="${v}"`)))
      return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return 0;
}
