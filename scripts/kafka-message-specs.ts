/**
 * Kafka's JSON message specs (`common/message/<Name>.json`), as they ship inside the
 * org.apache.kafka:kafka-clients jar on Maven Central. The jar is fetched once with
 * `mvn dependency:copy` and its specs unpacked with `unzip` into `<cache>/kafka-clients-<version>`
 * (the test components' cache, e2e/support/cache.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { cacheDir, withCacheLock } from "../e2e/support/cache.js";
import { runCommand, which } from "../e2e/support/processes.js";

/** Where the specs sit inside the jar (and under the cache directory once unpacked). */
const SPEC_DIR = path.join("common", "message");

function requireTool(name: string, apt: string, why: string): string {
  const found = which(name);
  if (!found) throw new Error(`${name} not found: install it with \`apt-get install ${apt}\` (${why})`);
  return found;
}

/**
 * The directory holding kafka-clients `version`'s JSON message specs, fetching and unpacking the jar
 * on first use. Needs `mvn` and `unzip` then; later calls only check the marker.
 */
export async function ensureKafkaMessageSpecs(version: string): Promise<string> {
  const home = cacheDir(`kafka-clients-${version}`);
  const marker = path.join(home, ".complete");
  if (existsSync(marker)) return path.join(home, SPEC_DIR);
  const mvn = requireTool("mvn", "maven", "it fetches kafka-clients from Maven Central");
  const unzip = requireTool("unzip", "unzip", "it unpacks the message specs from the jar");
  await withCacheLock(`kafka-clients-${version}`, async () => {
    if (existsSync(marker)) return;
    const staging = `${home}.partial`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    const fetched = await runCommand(
      mvn,
      [
        "-B",
        "-q",
        "dependency:copy",
        `-Dartifact=org.apache.kafka:kafka-clients:${version}`,
        `-DoutputDirectory=${staging}`,
      ],
      { timeoutMs: 600_000, cwd: staging },
    );
    const jar = path.join(staging, `kafka-clients-${version}.jar`);
    if (fetched.code !== 0 || !existsSync(jar))
      throw new Error(
        `mvn dependency:copy of kafka-clients ${version} failed (${fetched.code}):\n${fetched.stdout}\n${fetched.stderr}`,
      );
    const unpacked = await runCommand(unzip, ["-q", "-o", jar, `${SPEC_DIR}/*.json`, "-d", staging]);
    if (unpacked.code !== 0)
      throw new Error(`unzip of ${jar} failed (${unpacked.code}):\n${unpacked.stdout}\n${unpacked.stderr}`);
    writeFileSync(path.join(staging, ".complete"), `${new Date().toISOString()}\n`);
    rmSync(home, { recursive: true, force: true });
    renameSync(staging, home);
  });
  return path.join(home, SPEC_DIR);
}

/** One spec file, parsed: Kafka's JSON with `//` comment lines. */
export function readMessageSpec(specDir: string, name: string): unknown {
  const file = path.join(specDir, `${name}.json`);
  if (!existsSync(file)) throw new Error(`no message spec ${name}.json in ${specDir}`);
  const text = readFileSync(file, "utf8");
  return JSON.parse(
    text
      .split("\n")
      .filter((line) => !/^\s*\/\//.test(line))
      .join("\n"),
  ) as unknown;
}
