/**
 * The agent's HTTP endpoints, served by the server shared with the operator (common/http-server.ts):
 *   GET /metrics  Prometheus text exposition of metricsRegistry
 *   GET /healthz  liveness: 200 "ok" while the process serves HTTP
 *   GET /readyz   readiness: 200 "ok" when readiness() says ready, else 503 {"ready":false,"reason":...}
 *   POST /internal/v1/metadata/commit, /internal/v1/metadata/watch  the sequencer's (sequencer/wire.ts), when given
 * Anything else is 404 (405 for a known path with a method it does not take).
 */
import {
  healthRoutes,
  serveHttp,
  type HttpPostRoute,
  type Readiness,
  type RunningHttpServer,
} from "../../../common/http-server.js";
import { componentLogger } from "../../../common/logger.js";
import { metricsRegistry } from "../metrics/metrics.js";

export interface AgentHttpOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Bind address; default 0.0.0.0. */
  readonly host?: string;
  readonly readiness: () => Readiness;
  /** Path → POST route (the agents' calls to each other). */
  readonly postRoutes?: ReadonlyMap<string, HttpPostRoute>;
}

export function startHttpServer(options: AgentHttpOptions): Promise<RunningHttpServer> {
  return serveHttp({
    port: options.port,
    host: options.host,
    routes: healthRoutes({ registry: metricsRegistry, readiness: options.readiness }),
    ...(options.postRoutes ? { postRoutes: options.postRoutes } : {}),
    logger: componentLogger("http"),
  });
}
