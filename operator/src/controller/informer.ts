/**
 * An informer that does not stall: list, then watch from the list's resourceVersion; when the server
 * ends the watch (its timeout, a proxy, a network error) watch again from the last seen version; on
 * 410 Gone or any error, relist with exponential backoff; and relist every `resyncMs` anyway, so a
 * watch that silently stopped delivering cannot hide changes for long. Keeps a cache of the objects.
 */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { KubeClient, KubeObject, ResourceRef, WatchHandle } from "../kube/client.js";
import { KubeApiError } from "../kube/client.js";

export type InformerEventType = "add" | "update" | "delete" | "resync";

export interface InformerOptions<T extends KubeObject> {
  client: KubeClient;
  /** What to watch: apiVersion + plural, optionally one namespace. */
  ref: ResourceRef;
  labelSelector?: string;
  /** Server-side watch timeout; each watch asks for a random value between this and twice this. */
  watchTimeoutSeconds: number;
  /** Full relist period. */
  resyncMs: number;
  backoff: { baseMs: number; maxMs: number };
  onEvent: (type: InformerEventType, obj: T, old?: T) => void;
  logger: Logger;
}

export interface InformerStats {
  lists: number;
  watches: number;
  errors: number;
}

function cacheKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

export class Informer<T extends KubeObject> {
  private readonly cache = new Map<string, T>();
  private stopped = false;
  private synced = false;
  private current: WatchHandle | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private syncWaiters: Array<() => void> = [];
  readonly stats: InformerStats = { lists: 0, watches: 0, errors: 0 };

  constructor(private readonly opts: InformerOptions<T>) {}

  /** The watched resource's plural, for logs and metrics. */
  get resource(): string {
    return this.opts.ref.plural;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ""}/${name}`);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Ends the current watch now (a test seam: the loop must carry on as after a server-side close). */
  dropWatch(): void {
    this.current?.abort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.current?.abort();
    this.wake?.();
    await this.loop;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  private async relist(): Promise<string> {
    const { client, ref, labelSelector } = this.opts;
    const list = await client.list<T>(ref, labelSelector ? { labelSelector } : undefined);
    this.stats.lists++;
    const seen = new Set<string>();
    for (const obj of list.items) {
      const key = cacheKey(obj);
      seen.add(key);
      const old = this.cache.get(key);
      this.cache.set(key, obj);
      if (!old) this.opts.onEvent("add", obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.opts.onEvent("update", obj, old);
      else this.opts.onEvent("resync", obj);
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.opts.onEvent("delete", old);
      }
    }
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters) w();
      this.syncWaiters = [];
    }
    return list.metadata.resourceVersion ?? "";
  }

  private async run(): Promise<void> {
    const { logger, backoff } = this.opts;
    let delay = backoff.baseMs;
    while (!this.stopped) {
      try {
        let rv = await this.relist();
        delay = backoff.baseMs;
        const relistAt = Date.now() + this.opts.resyncMs;
        while (!this.stopped && Date.now() < relistAt) {
          const started = Date.now();
          const result = await this.watchOnce(rv, (next) => (rv = next));
          if (result === "gone") break;
          if (result instanceof Error) throw result;
          // Closed by the server: watch again from rv. Guard against a server that closes at once.
          if (Date.now() - started < 200) await this.sleep(200);
        }
      } catch (err) {
        if (this.stopped) break;
        this.stats.errors++;
        logger.warn("informer error; relisting after backoff", {
          resource: this.opts.ref.plural,
          namespace: this.opts.ref.namespace,
          error: errorMessage(err),
          delayMs: delay,
        });
        await this.sleep(delay);
        delay = Math.min(backoff.maxMs, delay * 2);
      }
    }
  }

  private async watchOnce(rv: string, setRv: (rv: string) => void): Promise<"closed" | "gone" | Error> {
    const { client, ref, labelSelector, watchTimeoutSeconds } = this.opts;
    let gone = false;
    let failure: Error | undefined;
    const timeoutSeconds = watchTimeoutSeconds + Math.floor(Math.random() * watchTimeoutSeconds);
    const handle = client.watch<T>(
      ref,
      { resourceVersion: rv, timeoutSeconds, ...(labelSelector ? { labelSelector } : {}) },
      (ev) => {
        if (this.stopped) return;
        if (ev.type === "ERROR") {
          const st = ev.object as unknown as { code?: number; reason?: string; message?: string };
          if (st.code === 410) gone = true;
          else
            failure = new KubeApiError(
              st.code ?? 500,
              st.reason ?? "Error",
              st.message ?? "watch error",
              "WATCH",
              ref.plural,
            );
          handle.abort();
          return;
        }
        const obj = ev.object;
        if (obj.metadata?.resourceVersion) setRv(obj.metadata.resourceVersion);
        if (ev.type === "BOOKMARK") return;
        const key = cacheKey(obj);
        const old = this.cache.get(key);
        if (ev.type === "DELETED") {
          this.cache.delete(key);
          this.opts.onEvent("delete", obj);
        } else {
          this.cache.set(key, obj);
          if (old) this.opts.onEvent("update", obj, old);
          else this.opts.onEvent("add", obj);
        }
      },
    );
    this.current = handle;
    this.stats.watches++;
    const err = await handle.done;
    this.current = undefined;
    if (gone) return "gone";
    if (failure) return failure;
    if (err) {
      if (err instanceof KubeApiError && err.code === 410) return "gone";
      return err;
    }
    return "closed";
  }
}
