/**
 * A fault-injecting HTTP proxy on loopback, between an agent and DynamoDB Local or the S3 server.
 * Point the agent at it with AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3 (or a bucket URL's
 * endpoint). Every request is matched against the rules in order; the first rule whose operation
 * matches and whose seeded coin flip comes up decides the request's fate:
 *
 *   throttle     DynamoDB: 400 with ProvisionedThroughputExceededException or ThrottlingException as the
 *                service sends them; S3: 503 SlowDown XML
 *   status       500 / 503 with the service's own error body (InternalServerError, InternalError, ...)
 *   latency      forwarded after a delay
 *   timeout      held, then the socket is dropped with no response; `forward: true` sends the request
 *                upstream first (the write lands, the client never learns it did: an unknown outcome)
 *
 * partition("refuse") resets every connection at once; partition("blackhole") holds every request
 * (at most `maxHoldMs`) and then drops it; heal() lifts the partition and drops the held requests.
 * Counters tell how many faults of each kind were injected. The RNG is seeded, so a run is replayable
 * for the same sequence of requests.
 */
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";

export type Service = "dynamodb" | "s3";

export type Fault =
  | { readonly kind: "throttle"; readonly exception?: "ProvisionedThroughputExceededException" | "ThrottlingException" }
  | { readonly kind: "status"; readonly status: 500 | 503 }
  | { readonly kind: "latency"; readonly ms: number }
  | { readonly kind: "timeout"; readonly holdMs: number; readonly forward?: boolean };

export interface FaultRule {
  /** Chance in [0, 1] that a matching request gets this fault. */
  readonly probability: number;
  readonly fault: Fault;
  /**
   * Operations the rule applies to (all when absent): DynamoDB operation names from X-Amz-Target
   * ("PutItem", "Query", ...), for S3 the HTTP method ("PUT", "GET", ...).
   */
  readonly operations?: readonly string[];
  /**
   * Applies only to requests whose body contains this text (all when absent): singles out one kind of
   * request of an operation, e.g. `":pk":{"S":"log"}` for a DynamoDB Query of the metadata log.
   */
  readonly bodyIncludes?: string;
}

export type PartitionMode = "refuse" | "blackhole";

export interface FaultCounts {
  requests: number;
  forwarded: number;
  throttle: number;
  status500: number;
  status503: number;
  latency: number;
  timeout: number;
  timeoutForwarded: number;
  refused: number;
  blackholed: number;
  upstreamErrors: number;
}

export interface FaultProxyOptions {
  readonly service: Service;
  /** Upstream base URL, http://127.0.0.1:PORT. */
  readonly upstream: string;
  readonly seed: number;
  readonly rules?: readonly FaultRule[];
  /** Longest a blackholed request is held before its socket is dropped (default 120 s). */
  readonly maxHoldMs?: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  setRules(rules: readonly FaultRule[]): void;
  partition(mode: PartitionMode): void;
  heal(): void;
  counts(): FaultCounts;
  /** Injected faults of every kind (latency included), summed. */
  injected(): number;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function operationOf(service: Service, req: Pick<IncomingMessage, "method" | "headers">): string {
  if (service === "dynamodb") {
    const target = req.headers["x-amz-target"];
    const t = Array.isArray(target) ? target[0] : target;
    return t?.split(".").pop() ?? "?";
  }
  return req.method ?? "?";
}

interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

let requestCounter = 0;

function requestId(): string {
  return `FAULT${(++requestCounter).toString(16).padStart(12, "0").toUpperCase()}`;
}

function dynamoError(status: number, type: string, message: string): ErrorResponse {
  return {
    status,
    headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": requestId() },
    body: JSON.stringify({ __type: type, message }),
  };
}

function s3Error(status: number, code: string, message: string): ErrorResponse {
  const id = requestId();
  return {
    status,
    headers: { "content-type": "application/xml", "x-amz-request-id": id },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${id}</RequestId><HostId>fault-proxy</HostId></Error>`,
  };
}

/** The error response the real service sends for a throttle or 5xx fault. */
export function errorResponse(service: Service, fault: Extract<Fault, { kind: "throttle" | "status" }>): ErrorResponse {
  if (service === "dynamodb") {
    if (fault.kind === "throttle") {
      return fault.exception === "ThrottlingException"
        ? dynamoError(
            400,
            "com.amazon.coral.availability#ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
          )
        : dynamoError(
            400,
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
          );
    }
    return fault.status === 500
      ? dynamoError(500, "com.amazonaws.dynamodb.v20120810#InternalServerError", "Internal server error")
      : dynamoError(503, "com.amazon.coral.availability#ServiceUnavailableException", "Service unavailable");
  }
  if (fault.kind === "throttle") return s3Error(503, "SlowDown", "Please reduce your request rate.");
  return fault.status === 500
    ? s3Error(500, "InternalError", "We encountered an internal error. Please try again.")
    : s3Error(503, "ServiceUnavailable", "Service is unable to handle request.");
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => resolve(Buffer.concat(parts)));
    req.on("error", reject);
  });
}

function newCounts(): FaultCounts {
  return {
    requests: 0,
    forwarded: 0,
    throttle: 0,
    status500: 0,
    status503: 0,
    latency: 0,
    timeout: 0,
    timeoutForwarded: 0,
    refused: 0,
    blackholed: 0,
    upstreamErrors: 0,
  };
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const random = seededRandom(options.seed);
  const maxHoldMs = options.maxHoldMs ?? 120_000;
  const upstreamAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let rules: readonly FaultRule[] = options.rules ?? [];
  let partitioned: PartitionMode | null = null;
  const counts = newCounts();
  const sockets = new Set<Socket>();
  /** Requests held by a blackhole or a timeout: dropping them ends the hold. */
  const held = new Set<{ drop: () => void }>();
  let closed = false;

  const hold = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const entry = {
        drop: () => {
          clearTimeout(timer);
          held.delete(entry);
          resolve();
        },
      };
      const timer = setTimeout(entry.drop, Math.min(ms, maxHoldMs));
      held.add(entry);
    });

  const forward = (
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host, "content-length": String(body.length) };
      delete headers["transfer-encoding"];
      const out = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent: upstreamAgent,
        },
        (res) => {
          readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
        },
      );
      out.on("error", reject);
      out.end(body);
    });

  const choose = (operation: string, body: Buffer): Fault | null => {
    for (const rule of rules) {
      if (rule.operations && !rule.operations.includes(operation)) continue;
      if (rule.bodyIncludes !== undefined && !body.includes(rule.bodyIncludes)) continue;
      if (random() < rule.probability) return rule.fault;
    }
    return null;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    counts.requests++;
    if (partitioned === "refuse") {
      counts.refused++;
      req.socket.destroy();
      return;
    }
    const body = await readBody(req);
    if (partitioned === "blackhole") {
      counts.blackholed++;
      await hold(maxHoldMs);
      req.socket.destroy();
      return;
    }
    const fault = choose(operationOf(options.service, req), body);
    if (fault?.kind === "throttle" || fault?.kind === "status") {
      if (fault.kind === "throttle") counts.throttle++;
      else if (fault.status === 500) counts.status500++;
      else counts.status503++;
      const e = errorResponse(options.service, fault);
      res.writeHead(e.status, { ...e.headers, "content-length": String(Buffer.byteLength(e.body)) });
      res.end(e.body);
      return;
    }
    if (fault?.kind === "timeout") {
      counts.timeout++;
      if (fault.forward) {
        counts.timeoutForwarded++;
        await forward(req, body).catch(() => undefined);
      }
      await hold(fault.holdMs);
      req.socket.destroy();
      return;
    }
    if (fault?.kind === "latency") {
      counts.latency++;
      await hold(fault.ms);
    }
    // A partition that began while this request waited applies to it too.
    if (partitioned !== null || closed) {
      req.socket.destroy();
      return;
    }
    let answer;
    try {
      answer = await forward(req, body);
    } catch {
      counts.upstreamErrors++;
      req.socket.destroy();
      return;
    }
    if (partitioned !== null) {
      req.socket.destroy();
      return;
    }
    counts.forwarded++;
    const headers = { ...answer.headers, "content-length": String(answer.body.length) };
    delete headers["transfer-encoding"];
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.keepAliveTimeout = 5_000;
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if (partitioned === "refuse") {
      counts.refused++;
      socket.destroy();
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      if (address === null || typeof address === "string") reject(new Error("fault proxy: no port"));
      else resolve(address.port);
    });
  });

  const dropHeld = (): void => {
    for (const h of [...held]) h.drop();
  };

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    setRules: (next) => {
      rules = [...next];
    },
    partition: (mode) => {
      partitioned = mode;
      // Refused: connections kept alive by the client break at once. Blackholed: they just go quiet.
      if (mode === "refuse") for (const s of sockets) s.destroy();
    },
    heal: () => {
      partitioned = null;
      dropHeld();
    },
    counts: () => ({ ...counts }),
    injected: () =>
      counts.throttle +
      counts.status500 +
      counts.status503 +
      counts.latency +
      counts.timeout +
      counts.refused +
      counts.blackholed,
    close: async () => {
      closed = true;
      dropHeld();
      for (const s of sockets) s.destroy();
      upstreamAgent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
