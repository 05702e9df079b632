/**
 * One POST to the sequencer on a connection of its own (no keep-alive: a connection refused or never made
 * then says for sure that nothing was delivered, where a reused one that fails cannot tell). Used for
 * commits (forwarder.ts) and tail watches (watcher.ts).
 */
import { request } from "node:http";
import { errorMessage } from "../../../common/logger.js";
import type { SequencerAddress } from "./wire.js";

/** The answer, or why there is none; `delivered` is false only when the connection was never made. */
export type PostAnswer =
  | { readonly status: number; readonly body: Buffer; readonly contentType: string | undefined }
  | { readonly error: string; readonly delivered: boolean; readonly aborted?: boolean };

export interface PostOptions {
  readonly headers: Record<string, string>;
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  /** Aborting ends the request at once with `aborted` set (the caller no longer wants its answer). */
  readonly signal?: AbortSignal;
}

export function postOnce(
  target: SequencerAddress,
  path: string,
  body: Buffer,
  options: PostOptions,
): Promise<PostAnswer> {
  return new Promise((resolve) => {
    let connected = false;
    let settled = false;
    const finish = (answer: PostAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(answer);
    };
    const req = request({
      host: target.host,
      port: target.port,
      path,
      method: "POST",
      agent: false,
      headers: { ...options.headers, "content-length": String(body.length) },
    });
    const onAbort = (): void => {
      finish({ error: "aborted", delivered: connected, aborted: true });
      req.destroy();
    };
    const connectTimer = setTimeout(() => {
      if (!connected) req.destroy(new Error(`no connection within ${options.connectTimeoutMs} ms`));
    }, options.connectTimeoutMs);
    const deadline = setTimeout(
      () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    req.on("socket", (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once("connect", () => (connected = true));
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        finish({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), contentType: res.headers["content-type"] }),
      );
      res.on("error", (err) => finish({ error: `reading the answer failed: ${errorMessage(err)}`, delivered: true }));
    });
    req.on("error", (err) => finish({ error: errorMessage(err), delivered: connected }));
    req.end(body);
  });
}
