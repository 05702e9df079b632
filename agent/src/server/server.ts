/** The Kafka listener: accepts connections up to a limit and tracks them for shutdown. */
import net from "node:net";
import type { Logger } from "../../../common/logger.js";
import type { AgentContext } from "./context.js";
import { Connection } from "./connection.js";
import type { ConnectionOptions } from "./connection.js";

export interface KafkaServerOptions extends ConnectionOptions {
  readonly host: string;
  readonly port: number;
  readonly maxConnections: number;
  readonly logger: Logger;
  readonly onConnectionsChanged?: (open: number) => void;
}

export interface KafkaServer {
  readonly port: number;
  /** Stops accepting connections; resolves once every open connection has closed too. */
  stopAccepting(): Promise<void>;
  /** Closes every open connection. */
  closeConnections(): void;
}

export async function startKafkaServer(agent: AgentContext, options: KafkaServerOptions): Promise<KafkaServer> {
  const connections = new Set<Connection>();
  let nextId = 1;
  const server = net.createServer((socket) => {
    if (connections.size >= options.maxConnections) {
      options.logger.warn("connection refused: limit reached", { limit: options.maxConnections });
      socket.destroy();
      return;
    }
    const conn = new Connection(socket, nextId++, agent, options);
    connections.add(conn);
    options.onConnectionsChanged?.(connections.size);
    void conn.closed.then(() => {
      connections.delete(conn);
      options.onConnectionsChanged?.(connections.size);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    port,
    stopAccepting: () => new Promise<void>((resolve) => server.close(() => resolve())),
    closeConnections: () => {
      for (const c of [...connections]) c.close("agent shutting down");
    },
  };
}
