/**
 * Prewarms every real component the tests start, so a fresh machine (CI) fetches and builds them
 * up front rather than inside a test's timeout: kcat (apt), Apache Kafka's tools and broker jars
 * (Maven Central), moto's S3 server and the confluent-kafka Python client (venvs from PyPI), DynamoDB
 * Local (checks Java and the jar), the Kubernetes binaries (e2e/support/kube/build.ts) and the
 * benchmark's S3 server (the Versity S3 Gateway, Go module proxy).
 * Idempotent: a warm cache makes it a matter of seconds. Prints what it did and how long each step
 * took; exits non-zero if any failed.
 *
 * Run: npx tsx scripts/setup-test-deps.ts
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureDynamoDbLocal } from "../e2e/support/dynamodb-local.js";
import { KAFKA_VERSION, ensureKafkaStreams, ensureKafkaTools } from "../e2e/support/kafka-tools.js";
import { ensureKcat } from "../e2e/support/kcat.js";
import { CONFLUENT_KAFKA_VERSION, ensureConfluentKafka } from "../e2e/support/python-client.js";
import { MOTO_VERSION, VERSITYGW_VERSION, ensureMoto, ensureVersitygw } from "../e2e/support/s3-server.js";

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

interface Step {
  readonly name: string;
  readonly run: () => Promise<string>;
}

function say(line: string): void {
  process.stdout.write(`[setup-test-deps] ${line}\n`);
}

async function timed(step: Step): Promise<boolean> {
  const t0 = Date.now();
  say(`${step.name}: starting`);
  try {
    const what = await step.run();
    say(`${step.name}: ok in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
    return true;
  } catch (err) {
    say(
      `${step.name}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${err instanceof Error ? err.message : String(err)}`,
    );
    return false;
  }
}

// Fetches that are mostly network: run side by side.
const fetchSteps: Step[] = [
  { name: "kcat", run: async () => await ensureKcat() },
  {
    name: `kafka ${KAFKA_VERSION} tools and broker (Maven Central)`,
    run: async () => `${(await ensureKafkaTools()).classpath.split(path.delimiter).length} jars`,
  },
  {
    name: `kafka-streams ${KAFKA_VERSION} (Maven Central)`,
    // After the tools' fetch (it waits on that fetch's lock): two mvn runs share one local repository.
    run: async () => {
      await ensureKafkaTools();
      return `${(await ensureKafkaStreams()).split(path.delimiter).length} jars`;
    },
  },
  { name: `moto[server] ${MOTO_VERSION} (PyPI venv)`, run: async () => await ensureMoto() },
  {
    name: `confluent-kafka ${CONFLUENT_KAFKA_VERSION} (PyPI venv)`,
    run: async () => {
      const { python, librdkafkaVersion } = await ensureConfluentKafka();
      return `${python}, librdkafka ${librdkafkaVersion}`;
    },
  },
  {
    name: "DynamoDB Local (Java 17 + amplify-dynamodb-simulator jar)",
    run: async () => {
      const { dir, java } = ensureDynamoDbLocal();
      return `${java}, ${path.join(dir, "DynamoDBLocal.jar")}`;
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Kubernetes test binaries (kube-apiserver, kube-controller-manager, etcd, helm, kubectl), built from the Go module proxy by
// e2e/support/kube/build.ts. CPU-heavy, so it runs after the fetches. The lead may add further
// cluster components here.
// ---------------------------------------------------------------------------------------------
const kubeBuild = path.join(REPO_ROOT, "e2e", "support", "kube", "build.ts");
const buildSteps: Step[] = [];
if (existsSync(kubeBuild)) {
  buildSteps.push({
    name: "kube-apiserver, kube-controller-manager, etcd, helm (e2e/support/kube/build.ts)",
    run: async () => {
      // A computed specifier: this script must not fail to compile while the kube harness is absent.
      const specifier = "../e2e/support/kube/build.js";
      const mod = (await import(specifier)) as {
        ensureKubeBinaries?: () => Promise<Record<string, string | undefined>>;
      };
      if (typeof mod.ensureKubeBinaries !== "function")
        throw new Error(`${kubeBuild} does not export ensureKubeBinaries()`);
      const bins = await mod.ensureKubeBinaries();
      return Object.values(bins)
        .filter((b): b is string => typeof b === "string")
        .join(", ");
    },
  });
} else {
  say(`kube: skipped, ${path.relative(REPO_ROOT, kubeBuild)} does not exist yet`);
}
buildSteps.push({
  name: `versitygw ${VERSITYGW_VERSION} (Go module proxy; the benchmark's S3 server)`,
  run: async () => await ensureVersitygw(),
});

async function main(): Promise<void> {
  const t0 = Date.now();
  const fetched = await Promise.all(fetchSteps.map(timed));
  const built: boolean[] = [];
  for (const step of buildSteps) built.push(await timed(step));
  const failed = [...fetched, ...built].filter((ok) => !ok).length;
  say(`${failed === 0 ? "all ready" : `${failed} step(s) failed`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (failed > 0) process.exitCode = 1;
}

await main();
