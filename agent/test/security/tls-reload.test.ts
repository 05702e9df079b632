/**
 * Renewed TLS files are picked up without a restart: changed files that load are applied, a broken
 * renewal (key not matching the certificate) keeps the previous certificate; and the listener
 * presents the new certificate after setTlsOptions.
 */
import assert from "node:assert/strict";
import { copyFileSync, readFileSync } from "node:fs";
import path from "node:path";
import tls from "node:tls";
import { componentLogger } from "../../../common/logger.js";
import { watchTlsFiles } from "../../src/security/tls-reload.js";
import { loadTls } from "../../src/security/tls.js";
import type { AgentContext } from "../../src/server/context.js";
import { startKafkaServer } from "../../src/server/server.js";
import { makeTestCerts } from "./support.js";
import type { TestCerts } from "./support.js";

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The common name of the certificate the server presents. */
function presentedCN(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: "127.0.0.1", port, ca, rejectUnauthorized: false }, () => {
      const cn = s.getPeerCertificate().subject.CN;
      s.destroy();
      resolve(Array.isArray(cn) ? cn.join(",") : (cn ?? ""));
    });
    s.once("error", reject);
  });
}

describe("TLS certificate reload", function () {
  this.timeout(60_000);
  let certs: TestCerts;
  let cert: string;
  let key: string;

  before(async () => {
    certs = await makeTestCerts();
  });
  after(() => certs?.remove());
  beforeEach(() => {
    cert = path.join(certs.dir, `live-${Math.random().toString(36).slice(2)}.crt`);
    key = `${cert}.key`;
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
  });

  it("applies changed files that load, and keeps the old ones when a renewal is broken", async () => {
    const applied: tls.TlsOptions[] = [];
    const stop = watchTlsFiles({ certFile: cert, keyFile: key }, (o) => applied.push(o), componentLogger("test"), 20);
    try {
      await new Promise((r) => setTimeout(r, 60));
      assert.equal(applied.length, 0, "nothing changed yet");
      copyFileSync(certs.clientCert, cert); // a certificate whose key is still the server's: refused
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(applied.length, 0, "a mismatched pair is not applied");
      copyFileSync(certs.clientKey, key);
      await until(() => applied.length === 1);
      assert.deepEqual(applied[0]!.cert, readFileSync(certs.clientCert));
    } finally {
      stop();
    }
  });

  it("the listener presents the new certificate to new connections after setTlsOptions", async () => {
    const options = loadTls({ certFile: cert, keyFile: key }).options;
    // A TLS handshake needs no handlers, so no agent behind the listener.
    const server = await startKafkaServer({} as AgentContext, { host: "127.0.0.1", port: 0, maxConnections: 10, maxFrameBytes: 1 << 20, maxInFlight: 4, logger: componentLogger("test"), tls: options });
    try {
      const ca = readFileSync(certs.caFile);
      assert.equal(await presentedCN(server.port, ca), "server");
      server.setTlsOptions(loadTls({ certFile: certs.clientCert, keyFile: certs.clientKey }).options);
      assert.equal(await presentedCN(server.port, ca), "client");
    } finally {
      server.closeConnections();
      await server.stopAccepting();
    }
  });
});
