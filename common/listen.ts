/**
 * Binds a server (net, tls or http) with a start-up error that names the listener and its address,
 * e.g. "cannot start the kafka listener on 127.0.0.1:9092: address already in use (EADDRINUSE)".
 */
import type { Server } from "node:net";

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available on this machine",
  EACCES: "permission denied",
};

/** host:port, with an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

function reason(err: NodeJS.ErrnoException): string {
  const known = err.code !== undefined ? REASONS[err.code] : undefined;
  return known !== undefined ? `${known} (${err.code})` : err.message;
}

/** Listens on host:port; rejects, naming `listener` (kafka, http, ...) and the address, if it cannot. */
export function listen(server: Server, listener: string, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void =>
      reject(
        new Error(`cannot start the ${listener} listener on ${hostPort(host, port)}: ${reason(err)}`, { cause: err }),
      );
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
