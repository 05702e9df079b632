/**
 * Confluent's Python Kafka client (PyPI `confluent-kafka`, pinned; its manylinux wheel bundles
 * librdkafka) in a venv in the cache, and the scripts in e2e/support/python/ run with that venv's
 * python. The scripts print one JSON object per line on stdout.
 */
import path from "node:path";
import { runCommand, startCommand } from "./processes.js";
import type { RunningCommand, RunResult, StartOptions } from "./processes.js";
import { ensurePythonVenv } from "./python-venv.js";

export const CONFLUENT_KAFKA_VERSION = "2.16.1";

/** The folder of the Python scripts the tests run. */
export const PYTHON_SCRIPTS_DIR = path.join(import.meta.dirname, "python");

export interface ConfluentKafka {
  /** The venv's python. */
  readonly python: string;
  /** confluent_kafka.__version__. */
  readonly version: string;
  /** confluent_kafka.libversion(): the bundled librdkafka. */
  readonly librdkafkaVersion: string;
}

async function importedVersions(python: string): Promise<ConfluentKafka> {
  const probe = await runCommand(
    python,
    ["-c", "import json, confluent_kafka as ck; print(json.dumps([ck.__version__, ck.libversion()[0]]))"],
    { timeoutMs: 60_000 },
  );
  if (probe.code !== 0)
    throw new Error(`${python} cannot import confluent_kafka (${probe.code}):\n${probe.stdout}\n${probe.stderr}`);
  const [version, librdkafkaVersion] = JSON.parse(probe.stdout) as [string, string];
  if (version !== CONFLUENT_KAFKA_VERSION)
    throw new Error(`${python} has confluent_kafka ${version}, expected ${CONFLUENT_KAFKA_VERSION}`);
  return { python, version, librdkafkaVersion };
}

let installed: ConfluentKafka | null = null;

/**
 * Creates the venv with confluent-kafka in the cache (once; binary wheels only, so a machine without
 * one fails instead of compiling librdkafka) and returns its python and the versions it imports.
 */
export async function ensureConfluentKafka(): Promise<ConfluentKafka> {
  if (installed) return installed;
  const venv = await ensurePythonVenv({
    name: `confluent-kafka-${CONFLUENT_KAFKA_VERSION}`,
    purpose: "the confluent-kafka Python client",
    pipInstall: ["--only-binary", "confluent-kafka", `confluent-kafka==${CONFLUENT_KAFKA_VERSION}`],
    check: async (dir) => {
      await importedVersions(path.join(dir, "bin", "python"));
    },
  });
  installed = await importedVersions(path.join(venv, "bin", "python"));
  return installed;
}

function scriptArgs(script: string, args: readonly string[]): string[] {
  // Unbuffered output; no __pycache__ written into the repository.
  return ["-u", "-B", path.join(PYTHON_SCRIPTS_DIR, script), ...args];
}

/** Runs `e2e/support/python/<script>` with the venv's python to completion. */
export async function runPythonScript(
  script: string,
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<RunResult> {
  const { python } = await ensureConfluentKafka();
  return runCommand(python, scriptArgs(script, args), { timeoutMs: options.timeoutMs ?? 120_000 });
}

/** Starts `e2e/support/python/<script>` with the venv's python, driven through stdin and stdout. */
export async function startPythonScript(
  script: string,
  args: readonly string[],
  options: StartOptions = {},
): Promise<RunningCommand> {
  const { python } = await ensureConfluentKafka();
  return startCommand(python, scriptArgs(script, args), options);
}

/** The JSON objects of a script's output, one per non-empty line. */
export function jsonLines<T>(stdout: string): T[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line) as T);
}
