/**
 * Listener security files changed without a restart: renewed certificates (cert-manager renews before
 * expiry) and a rotated SASL users file. Kubernetes updates a mounted Secret by swapping a symlink, so
 * the files are checked periodically (modification time, inode and size, following symlinks). When
 * they changed and still load, the new settings apply to new connections and to re-authentications
 * (KIP-368) of open ones; an open connection otherwise keeps what it was accepted or authenticated
 * with, as a Kafka broker's do. A file caught half-written or a broken change keeps the previous
 * settings and is logged once per change.
 */
import { statSync } from "node:fs";
import type tls from "node:tls";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { loadSaslUsers } from "./listener.js";
import type { SaslMechanism } from "./mechanisms.js";
import { loadTls } from "./tls.js";
import type { TlsFiles } from "./tls.js";
import type { SaslUsers } from "./users.js";

/** How often the files are checked unless told otherwise (-kafkaSecurityReloadInterval). */
export const DEFAULT_RELOAD_INTERVAL_MS = 30_000;

/** What identifies the files' current contents: changes when Kubernetes swaps a Secret's files. */
function filesVersion(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f);
        return `${s.mtimeMs}:${s.ino}:${s.size}`;
      } catch {
        return "missing";
      }
    })
    .join("/");
}

interface FileWatch<T> {
  readonly files: readonly string[];
  /** What the files hold, for the log lines ("TLS certificate", "SASL users file"). */
  readonly what: string;
  /** Loads the files; rejects when they do not load. */
  readonly load: () => Promise<T>;
  /** Applies what was loaded; returns fields for the log line (never a secret). */
  readonly apply: (loaded: T) => Record<string, unknown>;
  readonly logger: Logger;
  readonly intervalMs: number;
}

/**
 * Checks the files every intervalMs and reloads them when they changed (one load at a time; nothing
 * is applied after the watch stopped); returns a function that stops.
 */
function watchFiles<T>(w: FileWatch<T>): () => void {
  let version = filesVersion(w.files);
  let refused = "";
  let loading = false;
  let stopped = false;
  const reload = async (now: string): Promise<void> => {
    try {
      const loaded = await w.load();
      if (stopped) return;
      const fields = w.apply(loaded);
      version = now;
      w.logger.info(`${w.what} reloaded`, fields);
    } catch (err) {
      refused = now; // warn once per change, not on every check
      w.logger.warn(`${w.what} changed but does not load; keeping the previous one`, { error: errorMessage(err) });
    }
  };
  const timer = setInterval(() => {
    if (loading) return;
    const now = filesVersion(w.files);
    if (now === version || now === refused) return;
    loading = true;
    void reload(now).finally(() => (loading = false));
  }, w.intervalMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

export function watchTlsFiles(
  files: TlsFiles,
  apply: (options: tls.TlsOptions) => void,
  logger: Logger,
  intervalMs = DEFAULT_RELOAD_INTERVAL_MS,
): () => void {
  const paths = [files.certFile, files.keyFile, ...(files.clientCaFile !== undefined ? [files.clientCaFile] : [])];
  return watchFiles({
    files: paths,
    what: "TLS certificate",
    load: async () => loadTls(files),
    apply: (loaded) => {
      apply(loaded.options);
      return { subject: loaded.subject, validTo: loaded.validTo };
    },
    logger,
    intervalMs,
  });
}

/**
 * Reloads the SASL users file (-kafkaSASLUsersFile) when it changes: users added, removed or given new
 * passwords authenticate accordingly on new connections and re-authentications. A file with an error
 * keeps the previous users.
 */
export function watchUsersFile(
  mechanisms: readonly SaslMechanism[],
  usersFile: string,
  apply: (users: SaslUsers) => void,
  logger: Logger,
  intervalMs = DEFAULT_RELOAD_INTERVAL_MS,
): () => void {
  return watchFiles({
    files: [usersFile],
    what: "SASL users file",
    load: () => loadSaslUsers(mechanisms, usersFile),
    apply: (users) => {
      apply(users);
      return { file: usersFile, users: users.size };
    },
    logger,
    intervalMs,
  });
}
