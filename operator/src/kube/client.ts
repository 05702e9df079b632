/**
 * A small Kubernetes REST client over node:https: typed JSON requests, server-side apply, merge and
 * JSON patches, and line-delimited watches. Authentication and TLS come from a client-node
 * KubeConfig (`applyToHTTPSOptions`), so kubeconfig files, tokens and in-cluster config all work.
 *
 * Why not client-node's generated APIs: patch content types and status subresources are awkward
 * there, and its watch aborts after 30 s of inactivity. The operator needs exact control over both.
 */
import http from "node:http";
import https from "node:https";
import { createInterface } from "node:readline";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** Anything with a kind and a name: what server-side apply needs. */
export interface ObjectHeader {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
}

export interface KubeList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

export type PatchType = "apply" | "merge" | "json";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  apply: "application/apply-patch+yaml",
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
};

/** An error answer from the apiserver (a metav1.Status body). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(`${method} ${path}: ${code} ${reason}: ${message}`);
    this.name = "KubeApiError";
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}
/** The apiserver refused an object as invalid (422): retrying the same object cannot help. */
export function isInvalid(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 422;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}
export function isGone(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 410;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Accept header (default application/json), e.g. the Table form kubectl get uses. */
  accept?: string;
}

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface WatchHandle {
  /** Resolves when the watch ends: null when the server closed it, the error otherwise. */
  readonly done: Promise<Error | null>;
  abort(): void;
}

/** Resource paths: `/api/v1/namespaces/ns/services/name`, `/apis/apps/v1/deployments`. */
export interface ResourceRef {
  /** "v1" or "group/version". */
  apiVersion: string;
  /** Lower-case plural: "deployments". */
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export function resourcePath(ref: ResourceRef): string {
  const base = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  let p = base;
  if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
  p += `/${ref.plural}`;
  if (ref.name) p += `/${encodeURIComponent(ref.name)}`;
  if (ref.subresource) p += `/${ref.subresource}`;
  return p;
}

export class KubeClient {
  /** Keep-alive connections for ordinary requests; each watch gets its own connection. */
  private readonly pool: http.Agent;

  private constructor(
    private readonly server: URL,
    private readonly options: https.RequestOptions,
  ) {
    const { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername } = options;
    const tls = { ca, cert, key, pfx, passphrase, rejectUnauthorized, servername };
    this.pool =
      server.protocol === "https:"
        ? new https.Agent({ ...tls, keepAlive: true, maxSockets: 16 })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  /** Closes pooled connections (running watches end by their own abort). */
  close(): void {
    this.pool.destroy();
  }

  static async fromKubeConfig(kc: KubeConfig): Promise<KubeClient> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const options: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(options);
    return new KubeClient(new URL(cluster.server), options);
  }

  private url(path: string, query?: RequestOptions["query"]): URL {
    const u = new URL(this.server.toString().replace(/\/$/, "") + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u;
  }

  private open(
    method: string,
    url: URL,
    contentType: string | undefined,
    body: string | undefined,
    accept = "application/json",
    pooled = true,
  ): http.ClientRequest {
    const headers: Record<string, string> = {
      Accept: accept,
      ...(this.options.headers as Record<string, string> | undefined),
    };
    if (contentType) headers["Content-Type"] = contentType;
    if (body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(body));
    const opts: https.RequestOptions = { ...this.options, method, headers, agent: pooled ? this.pool : false };
    return url.protocol === "https:" ? https.request(url, opts) : http.request(url, opts);
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.url(path, options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const contentType = options.contentType ?? (body !== undefined ? "application/json" : undefined);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = this.open(method, url, contentType, body, options.accept);
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: request timed out`)));
      req.on("error", reject);
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      });
      req.end(body);
    });
    let parsed: unknown = undefined;
    if (text !== "") {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (status < 200 || status >= 300) {
      const st = (parsed ?? {}) as { reason?: string; message?: string };
      throw new KubeApiError(
        status,
        st.reason ?? http.STATUS_CODES[status] ?? "Error",
        st.message ?? text.slice(0, 500),
        method,
        path,
      );
    }
    return parsed as T;
  }

  get<T>(ref: ResourceRef): Promise<T> {
    return this.request<T>("GET", resourcePath(ref));
  }

  list<T>(ref: ResourceRef, query?: RequestOptions["query"]): Promise<KubeList<T>> {
    return this.request<KubeList<T>>("GET", resourcePath(ref), query ? { query } : {});
  }

  create<T>(ref: ResourceRef, body: unknown): Promise<T> {
    return this.request<T>("POST", resourcePath(ref), { body });
  }

  replace<T>(ref: ResourceRef, body: unknown): Promise<T> {
    return this.request<T>("PUT", resourcePath(ref), { body });
  }

  delete(ref: ResourceRef, query?: RequestOptions["query"]): Promise<unknown> {
    return this.request<unknown>("DELETE", resourcePath(ref), query ? { query } : {});
  }

  /** Server-side apply (force) as `fieldManager`, or a merge / JSON patch. */
  patch<T>(ref: ResourceRef, type: PatchType, body: unknown, fieldManager: string): Promise<T> {
    const query: RequestOptions["query"] = { fieldManager };
    if (type === "apply") query.force = true;
    return this.request<T>("PATCH", resourcePath(ref), { query, body, contentType: PATCH_CONTENT_TYPES[type] });
  }

  /**
   * Starts a watch. Events are delivered in order; the watch ends when the server closes it (its
   * `timeoutSeconds`), on a network error, or on abort. An ERROR event carries a metav1.Status.
   */
  watch<T>(ref: ResourceRef, query: RequestOptions["query"], onEvent: (ev: WatchEvent<T>) => void): WatchHandle {
    const url = this.url(resourcePath(ref), { ...query, watch: true, allowWatchBookmarks: true });
    let req: http.ClientRequest | undefined;
    let aborted = false;
    const done = new Promise<Error | null>((resolve) => {
      let settled = false;
      const finish = (err: Error | null) => {
        if (!settled) {
          settled = true;
          resolve(aborted ? null : err);
        }
      };
      req = this.open("GET", url, undefined, undefined, "application/json", false);
      req.on("error", (err) => finish(err));
      req.on("response", (res) => {
        if ((res.statusCode ?? 0) !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", (err) => finish(err));
          res.on("end", () => {
            let st: { reason?: string; message?: string } = {};
            try {
              st = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof st;
            } catch {
              /* not a Status */
            }
            finish(
              new KubeApiError(
                res.statusCode ?? 0,
                st.reason ?? "Error",
                st.message ?? "watch failed",
                "WATCH",
                url.pathname,
              ),
            );
          });
          return;
        }
        const lines = createInterface({ input: res });
        lines.on("line", (line) => {
          if (line.trim() === "") return;
          let ev: WatchEvent<T>;
          try {
            ev = JSON.parse(line) as WatchEvent<T>;
          } catch {
            return;
          }
          onEvent(ev);
        });
        res.on("error", (err) => finish(err));
        lines.on("error", (err) => finish(err));
        lines.on("close", () => finish(null));
      });
      req.end();
    });
    return {
      done,
      abort: () => {
        aborted = true;
        req?.destroy();
      },
    };
  }
}
