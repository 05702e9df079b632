/**
 * DynamoDB Local (AWS's own emulator), whose jar ships inside the npm package
 * amplify-dynamodb-simulator, run with the machine's Java 17 on a free loopback port.
 */
import { existsSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { describeTable } from "../../common/aws/tables.js";
import { freePort } from "./ports.js";
import { spawnServer, which } from "./processes.js";
import type { ServerProcess } from "./processes.js";

export interface DynamoDbLocalOptions {
  /** Keep the data in this directory (created if missing) instead of in memory; survives restart(). */
  readonly dbPath?: string;
  /** One database for every access key and region (-sharedDb); default true. */
  readonly sharedDb?: boolean;
  /** How long to wait for it to answer (default 120 s). */
  readonly timeoutMs?: number;
  /** SpawnServerOptions.niceness. */
  readonly niceness?: number;
}

export interface DynamoDbLocal {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  /** The current process's log file. */
  readonly logFile: string;
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port (data kept only with dbPath). */
  restart(): Promise<void>;
}

/** Dummy credentials and region for clients of local servers. */
export const LOCAL_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "warplocal", secretAccessKey: "warplocal" },
} as const;

/** The emulator directory holding DynamoDBLocal.jar and DynamoDBLocal_lib. */
export function dynamoDbLocalDir(): string {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = path.join(path.dirname(require.resolve("amplify-dynamodb-simulator/package.json")), "emulator");
  } catch {
    throw new Error("DynamoDB Local not found: the npm package amplify-dynamodb-simulator is missing (run `npm ci`)");
  }
  if (!existsSync(path.join(dir, "DynamoDBLocal.jar"))) {
    throw new Error(
      `DynamoDB Local not found: ${dir}/DynamoDBLocal.jar is missing (reinstall amplify-dynamodb-simulator with \`npm ci\`)`,
    );
  }
  return dir;
}

/** Checks that Java and the DynamoDB Local jar are there; returns the emulator directory. */
export function ensureDynamoDbLocal(): { dir: string; java: string } {
  const java = which("java");
  if (!java)
    throw new Error("java not found: DynamoDB Local needs Java 17 (`apt-get install openjdk-17-jre-headless`)");
  return { dir: dynamoDbLocalDir(), java };
}

async function answers(endpoint: string): Promise<boolean> {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** Starts DynamoDB Local (in memory unless dbPath is given) and waits until ListTables succeeds. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const { dir, java } = ensureDynamoDbLocal();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  if (options.dbPath) mkdirSync(options.dbPath, { recursive: true });
  const args = [
    "-Xmx1g",
    "-XX:+UseSerialGC",
    `-Djava.library.path=${path.join(dir, "DynamoDBLocal_lib")}`,
    "-jar",
    path.join(dir, "DynamoDBLocal.jar"),
    "-port",
    String(port),
    ...(options.dbPath ? ["-dbPath", path.resolve(options.dbPath)] : ["-inMemory"]),
    ...(options.sharedDb === false ? [] : ["-sharedDb"]),
  ];
  const start = (): Promise<ServerProcess> =>
    spawnServer({
      name: "dynamodb-local",
      cmd: java,
      args,
      cwd: dir,
      timeoutMs: options.timeoutMs ?? 120_000,
      niceness: options.niceness,
      ready: () => answers(endpoint),
    });
  let server = await start();
  return {
    endpoint,
    port,
    get logFile() {
      return server.logFile;
    },
    stop: () => server.stop(),
    restart: async () => {
      await server.stop();
      server = await start();
    },
  };
}

/** True when the table exists (in any status), false on ResourceNotFoundException. */
export async function tableExists(client: DynamoDBClient, name: string): Promise<boolean> {
  return (await describeTable(client, name)) !== null;
}
