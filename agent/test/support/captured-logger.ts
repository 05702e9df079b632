/** A logger that keeps what is logged at `level` (warn by default) and above, for tests that assert on log lines. */
import { Writable } from "node:stream";
import winston from "winston";
import type { Logger } from "../../../common/logger.js";

export interface LoggedLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export function capturedLogger(level = "warn"): { logger: Logger; lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: LoggedLine, _encoding, done) {
      lines.push(info);
      done();
    },
  });
  const logger = winston.createLogger({ level, transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}
