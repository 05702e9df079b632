/**
 * Bucket URLs: the one place that parses and prints store locations. Used by the agent's flags and
 * by the operator when it builds agent arguments from a WarpAgent spec.
 *
 *   mem://<name>                                  in-memory store (tests, single agent)
 *   file://<path>                                 local directory (embedded default, single agent)
 *   dynamodb://<region>/<files_table><><chunks_table>[?endpoint=URL]
 *   s3://<bucket>[?region=R&endpoint=URL&s3ForcePathStyle=true&prefix=P]
 */

export type BucketUrl = MemBucketUrl | FileBucketUrl | DynamoBucketUrl | S3BucketUrl;

export interface MemBucketUrl {
  readonly kind: "mem";
  readonly name: string;
}
export interface FileBucketUrl {
  readonly kind: "file";
  /** Path as given; relative paths are resolved against the working directory by the store. */
  readonly path: string;
}
export interface DynamoBucketUrl {
  readonly kind: "dynamodb";
  readonly region: string;
  readonly filesTable: string;
  readonly chunksTable: string;
  readonly endpoint?: string;
}
export interface S3BucketUrl {
  readonly kind: "s3";
  readonly bucket: string;
  readonly region?: string;
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  /** Key prefix, normalised to end with "/" when not empty. */
  readonly prefix: string;
}

export class BucketUrlError extends Error {
  constructor(
    readonly url: string,
    readonly part: string,
    detail: string,
  ) {
    super(`invalid bucket URL ${JSON.stringify(redact(url))}: ${part}: ${detail}`);
    this.name = "BucketUrlError";
  }
}

/** DynamoDB table names: 3-255 characters of [a-zA-Z0-9_.-]. */
export const TABLE_NAME_PATTERN = /^[a-zA-Z0-9_.-]{3,255}$/;
/** S3 bucket names (general purpose): 3-63 lowercase letters, digits, dots, hyphens. */
export const BUCKET_NAME_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION_PATTERN = /^[a-z]{2}(-[a-z0-9]+)+-\d+$|^local$/;
const TABLE_SEPARATOR = "<>";

function parseQuery(url: string, query: string, allowed: readonly string[]): Map<string, string> {
  const params = new Map<string, string>();
  if (query === "") return params;
  for (const [key, value] of new URLSearchParams(query)) {
    if (!allowed.includes(key)) {
      throw new BucketUrlError(url, `query parameter "${key}"`, `unknown; expected one of ${allowed.join(", ")}`);
    }
    if (params.has(key)) throw new BucketUrlError(url, `query parameter "${key}"`, "given twice");
    params.set(key, value);
  }
  return params;
}

function checkEndpoint(url: string, endpoint: string | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(endpoint);
  } catch {
    throw new BucketUrlError(url, "endpoint", `${JSON.stringify(endpoint)} is not an absolute URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new BucketUrlError(url, "endpoint", `scheme must be http or https, got ${parsed.protocol}`);
  }
  return endpoint;
}

function checkRegion(url: string, region: string): string {
  if (!REGION_PATTERN.test(region)) {
    throw new BucketUrlError(url, "region", `${JSON.stringify(region)} is not an AWS region name such as us-east-1`);
  }
  return region;
}

function checkTable(url: string, part: string, name: string): string {
  if (!TABLE_NAME_PATTERN.test(name)) {
    throw new BucketUrlError(
      url,
      part,
      `${JSON.stringify(name)} is not a valid DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)`,
    );
  }
  return name;
}

export function parseBucketUrl(url: string): BucketUrl {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd <= 0) {
    throw new BucketUrlError(url, "scheme", "missing; expected mem://, file://, dynamodb:// or s3://");
  }
  const scheme = url.slice(0, schemeEnd);
  const rest = url.slice(schemeEnd + 3);
  const q = rest.indexOf("?");
  const body = q >= 0 ? rest.slice(0, q) : rest;
  const query = q >= 0 ? rest.slice(q + 1) : "";
  switch (scheme) {
    case "mem": {
      parseQuery(url, query, []);
      if (!/^[A-Za-z0-9_.-]+$/.test(body))
        throw new BucketUrlError(url, "name", "expected mem://<name> with letters, digits, _ . -");
      return { kind: "mem", name: body };
    }
    case "file": {
      parseQuery(url, query, []);
      if (body === "")
        throw new BucketUrlError(url, "path", "empty; expected file:///absolute/path or file://./relative");
      return { kind: "file", path: decodeURIComponent(body) };
    }
    case "dynamodb": {
      const params = parseQuery(url, query, ["endpoint"]);
      const slash = body.indexOf("/");
      if (slash < 0)
        throw new BucketUrlError(
          url,
          "path",
          `expected dynamodb://<region>/<files_table>${TABLE_SEPARATOR}<chunks_table>`,
        );
      const region = checkRegion(url, body.slice(0, slash));
      const tables = decodeURIComponent(body.slice(slash + 1)).split(TABLE_SEPARATOR);
      if (tables.length !== 2) {
        throw new BucketUrlError(
          url,
          "tables",
          `expected two table names joined by "${TABLE_SEPARATOR}", got ${JSON.stringify(body.slice(slash + 1))}`,
        );
      }
      const filesTable = checkTable(url, "files table", tables[0]!);
      const chunksTable = checkTable(url, "chunks table", tables[1]!);
      if (filesTable === chunksTable) throw new BucketUrlError(url, "tables", "files and chunks tables must differ");
      const endpoint = checkEndpoint(url, params.get("endpoint"));
      return { kind: "dynamodb", region, filesTable, chunksTable, ...(endpoint ? { endpoint } : {}) };
    }
    case "s3": {
      const params = parseQuery(url, query, ["region", "endpoint", "s3ForcePathStyle", "prefix"]);
      if (!BUCKET_NAME_PATTERN.test(body)) {
        throw new BucketUrlError(
          url,
          "bucket",
          `${JSON.stringify(body)} is not a valid S3 bucket name (3-63 of a-z 0-9 . -)`,
        );
      }
      const region = params.get("region");
      if (region !== undefined) checkRegion(url, region);
      const endpoint = checkEndpoint(url, params.get("endpoint"));
      const style = params.get("s3ForcePathStyle") ?? "false";
      if (style !== "true" && style !== "false")
        throw new BucketUrlError(url, "s3ForcePathStyle", `expected true or false, got ${JSON.stringify(style)}`);
      let prefix = params.get("prefix") ?? "";
      if (prefix.startsWith("/")) throw new BucketUrlError(url, "prefix", "must not start with /");
      if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
      return {
        kind: "s3",
        bucket: body,
        ...(region !== undefined ? { region } : {}),
        ...(endpoint ? { endpoint } : {}),
        forcePathStyle: style === "true",
        prefix,
      };
    }
    default:
      throw new BucketUrlError(
        url,
        "scheme",
        `unknown scheme ${JSON.stringify(scheme)}; expected mem, file, dynamodb or s3`,
      );
  }
}

/** The canonical text of a bucket URL (round-trips through parseBucketUrl). */
export function formatBucketUrl(b: BucketUrl): string {
  switch (b.kind) {
    case "mem":
      return `mem://${b.name}`;
    case "file":
      return `file://${b.path}`;
    case "dynamodb": {
      const q = b.endpoint ? `?endpoint=${encodeURIComponent(b.endpoint)}` : "";
      return `dynamodb://${b.region}/${b.filesTable}${TABLE_SEPARATOR}${b.chunksTable}${q}`;
    }
    case "s3": {
      const params = new URLSearchParams();
      if (b.region) params.set("region", b.region);
      if (b.endpoint) params.set("endpoint", b.endpoint);
      if (b.forcePathStyle) params.set("s3ForcePathStyle", "true");
      if (b.prefix) params.set("prefix", b.prefix);
      const q = params.toString();
      return `s3://${b.bucket}${q ? `?${q}` : ""}`;
    }
  }
}

/** Where requests to a store go, and the environment variable that said so (when one did). */
export interface StoreEndpoint {
  readonly url: string;
  readonly variable?: string;
}

/**
 * Where the AWS SDK sends a DynamoDB bucket URL's requests, for messages: its endpoint=, else the
 * environment's AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL (unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), else the region's public endpoint.
 */
export function dynamoEndpoint(
  b: DynamoBucketUrl,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StoreEndpoint {
  if (b.endpoint) return { url: b.endpoint };
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() !== "true") {
    for (const variable of ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL"]) {
      const configured = env[variable];
      if (configured) return { url: configured, variable };
    }
  }
  const domain = b.region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  return { url: `https://dynamodb.${b.region}.${domain}` };
}

/** Removes anything that looks like credentials (user:password@) before a URL is printed. */
export function redact(url: string): string {
  return url.replace(/\/\/[^/@?]*@/, "//***@");
}
