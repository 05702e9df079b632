/**
 * The agent's HTTP endpoints (node:http, no framework):
 *   GET /metrics  Prometheus text exposition of metricsRegistry
 *   GET /healthz  liveness: 200 "ok" while the process serves HTTP
 *   GET /readyz   readiness: 200 "ok" when readiness() says ready, else 503 {"ready":false,"reason":...}
 * Anything else is 404 (405 for a known path with a method other than GET or HEAD).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { listen } from "../../../common/listen.js";
import { componentLogger, errorMessage } from "../../../common/logger.js";
import { metricsRegistry } from "../metrics.js";

export interface Readiness {
  readonly ready: boolean;
  readonly reason?: string;
}

export interface HttpServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Bind address; default 0.0.0.0. */
  readonly host?: string;
  readonly readiness: () => Readiness;
}

export interface RunningHttpServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const PATHS = new Set(["/metrics", "/healthz", "/readyz"]);

function send(res: ServerResponse, status: number, contentType: string, body: string, head: boolean): void {
  res.writeHead(status, {
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
  });
  res.end(head ? undefined : body);
}

async function handle(req: IncomingMessage, res: ServerResponse, readiness: () => Readiness): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  const head = req.method === "HEAD";
  if (!PATHS.has(path)) {
    send(res, 404, "text/plain; charset=utf-8", "not found\n", head);
    return;
  }
  if (req.method !== "GET" && !head) {
    res.setHeader("allow", "GET, HEAD");
    send(res, 405, "text/plain; charset=utf-8", "method not allowed\n", false);
    return;
  }
  switch (path) {
    case "/metrics":
      send(res, 200, metricsRegistry.contentType, await metricsRegistry.metrics(), head);
      return;
    case "/healthz":
      send(res, 200, "text/plain; charset=utf-8", "ok\n", head);
      return;
    case "/readyz": {
      let state: Readiness;
      try {
        state = readiness();
      } catch (err) {
        state = { ready: false, reason: `readiness check failed: ${errorMessage(err)}` };
      }
      if (state.ready) send(res, 200, "text/plain; charset=utf-8", "ok\n", head);
      else
        send(
          res,
          503,
          "application/json",
          `${JSON.stringify({ ready: false, reason: state.reason ?? "not ready" })}\n`,
          head,
        );
      return;
    }
  }
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const logger = componentLogger("http");
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res, options.readiness).catch((err: unknown) => {
      logger.error("http request failed", { url: req.url, error: errorMessage(err) });
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n", false);
      else res.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await listen(server, "http", options.host ?? "0.0.0.0", options.port);
  server.on("error", (err) => logger.error("http server error", { error: errorMessage(err) }));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
