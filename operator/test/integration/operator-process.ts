/**
 * Runs the operator as a separate process so a test can kill it (SIGKILL) mid-reconcile.
 * Env: WARP_TEST_KUBECONFIG (file), WARP_TEST_DYNAMODB, WARP_TEST_S3, WARP_TEST_APPLY_DELAY_MS
 * (sleep after every apply, to widen the window the test kills it in). Prints "started" when running.
 */
import { runOperator } from "../../src/main.js";

const delay = Number(process.env.WARP_TEST_APPLY_DELAY_MS ?? "0");
await runOperator({
  kubeconfig: process.env.WARP_TEST_KUBECONFIG!,
  metricsPort: false,
  discoverZones: false,
  aws: { dynamodbEndpoint: process.env.WARP_TEST_DYNAMODB!, s3Endpoint: process.env.WARP_TEST_S3! },
  requeue: { baseDelayMs: 200, maxDelayMs: 2_000, pendingMs: 300 },
  hooks: { afterApply: () => new Promise((r) => setTimeout(r, delay)) },
});
process.stdout.write("started\n");
