/**
 * ApiVersions (18), v0–4. Lists every registered handler's range (derived from the registry). v3+ is
 * flexible on the request side, but the response header is always v0 (connection.ts). An unknown
 * version is answered by the connection in the v0 schema with UNSUPPORTED_VERSION. No feature flags.
 */
import { ApiKey, ErrorCode } from "../protocol/index.js";
import { supportedApiVersions } from "../server/connection.js";
import { defineHandler } from "../server/handler.js";

defineHandler({ key: ApiKey.ApiVersions, min: 0, max: 4 }, async () => ({
  errorCode: ErrorCode.NONE,
  apiKeys: supportedApiVersions(),
  throttleTimeMs: 0,
}));
