/** JSON logs on stderr (winston). One logger per component: logger.child({ component: "fetch" }). */
import { format } from "node:util";
import winston from "winston";

export type Logger = winston.Logger;

const level = process.env.WARP_LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "warn" : "info");

export const rootLogger: Logger = winston.createLogger({
  level,
  format: winston.format.combine(
    winston.format.timestamp(),
    winston.format.errors({ stack: true }),
    winston.format.json(),
  ),
  transports: [
    new winston.transports.Console({ stderrLevels: ["error", "warn", "info", "http", "verbose", "debug", "silly"] }),
  ],
});

export function componentLogger(component: string): Logger {
  return rootLogger.child({ component });
}

/** Error text for logs and status messages, without stack noise. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A process warning as Node hands it to "warning" listeners. */
interface ProcessWarning extends Error {
  readonly code?: string;
  readonly detail?: string;
}

/**
 * Sends what Node and libraries would print beside the logger through it instead, so that every line a
 * long-running command writes is JSON: process warnings (process.emitWarning: deprecations, the AWS
 * SDK's notices; Node's own printer is removed, as with --no-warnings) at warn, and the console
 * methods at their levels (their arguments formatted as console would).
 */
export function routeProcessOutputToLogger(logger: Logger): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning: ProcessWarning) => {
    logger.warn(warning.message, {
      warning: warning.name,
      ...(warning.code !== undefined ? { code: warning.code } : {}),
      ...(warning.detail !== undefined ? { detail: warning.detail } : {}),
    });
  });
  const route =
    (level: "error" | "warn" | "info" | "debug") =>
    (...args: unknown[]): void => {
      logger.log(level, format(...args));
    };
  console.error = route("error");
  console.warn = route("warn");
  console.log = route("info");
  console.info = route("info");
  console.debug = route("debug");
  console.trace = route("debug");
}
