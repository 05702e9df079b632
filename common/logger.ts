/** JSON logs on stderr (winston). One logger per component: logger.child({ component: "fetch" }). */
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
