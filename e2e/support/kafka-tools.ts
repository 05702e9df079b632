/**
 * Apache Kafka's own Java tools and broker, from Maven Central: a generated pom in the cache and
 * `mvn dependency:copy-dependencies` bring kafka-tools, kafka_2.13 (the broker, for comparison
 * benchmarks) and an slf4j binding into `<cache>/kafka-<version>/libs`, run with the machine's Java 17.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { cacheDir, withCacheLock } from "./cache.js";
import { freePort } from "./ports.js";
import { fileTail, runCommand, spawnServer, startCommand, which } from "./processes.js";
import type { RunningCommand, RunResult } from "./processes.js";

export type { RunResult } from "./processes.js";

export const KAFKA_VERSION = "4.1.1";
const SLF4J_VERSION = "1.7.36"; // the slf4j-api that kafka-clients 4.1.x depends on

/** Main classes of the command-line tools (from the kafka-tools jar). */
export const KAFKA_TOOL_CLASSES = {
  topics: "org.apache.kafka.tools.TopicCommand",
  "console-producer": "org.apache.kafka.tools.ConsoleProducer",
  "console-consumer": "org.apache.kafka.tools.consumer.ConsoleConsumer",
  "consumer-groups": "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
  "producer-perf-test": "org.apache.kafka.tools.ProducerPerformance",
  "consumer-perf-test": "org.apache.kafka.tools.ConsumerPerformance",
  "delete-records": "org.apache.kafka.tools.DeleteRecordsCommand",
  "get-offsets": "org.apache.kafka.tools.GetOffsetShell",
  "log-dirs": "org.apache.kafka.tools.LogDirsCommand",
  transactions: "org.apache.kafka.tools.TransactionsCommand",
  acls: "org.apache.kafka.tools.AclCommand",
  configs: "kafka.admin.ConfigCommand",
} as const;

export type KafkaTool = keyof typeof KAFKA_TOOL_CLASSES;

export interface KafkaTools {
  /** Every jar, joined with the path delimiter. */
  readonly classpath: string;
  /** The reload4j configuration for the tools (warnings and errors to stderr). */
  readonly toolsLog4j: string;
  /** The reload4j configuration for the broker (info to stdout). */
  readonly brokerLog4j: string;
}

function kafkaHome(): string {
  return cacheDir(`kafka-${KAFKA_VERSION}`);
}

type MavenDependency = readonly [groupId: string, artifactId: string, version: string];

/** The Kafka tools' and broker's jars, with an slf4j binding. */
const TOOLS_DEPENDENCIES: readonly MavenDependency[] = [
  ["org.apache.kafka", "kafka-tools", KAFKA_VERSION],
  ["org.apache.kafka", "kafka_2.13", KAFKA_VERSION],
  ["org.slf4j", "slf4j-api", SLF4J_VERSION],
  ["org.slf4j", "slf4j-reload4j", SLF4J_VERSION],
];

function pom(artifactId: string, dependencies: readonly MavenDependency[]): string {
  return [
    `<project xmlns="http://maven.apache.org/POM/4.0.0">`,
    `  <modelVersion>4.0.0</modelVersion>`,
    `  <groupId>local.warp.test</groupId><artifactId>${artifactId}</artifactId><version>1</version><packaging>pom</packaging>`,
    `  <dependencies>`,
    ...dependencies.map(
      ([g, a, v]) =>
        `    <dependency><groupId>${g}</groupId><artifactId>${a}</artifactId><version>${v}</version></dependency>`,
    ),
    `  </dependencies>`,
    `</project>`,
    ``,
  ].join("\n");
}

/**
 * Brings `dependencies` and what they need at run time from Maven Central into `<home>/libs` (once: a
 * marker file says the set is complete), failing unless every jar of `needed` came.
 */
async function fetchJars(
  home: string,
  name: string,
  dependencies: readonly MavenDependency[],
  needed: readonly string[],
): Promise<void> {
  const marker = path.join(home, "libs", ".complete");
  if (existsSync(marker)) return;
  requireJava();
  const mvn = which("mvn");
  if (!mvn)
    throw new Error(
      "mvn not found: install Maven with `apt-get install maven` (it fetches Kafka's jars from Maven Central)",
    );
  await withCacheLock(name, async () => {
    if (existsSync(marker)) return;
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, "pom.xml"), pom(`${name}-fetch`, dependencies));
    const staging = path.join(home, "libs.partial");
    rmSync(staging, { recursive: true, force: true });
    const r = await runCommand(
      mvn,
      [
        "-B",
        "-q",
        "-f",
        path.join(home, "pom.xml"),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        `-DoutputDirectory=${staging}`,
      ],
      { timeoutMs: 900_000, cwd: home },
    );
    if (r.code !== 0)
      throw new Error(`mvn dependency:copy-dependencies for ${name} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const jars = readdirSync(staging);
    for (const jar of needed)
      if (!jars.includes(jar)) throw new Error(`mvn did not bring ${jar} (got ${jars.join(", ")})`);
    writeFileSync(path.join(staging, ".complete"), `${new Date().toISOString()}\n`);
    rmSync(path.join(home, "libs"), { recursive: true, force: true });
    renameSync(staging, path.join(home, "libs"));
  });
}

/** The jars in `<home>/libs`, joined with the path delimiter. */
function classpathOf(home: string): string {
  const libs = path.join(home, "libs");
  return readdirSync(libs)
    .filter((f) => f.endsWith(".jar"))
    .sort()
    .map((j) => path.join(libs, j))
    .join(path.delimiter);
}

const TOOLS_LOG4J = [
  "log4j.rootLogger=WARN, stderr",
  "log4j.appender.stderr=org.apache.log4j.ConsoleAppender",
  "log4j.appender.stderr.Target=System.err",
  "log4j.appender.stderr.layout=org.apache.log4j.PatternLayout",
  "log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n",
  "",
].join("\n");

const BROKER_LOG4J = [
  "log4j.rootLogger=INFO, stdout",
  "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
  "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
  "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n",
  "log4j.logger.org.apache.kafka.clients=WARN",
  "",
].join("\n");

let cached: KafkaTools | null = null;

function toolsFromDisk(home: string): KafkaTools {
  const toolsLog4j = path.join(home, "tools-log4j.properties");
  const brokerLog4j = path.join(home, "broker-log4j.properties");
  writeFileSync(toolsLog4j, TOOLS_LOG4J);
  writeFileSync(brokerLog4j, BROKER_LOG4J);
  return { classpath: classpathOf(home), toolsLog4j, brokerLog4j };
}

function requireJava(): string {
  const java = which("java");
  if (!java) throw new Error("java not found: install Java 17 with `apt-get install openjdk-17-jre-headless`");
  return java;
}

/**
 * Fetches Kafka's tools and broker jars into the cache (once; later calls only check the marker).
 * Needs `mvn` (`apt-get install maven`) and Java 17.
 */
export async function ensureKafkaTools(): Promise<KafkaTools> {
  if (cached) return cached;
  const home = kafkaHome();
  await fetchJars(home, `kafka-${KAFKA_VERSION}`, TOOLS_DEPENDENCIES, [
    `kafka-tools-${KAFKA_VERSION}.jar`,
    `kafka-clients-${KAFKA_VERSION}.jar`,
    `kafka_2.13-${KAFKA_VERSION}.jar`,
    `slf4j-reload4j-${SLF4J_VERSION}.jar`,
  ]);
  cached = toolsFromDisk(home);
  return cached;
}

let streamsClasspath: string | null = null;

/**
 * Kafka Streams' jars (kafka-streams and what it needs at run time, RocksDB's JNI jar included) into
 * `<cache>/kafka-streams-<version>/libs`, once; returns them as a class path to put after the tools'.
 */
export async function ensureKafkaStreams(): Promise<string> {
  if (streamsClasspath !== null) return streamsClasspath;
  const home = cacheDir(`kafka-streams-${KAFKA_VERSION}`);
  await fetchJars(
    home,
    `kafka-streams-${KAFKA_VERSION}`,
    [["org.apache.kafka", "kafka-streams", KAFKA_VERSION]],
    [`kafka-streams-${KAFKA_VERSION}.jar`],
  );
  streamsClasspath = classpathOf(home);
  return streamsClasspath;
}

export interface KafkaToolOptions {
  /** Written to the tool's stdin (console producer), which is then closed. */
  readonly input?: Buffer | string;
  /** Killed after this long (default 120 s). */
  readonly timeoutMs?: number;
  /** Extra JVM options (default heap: -Xmx1g). */
  readonly jvmOptions?: readonly string[];
}

/** The java command line of one of Kafka's command-line tools, like bin/kafka-<tool>.sh builds it. */
async function toolCommand(
  tool: KafkaTool,
  args: readonly string[],
  options: KafkaToolOptions,
): Promise<[java: string, args: string[]]> {
  const tools = await ensureKafkaTools();
  const java = requireJava();
  const mainClass = KAFKA_TOOL_CLASSES[tool];
  if (!mainClass) throw new Error(`unknown Kafka tool ${String(tool)}`);
  return [
    java,
    [
      "-Xmx1g",
      "-Djava.awt.headless=true",
      `-Dlog4j.configuration=file:${tools.toolsLog4j}`,
      ...(options.jvmOptions ?? []),
      "-cp",
      tools.classpath,
      mainClass,
      ...args,
    ],
  ];
}

/** Runs one of Kafka's command-line tools to completion, like bin/kafka-<tool>.sh would. */
export async function runKafkaTool(
  tool: KafkaTool,
  args: readonly string[],
  options: KafkaToolOptions = {},
): Promise<RunResult> {
  const [java, javaArgs] = await toolCommand(tool, args, options);
  return runCommand(java, javaArgs, { input: options.input, timeoutMs: options.timeoutMs ?? 120_000 });
}

/**
 * Starts one of Kafka's command-line tools and returns at once, leaving it running (a console consumer
 * kept while the test changes the agents under it), driven through stdin (the console producer sends a
 * record per line written) and read line by line from stdout as it comes (`onStdoutLine`; the console
 * consumer prints one line per record); end it with endInput() or kill().
 */
export async function startKafkaTool(
  tool: KafkaTool,
  args: readonly string[],
  options: Omit<KafkaToolOptions, "input"> & { readonly onStdoutLine?: (line: string) => void } = {},
): Promise<RunningCommand> {
  const [java, javaArgs] = await toolCommand(tool, args, options);
  return startCommand(java, javaArgs, {
    timeoutMs: options.timeoutMs ?? 300_000,
    ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
  });
}

/** The broker comes from the same jars as the tools. */
export async function ensureKafkaServer(): Promise<KafkaTools> {
  return ensureKafkaTools();
}

export interface KafkaBroker {
  /** host:port for clients. */
  readonly bootstrap: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  readonly clusterId: string;
  stop(): Promise<void>;
}

export interface KafkaBrokerOptions {
  /** Extra or overriding server.properties entries. */
  readonly config?: Readonly<Record<string, string>>;
  /** Broker heap (default -Xmx1g -Xms1g, like kafka-server-start.sh). */
  readonly heap?: string;
  /** How long to wait for it to start (default 120 s). */
  readonly timeoutMs?: number;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/**
 * Starts a single Apache Kafka broker in KRaft combined mode (broker + controller, node 1) on
 * 127.0.0.1, after formatting a temporary storage dir with a random cluster id. stop() shuts it
 * down and removes the dir.
 */
export async function startKafkaBroker(options: KafkaBrokerOptions = {}): Promise<KafkaBroker> {
  const tools = await ensureKafkaServer();
  const java = requireJava();
  const [port, controllerPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(path.join(tmpdir(), "warp-kafka-broker-"));
  // An id starting with "-" is taken for an option by kafka-storage (1 in 64 runs failed so), as Kafka's
  // own Uuid.randomUuid avoids.
  let clusterId = randomBytes(16).toString("base64url");
  while (clusterId.startsWith("-")) clusterId = randomBytes(16).toString("base64url");
  const config: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.quorum.voters": `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    "advertised.listeners": `PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    "log.dirs": path.join(dataDir, "data"),
    "num.partitions": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    ...options.config,
  };
  const propsFile = path.join(dataDir, "server.properties");
  writeFileSync(
    propsFile,
    Object.entries(config)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n") + "\n",
  );
  const logFile = path.join(dataDir, "broker.log");
  const jvm = [
    ...(options.heap ? [options.heap] : ["-Xmx1g", "-Xms1g"]),
    "-Djava.awt.headless=true",
    `-Dlog4j.configuration=file:${tools.brokerLog4j}`,
    "-cp",
    tools.classpath,
  ];
  try {
    const format = await runCommand(
      java,
      [...jvm, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", propsFile],
      { timeoutMs: 120_000 },
    );
    if (format.code !== 0)
      throw new Error(`kafka-storage format failed (${format.code}):\n${format.stdout}\n${format.stderr}`);
    const server = await spawnServer({
      name: "kafka-broker",
      cmd: java,
      args: [...jvm, "kafka.Kafka", propsFile],
      logFile,
      timeoutMs: options.timeoutMs ?? 120_000,
      stopGraceMs: 30_000,
      ready: async () => /Kafka Server started/.test(fileTail(logFile, 400)) && (await tcpOpen(port)),
    });
    return {
      bootstrap: `127.0.0.1:${port}`,
      port,
      dataDir,
      logFile,
      clusterId,
      stop: async () => {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts a one-file Java program (Java's source launcher: `java File.java args`) with Kafka's jars on the
 * class path, like startKafkaTool: a test's own client, such as a consumer printing its rebalance events.
 */
export async function startJavaProgram(
  sourceFile: string,
  args: readonly string[],
  options: Omit<KafkaToolOptions, "input"> & {
    readonly onStdoutLine?: (line: string) => void;
    /** Jars put after Kafka's on the class path (ensureKafkaStreams). */
    readonly classpath?: string;
  } = {},
): Promise<RunningCommand> {
  const tools = await ensureKafkaTools();
  const java = requireJava();
  return startCommand(
    java,
    [
      "-Xmx256m",
      "-Djava.awt.headless=true",
      `-Dlog4j.configuration=file:${tools.toolsLog4j}`,
      ...(options.jvmOptions ?? []),
      "-cp",
      options.classpath ? `${tools.classpath}${path.delimiter}${options.classpath}` : tools.classpath,
      sourceFile,
      ...args,
    ],
    {
      timeoutMs: options.timeoutMs ?? 300_000,
      ...(options.onStdoutLine ? { onStdoutLine: options.onStdoutLine } : {}),
    },
  );
}
