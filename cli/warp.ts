#!/usr/bin/env node
/**
 * The `warp` command:
 *   warp agent [flags]      run a Kafka-compatible agent (flags: warp agent --help)
 *   warp operator [flags]   run the Kubernetes operator
 *   warp iam-policy [flags] print least-privilege IAM policies for the agent and the operator
 *   warp version            print the version
 * Flags take the Go spelling of WarpStream's documented flags (-bucketURL value, -bucketURL=value) or GNU
 * long options (--bucketURL value, --bucketURL=value); every flag also has an environment twin.
 * Exit codes: 0 after a clean stop (SIGTERM/SIGINT), 1 when stopping fails, 2 for usage and start-up errors.
 */
import { readFileSync, realpathSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { componentLogger, errorMessage, rootLogger, routeProcessOutputToLogger } from "../common/logger.js";
import { AGENT_FLAG_LIST } from "../agent/src/config/flags.js";
import type { RunningAgent } from "../agent/src/agent.js";
import { type AgentConfig, parseAgentConfig } from "../agent/src/config/parse.js";
import { addFlagOptions, givenFlags, normaliseFlagArgs, UsageError } from "./flags.js";
import { OPERATOR_FLAG_LIST, type OperatorCli, parseOperatorOptions } from "./operator-flags.js";
import { addIamPolicyCommand, IAM_POLICY_FLAG_LIST } from "./iam-policy.js";
import { addCostCommand } from "./cost.js";

/** Exit code for usage and start-up errors (as Go's flag package). */
const EXIT_USAGE = 2;

function fail(command: string, message: string): never {
  process.stderr.write(`warp ${command}: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/** The package version, from the package.json above this file (cli/ in source, dist/cli/ when built). */
export function packageVersion(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: unknown;
        version?: unknown;
      };
      if (pkg.name === "warp-agent" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return "unknown";
    dir = parent;
  }
}

interface Stoppable {
  stop(): Promise<void>;
}

/** On the first SIGTERM/SIGINT: stop (drain) then exit 0; a second signal exits at once. */
function stopOnSignals(command: string, running: Stoppable): void {
  const logger = componentLogger("cli");
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`second ${signal} while stopping: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal} received: warp ${command} stopping`);
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`warp ${command} did not stop cleanly`, { error: errorMessage(err) });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}

async function runAgent(flags: Record<string, string>): Promise<void> {
  let config: AgentConfig;
  try {
    config = parseAgentConfig(flags, process.env);
  } catch (err) {
    fail("agent", errorMessage(err));
  }
  rootLogger.level = config.logLevel;
  routeProcessOutputToLogger(componentLogger("process"));
  let running: RunningAgent;
  try {
    const { startAgent } = await import("../agent/src/agent.js");
    running = await startAgent(config);
  } catch (err) {
    fail("agent", errorMessage(err));
  }
  stopOnSignals("agent", running);
  // An agent that stopped itself (a metadata log it cannot read) exits 1 with the reason.
  void running.failed.then((err) => {
    process.stderr.write(`warp agent: stopped: ${errorMessage(err)}\n`);
    process.exit(1);
  });
}

async function runOperator(flags: Record<string, string>): Promise<void> {
  let cli: OperatorCli;
  try {
    cli = parseOperatorOptions(flags, process.env);
  } catch (err) {
    fail("operator", errorMessage(err));
  }
  rootLogger.level = cli.logLevel;
  routeProcessOutputToLogger(componentLogger("process"));
  let running: Stoppable;
  try {
    const { runOperator } = await import("../operator/src/main.js");
    running = await runOperator(cli.options);
  } catch (err) {
    fail("operator", errorMessage(err));
  }
  stopOnSignals("operator", running);
}

export function buildProgram(): Command {
  const version = packageVersion();
  const program = new Command("warp")
    .description(
      "A Kafka-compatible agent that ingests into DynamoDB and compacts into S3, and its Kubernetes operator.",
    )
    .version(version, "-V, --version", "print the version")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`warp: ${text.replace(/^error: /, "")}`) })
    .showHelpAfterError("(run warp <command> --help for usage)");

  addFlagOptions(
    program
      .command("agent")
      .description(
        "Run an agent: a Kafka protocol server. Flags may be written -flag value, -flag=value, --flag value or --flag=value; a flag wins over its environment variable.",
      )
      .allowExcessArguments(false),
    AGENT_FLAG_LIST,
  ).action(async (_opts: unknown, command: Command) => runAgent(givenFlags(command, AGENT_FLAG_LIST)));

  addFlagOptions(
    program
      .command("operator")
      .description(
        "Run the Kubernetes operator that reconciles WarpAgent resources (AWS endpoints and credentials come from the standard AWS environment).",
      )
      .allowExcessArguments(false),
    OPERATOR_FLAG_LIST,
  ).action(async (_opts: unknown, command: Command) => runOperator(givenFlags(command, OPERATOR_FLAG_LIST)));

  addCostCommand(program);

  addIamPolicyCommand(program, (message) => fail("iam-policy", message));

  program
    .command("version")
    .description("Print the version.")
    .action(() => {
      process.stdout.write(`warp ${version} (node ${process.version})\n`);
    });
  return program;
}

/** Runs the CLI on user arguments (process.argv without node and script). */
export async function main(args: readonly string[]): Promise<void> {
  const [command, ...rest] = args;
  let normalised: string[] = [...args];
  try {
    if (command === "agent") normalised = [command, ...normaliseFlagArgs(rest, AGENT_FLAG_LIST)];
    if (command === "operator") normalised = [command, ...normaliseFlagArgs(rest, OPERATOR_FLAG_LIST)];
    if (command === "iam-policy") normalised = [command, ...normaliseFlagArgs(rest, IAM_POLICY_FLAG_LIST)];
  } catch (err) {
    if (err instanceof UsageError) fail(command!, `${err.message} (see warp ${command} --help)`);
    throw err;
  }
  try {
    await buildProgram().parseAsync(normalised, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed help, the version or its error already.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    throw err;
  }
}

/** True when this file is the program (node dist/cli/warp.js, the npm bin symlink, tsx cli/warp.ts), not an import. */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`warp: ${errorMessage(err)}\n`);
    process.exit(EXIT_USAGE);
  });
}
