/**
 * The JSON Web Key Set OAUTHBEARER tokens are verified with (-kafkaSASLOAuthJwksURL): read from a
 * file:// path or fetched from an http(s):// URL (the identity provider's `jwks_uri`) at start-up,
 * then again every refresh interval (Kafka's sasl.oauthbearer.jwks.endpoint.refresh.ms, 1 h) and when
 * a token names a key id the set does not hold (a key rotation), at most once per
 * unknownKidRefreshMs so that made-up key ids cannot hammer the provider.
 *
 * A refresh that fails (unreachable, not JSON, no usable key) keeps the keys already loaded and is
 * logged; the first load failing stops start-up with a message naming the flag. Keys that cannot be
 * used (another key type, an encryption key, a weak RSA key) are skipped and named in the log; a set
 * with no usable key does not load. Fetches time out, follow no redirect and read at most 1 MiB.
 */
import { stat, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { JwtError, importJwk } from "./jwt.js";
import type { VerificationKey } from "./jwt.js";

/** Largest JWKS document read. */
export const MAX_JWKS_BYTES = 1024 * 1024;
export const DEFAULT_JWKS_REFRESH_MS = 3_600_000;
export const DEFAULT_UNKNOWN_KID_REFRESH_MS = 10_000;
const FETCH_TIMEOUT_MS = 10_000;

export class JwksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwksError";
  }
}

/** The URL without user info, query or fragment (for logs: a query string may carry a secret). */
export function jwksUrlForLogs(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(malformed URL)";
  }
}

export interface LoadedJwks {
  readonly keys: readonly VerificationKey[];
  /** Keys left out and why (by index and kid); no key material. */
  readonly skipped: readonly string[];
}

/** Parses a JWKS document (`{"keys": [...]}`): the usable keys, and why the others were skipped. */
export function parseJwks(text: string): LoadedJwks {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new JwksError("not JSON");
  }
  const list = typeof doc === "object" && doc !== null ? (doc as { keys?: unknown }).keys : undefined;
  if (!Array.isArray(list)) throw new JwksError('not a JWK set (expected {"keys": [...]})');
  const keys: VerificationKey[] = [];
  const skipped: string[] = [];
  list.forEach((jwk: unknown, i) => {
    const kid = typeof jwk === "object" && jwk !== null ? (jwk as { kid?: unknown }).kid : undefined;
    const name = `key ${i + 1}${typeof kid === "string" ? ` (kid ${JSON.stringify(kid.slice(0, 64))})` : ""}`;
    try {
      keys.push(importJwk(jwk));
    } catch (err) {
      if (!(err instanceof JwtError)) throw err;
      skipped.push(`${name}: ${err.message}`);
    }
  });
  if (keys.length === 0)
    throw new JwksError(
      `no usable signing key (RSA of 2048 bits or more, or EC P-256/384/521)${skipped.length > 0 ? `; skipped ${skipped.join("; ")}` : ""}`,
    );
  return { keys, skipped };
}

async function readBounded(response: Response): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_JWKS_BYTES) throw new JwksError(`the response is larger than ${MAX_JWKS_BYTES} bytes`);
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += chunk.byteLength;
    if (size > MAX_JWKS_BYTES) throw new JwksError(`the response is larger than ${MAX_JWKS_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Reads the JWKS document at a file:, http: or https: URL. Throws JwksError with the reason. */
export async function readJwksDocument(url: string, timeoutMs = FETCH_TIMEOUT_MS): Promise<string> {
  const u = new URL(url);
  if (u.protocol === "file:") {
    const file = fileURLToPath(u);
    try {
      const s = await stat(file);
      if (s.isDirectory()) throw new JwksError(`${file} is a directory`);
      if (s.size > MAX_JWKS_BYTES) throw new JwksError(`${file} is larger than ${MAX_JWKS_BYTES} bytes`);
      return await readFile(file, "utf8");
    } catch (err) {
      if (err instanceof JwksError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new JwksError(
        code === "ENOENT"
          ? `${file}: no such file`
          : code === "EACCES"
            ? `${file}: permission denied`
            : errorMessage(err),
      );
    }
  }
  let response: Response;
  try {
    response = await fetch(u, {
      headers: { accept: "application/json, application/jwk-set+json" },
      redirect: "error",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new JwksError(`fetching failed: ${errorMessage(cause ?? err)}`);
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new JwksError(`the server answered HTTP ${response.status}`);
  }
  try {
    return await readBounded(response);
  } catch (err) {
    await response.body?.cancel().catch(() => undefined);
    if (err instanceof JwksError) throw err;
    throw new JwksError(`reading the response failed: ${errorMessage(err)}`);
  }
}

export interface JwksSourceOptions {
  /** file:///path, http://… or https://… */
  readonly url: string;
  /** How often the set is read again (default 1 h). */
  readonly refreshIntervalMs?: number;
  /** Least time between refreshes caused by tokens naming unknown key ids (default 10 s). */
  readonly unknownKidRefreshMs?: number;
  readonly logger: Logger;
  /** Milliseconds clock for the unknown-kid spacing (tests). */
  readonly now?: () => number;
  /** Reads the document (tests); default readJwksDocument. */
  readonly read?: (url: string) => Promise<string>;
}

/** Where OAUTHBEARER verification keys come from. */
export interface VerificationKeys {
  /** The keys that may have signed a token naming `kid` (all keys when the token names none). */
  keysFor(kid: string | null): readonly VerificationKey[];
  /**
   * Reads the set again because a token named an unknown key id, unless that was done less than the
   * spacing ago or is under way (then waits for it); resolves true when a new set was loaded.
   */
  refreshForUnknownKid(): Promise<boolean>;
}

/** A JWKS kept up to date: periodic refresh and refresh on unknown key ids. */
export class JwksSource implements VerificationKeys {
  private current: LoadedJwks;
  private loading: Promise<boolean> | null = null;
  private lastUnknownKidRefresh: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastFailure: string | null = null;
  private closed = false;

  private constructor(
    private readonly options: JwksSourceOptions,
    first: LoadedJwks,
  ) {
    this.current = first;
  }

  /** Loads the set once (throwing JwksError with the reason) and starts refreshing it. */
  static async open(options: JwksSourceOptions): Promise<JwksSource> {
    const read = options.read ?? readJwksDocument;
    const first = parseJwks(await read(options.url));
    const source = new JwksSource(options, first);
    source.logSkipped(first);
    const interval = options.refreshIntervalMs ?? DEFAULT_JWKS_REFRESH_MS;
    source.timer = setInterval(() => void source.reload("periodic"), interval);
    source.timer.unref();
    return source;
  }

  get size(): number {
    return this.current.keys.length;
  }

  /** Key ids of the loaded keys (public; for logs). */
  get kids(): string[] {
    return this.current.keys.map((k) => k.kid ?? "(none)");
  }

  keysFor(kid: string | null): readonly VerificationKey[] {
    if (kid === null) return this.current.keys;
    return this.current.keys.filter((k) => k.kid === kid);
  }

  async refreshForUnknownKid(): Promise<boolean> {
    if (this.loading) return this.loading;
    const now = (this.options.now ?? performance.now.bind(performance))();
    const spacing = this.options.unknownKidRefreshMs ?? DEFAULT_UNKNOWN_KID_REFRESH_MS;
    if (this.lastUnknownKidRefresh !== null && now - this.lastUnknownKidRefresh < spacing) return false;
    this.lastUnknownKidRefresh = now;
    return this.reload("unknown key id");
  }

  /** Stops the periodic refresh (a read under way finishes without being applied or logged). */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private reload(why: string): Promise<boolean> {
    if (this.loading) return this.loading;
    const read = this.options.read ?? readJwksDocument;
    this.loading = (async () => {
      try {
        const next = parseJwks(await read(this.options.url));
        if (this.closed) return false;
        const before = this.kids.join(",");
        this.current = next;
        this.lastFailure = null;
        if (this.kids.join(",") !== before) {
          this.options.logger.info("OAuth JWKS reloaded", {
            url: jwksUrlForLogs(this.options.url),
            why,
            keys: next.keys.length,
            kids: this.kids,
          });
          this.logSkipped(next);
        }
        return true;
      } catch (err) {
        if (this.closed) return false;
        const message = errorMessage(err);
        // Once per distinct failure: a provider down for hours is one line, not one per refresh.
        if (message !== this.lastFailure)
          this.options.logger.warn("OAuth JWKS refresh failed; keeping the keys loaded before", {
            url: jwksUrlForLogs(this.options.url),
            why,
            error: message,
          });
        this.lastFailure = message;
        return false;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  private logSkipped(loaded: LoadedJwks): void {
    if (loaded.skipped.length > 0)
      this.options.logger.warn("OAuth JWKS: some keys cannot be used and are skipped", {
        url: jwksUrlForLogs(this.options.url),
        skipped: loaded.skipped,
      });
  }
}
