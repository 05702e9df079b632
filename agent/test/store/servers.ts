/**
 * Real servers for the store tests: DynamoDB Local and an S3 API server, started through the shared
 * harnesses in e2e/support, or already running ones named by WARP_TEST_DYNAMODB_ENDPOINT /
 * WARP_TEST_S3_ENDPOINT (then nothing is started or stopped).
 */
export interface TestServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startDynamo(): Promise<TestServer> {
  const given = process.env.WARP_TEST_DYNAMODB_ENDPOINT;
  if (given) return { endpoint: given, stop: async () => {} };
  let mod: { startDynamoDbLocal(): Promise<TestServer> };
  try {
    mod = await import("../../../e2e/support/dynamodb-local.js");
  } catch (err) {
    throw new Error(
      `DynamoDB Local harness e2e/support/dynamodb-local.ts could not be loaded (${String(err)}); it needs Java 17 and the npm package amplify-dynamodb-simulator`,
      { cause: err },
    );
  }
  return mod.startDynamoDbLocal();
}

export async function startS3(): Promise<TestServer> {
  const given = process.env.WARP_TEST_S3_ENDPOINT;
  if (given) return { endpoint: given, stop: async () => {} };
  let mod: { startS3Server(): Promise<TestServer> };
  try {
    mod = await import("../../../e2e/support/s3-server.js");
  } catch (err) {
    throw new Error(
      `S3 server harness e2e/support/s3-server.ts could not be loaded (${String(err)}); it needs python3 and moto[server] from PyPI`,
      { cause: err },
    );
  }
  return mod.startS3Server();
}
