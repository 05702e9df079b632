/**
 * The HTTP server of the agent and the operator (node:http, no framework). The caller gives the
 * routes; healthRoutes() builds the three both serve:
 *   GET /metrics  Prometheus text exposition of a registry
 *   GET /healthz  liveness: 200 "ok", or 503 {"ready":false,"reason":...}
 *   GET /readyz   readiness: the same, from the readiness check
 * HEAD is answered like GET without a body; another method on a known path is 405, an unknown path
 * 404, the query string is ignored. A route that throws is logged and answered 500. POST routes (the
 * agents' own calls to each other) get the request's headers and body, up to 16 MiB (413 past it).
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Registry } from "prom-client";
import { listen } from "./listen.js";
import { errorMessage, type Logger } from "./logger.js";

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
}

export type HttpRoute = () => HttpReply | Promise<HttpReply>;

/** A POST request's headers and whole body. */
export interface HttpPost {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export type HttpPostRoute = (request: HttpPost) => Promise<HttpReply>;

/** The largest POST body read (bytes). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface HttpServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Bind address; default 0.0.0.0. */
  readonly host?: string;
  /** Path → route, for GET and HEAD. */
  readonly routes: ReadonlyMap<string, HttpRoute>;
  /** Path → route, for POST. */
  readonly postRoutes?: ReadonlyMap<string, HttpPostRoute>;
  readonly logger: Logger;
}

export interface RunningHttpServer {
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

function send(res: ServerResponse, reply: HttpReply, head: boolean): void {
  res.writeHead(reply.status, {
    "content-type": reply.contentType,
    "content-length": Buffer.byteLength(reply.body),
    "cache-control": "no-store",
  });
  res.end(head ? undefined : reply.body);
}

/** The request's body, or null once it passed `limit` bytes (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, options: HttpServerOptions): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  const head = req.method === "HEAD";
  const post = options.postRoutes?.get(path);
  if (post) {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      send(res, { status: 405, contentType: TEXT, body: "method not allowed\n" }, false);
      return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null) {
      res.setHeader("connection", "close");
      send(res, { status: 413, contentType: TEXT, body: "request body too large\n" }, false);
      return;
    }
    send(res, await post({ headers: req.headers, body }), false);
    return;
  }
  const route = options.routes.get(path);
  if (!route) {
    send(res, { status: 404, contentType: TEXT, body: "not found\n" }, head);
    return;
  }
  if (req.method !== "GET" && !head) {
    res.setHeader("allow", "GET, HEAD");
    send(res, { status: 405, contentType: TEXT, body: "method not allowed\n" }, false);
    return;
  }
  send(res, await route(), head);
}

export async function serveHttp(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { logger } = options;
  const host = options.host ?? "0.0.0.0";
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res, options).catch((err: unknown) => {
      logger.error("http request failed", { url: req.url, error: errorMessage(err) });
      if (!res.headersSent) send(res, { status: 500, contentType: TEXT, body: "internal error\n" }, false);
      else res.destroy();
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await listen(server, "http", host, options.port);
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

/** The answer of a health check. */
export interface Readiness {
  readonly ready: boolean;
  /** Why not, when not ready. */
  readonly reason?: string;
}

/**
 * 200 "ok" when the check says ready; 503 with the reason as JSON when not, or when the check throws
 * ("<name> check failed: <error>").
 */
export function probeRoute(name: string, check: () => Readiness): HttpRoute {
  return () => {
    let state: Readiness;
    try {
      state = check();
    } catch (err) {
      state = { ready: false, reason: `${name} check failed: ${errorMessage(err)}` };
    }
    if (state.ready) return { status: 200, contentType: TEXT, body: "ok\n" };
    return {
      status: 503,
      contentType: "application/json",
      body: `${JSON.stringify({ ready: false, reason: state.reason ?? "not ready" })}\n`,
    };
  };
}

export interface HealthChecks {
  /** Served on /metrics. */
  readonly registry: Pick<Registry, "metrics" | "contentType">;
  /** /healthz: whether the process is alive; always ready when omitted. */
  readonly liveness?: () => Readiness;
  /** /readyz: whether it should receive traffic. */
  readonly readiness: () => Readiness;
}

/** The /metrics, /healthz and /readyz routes. */
export function healthRoutes(checks: HealthChecks): Map<string, HttpRoute> {
  return new Map<string, HttpRoute>([
    [
      "/metrics",
      async () => ({ status: 200, contentType: checks.registry.contentType, body: await checks.registry.metrics() }),
    ],
    ["/healthz", probeRoute("liveness", checks.liveness ?? (() => ({ ready: true })))],
    ["/readyz", probeRoute("readiness", checks.readiness)],
  ]);
}
