/**
 * The Kafka listener: accepts connections up to a limit and tracks them for shutdown. With TLS options
 * it is a node:tls server on the same port (plaintext clients fail the handshake; with a client CA,
 * clients without a trusted certificate are refused); connections start once the handshake is done.
 */
import net from "node:net";
import tls from "node:tls";
import { listen } from "../../../common/listen.js";
import type { Logger } from "../../../common/logger.js";
import type { SaslSettings } from "../security/authenticator.js";
import type { AgentContext } from "./context.js";
import { Connection } from "./connection.js";
import type { ConnectionOptions } from "./connection.js";

export interface KafkaServerOptions extends ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly logger: Logger;
  readonly onConnectionsChanged?: (open: number) => void;
  /** TLS server options (certificate, key, and for mutual TLS ca + requestCert + rejectUnauthorized); absent: plaintext. */
  readonly tls?: tls.TlsOptions | null;
}

export interface KafkaServer {
  readonly port: number;
  /** Stops accepting connections; resolves once every open connection has closed too. */
  stopAccepting(): Promise<void>;
  /** Closes every open connection. */
  closeConnections(): void;
  /** Replaces the TLS certificate, key and CA for new connections (renewed certificates); no-op without TLS. */
  setTlsOptions(options: tls.TlsOptions): void;
  /**
   * Replaces the SASL settings (the users) new connections, and re-authentications of connections
   * already open, authenticate against. Throws on a listener started without SASL: reloading cannot
   * turn authentication on or off.
   */
  setSaslSettings(settings: SaslSettings): void;
}

export async function startKafkaServer(agent: AgentContext, options: KafkaServerOptions): Promise<KafkaServer> {
  const connections = new Set<Connection>();
  let nextId = 1;
  let sasl = options.sasl ?? null;
  const connectionOptions: ConnectionOptions = { ...options, currentSasl: () => sasl! };
  const accept = (socket: net.Socket): void => {
    if (connections.size >= options.maxConnections) {
      options.logger.warn("connection refused: limit reached", { limit: options.maxConnections });
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, nextId++, agent, connectionOptions);
    connections.add(conn);
    options.onConnectionsChanged?.(connections.size);
    void conn.closed.then(() => {
      connections.delete(conn);
      options.onConnectionsChanged?.(connections.size);
    });
  };
  let server: net.Server;
  if (options.tls) {
    const tlsServer = tls.createServer({ ...options.tls, handshakeTimeout: 10_000 }, accept);
    tlsServer.on("tlsClientError", (err, socket) => {
      // A plaintext client, an untrusted or missing client certificate, a client that hung up: info, no secrets.
      options.logger.info("TLS handshake failed", {
        remote: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`,
        error: err.message,
      });
    });
    server = tlsServer;
  } else {
    server = net.createServer(accept);
  }
  await listen(server, "kafka", options.host, options.port);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    port,
    stopAccepting: () => new Promise<void>((resolve) => server.close(() => resolve())),
    closeConnections: () => {
      for (const c of [...connections]) c.close("agent shutting down");
    },
    setTlsOptions: (next) => {
      if (server instanceof tls.Server) server.setSecureContext(next);
    },
    setSaslSettings: (next) => {
      if (!sasl) throw new Error("this listener was started without SASL; restart the agent to turn authentication on");
      sasl = next;
    },
  };
}
