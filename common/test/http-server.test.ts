/**
 * The shared HTTP server (common/http-server.ts) over real HTTP on loopback: the caller's routes,
 * the health routes with both checks, a failing route. The agent's endpoints on top of it are covered
 * by agent/test/http/server.test.ts.
 */
import assert from "node:assert/strict";
import { Counter, Registry } from "prom-client";
import winston from "winston";
import { healthRoutes, serveHttp, type Readiness, type RunningHttpServer } from "../http-server.js";

describe("shared HTTP server", () => {
  const registry = new Registry();
  const hits = new Counter({ name: "http_server_test_hits_total", help: "test counter", registers: [registry] });
  let live: Readiness = { ready: true };
  let ready: Readiness = { ready: true };
  let server: RunningHttpServer;
  let base: string;

  before(async () => {
    const routes = healthRoutes({ registry, liveness: () => live, readiness: () => ready });
    routes.set("/version", () => ({ status: 200, contentType: "text/plain", body: "1.2.3\n" }));
    routes.set("/broken", () => Promise.reject(new Error("route failed")));
    server = await serveHttp({ port: 0, host: "127.0.0.1", routes, logger: winston.createLogger({ silent: true }) });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => {
    await server.close();
  });

  it("serves the caller's routes, for GET and HEAD", async () => {
    const res = await fetch(`${base}/version`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "1.2.3\n");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const head = await fetch(`${base}/version`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    assert.equal((await fetch(`${base}/version`, { method: "DELETE" })).status, 405);
    assert.equal((await fetch(`${base}/other`)).status, 404);
  });

  it("serves the given registry on /metrics", async () => {
    hits.inc(3);
    const res = await fetch(`${base}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^http_server_test_hits_total 3$/m);
  });

  it("answers /healthz and /readyz from their own checks, with the reason when failing", async () => {
    live = { ready: false, reason: "stopping" };
    ready = { ready: true };
    let res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { ready: false, reason: "stopping" });
    assert.equal((await fetch(`${base}/readyz`)).status, 200);

    live = { ready: true };
    ready = { ready: false };
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    res = await fetch(`${base}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { ready: false, reason: "not ready" });
  });

  it("answers 500 when a route fails, and keeps serving", async () => {
    const res = await fetch(`${base}/broken`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), "internal error\n");
    assert.equal((await fetch(`${base}/version`)).status, 200);
  });
});
