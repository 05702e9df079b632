/**
 * Renewed certificates without a restart: checks the TLS files' modification times periodically
 * (Kubernetes updates a mounted Secret by swapping a symlink, cert-manager renews before expiry) and,
 * when they changed and still load, hands the new options to the listener. A file caught half-written
 * or a broken renewal keeps the old certificate and is logged.
 */
import type tls from "node:tls";
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import { loadTls, tlsFilesVersion } from "./tls.js";
import type { TlsFiles } from "./tls.js";

export function watchTlsFiles(files: TlsFiles, apply: (options: tls.TlsOptions) => void, logger: Logger, intervalMs = 30_000): () => void {
  let version = tlsFilesVersion(files);
  let refused = "";
  const timer = setInterval(() => {
    const now = tlsFilesVersion(files);
    if (now === version || now === refused) return;
    try {
      const loaded = loadTls(files);
      apply(loaded.options);
      version = now;
      logger.info("TLS certificate reloaded", { subject: loaded.subject, validTo: loaded.validTo });
    } catch (err) {
      refused = now; // warn once per change, not on every check
      logger.warn("TLS files changed but do not load; keeping the previous certificate", { error: errorMessage(err) });
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
