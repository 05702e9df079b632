/**
 * The ObjectStore contract on a real S3 API server on loopback (moto's server, started by
 * e2e/support/s3-server.ts, or an already running one named by WARP_TEST_S3_ENDPOINT).
 */
import assert from "node:assert/strict";
import { createHash, createHmac, randomBytes, type Hash, type Hmac } from "node:crypto";
import { crc32 } from "node:zlib";
import { Readable } from "node:stream";
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { storeUsage } from "../../src/store/usage.js";
import { openS3ObjectStore, readExactly, S3ObjectStore } from "../../src/store/s3/index.js";
import { runObjectStoreContract } from "./contract.js";
import { startS3 } from "./servers.js";
import { startS3Server, type S3Server } from "../../../e2e/support/s3-server.js";

const REGION = "us-east-1";
let endpoint = "";
let stopServer: (() => Promise<void>) | null = null;
let counter = 0;

function client(): S3Client {
  return new S3Client({
    region: REGION,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: "warplocal", secretAccessKey: "warplocal" },
  });
}

async function emptyAndDropBucket(c: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await c.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await c.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function newBucket(c: S3Client): Promise<string> {
  const bucket = `warp-test-${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;
  await c.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

describe("s3 store", function () {
  this.timeout(120_000);

  before(async function () {
    this.timeout(180_000);
    const server = await startS3();
    endpoint = server.endpoint;
    stopServer = () => server.stop();
  });

  after(async function () {
    await stopServer?.();
  });

  for (const prefix of ["", "cluster-a/"]) {
    runObjectStoreContract(`s3${prefix ? ` with prefix ${prefix}` : ""}`, async () => {
      const c = client();
      const bucket = await newBucket(c);
      // A stranger's object beside the prefix must never show up.
      if (prefix) await c.send(new PutObjectCommand({ Bucket: bucket, Key: "other/p/x", Body: "not ours" }));
      const store = openS3ObjectStore(
        { kind: "s3", bucket, prefix, forcePathStyle: true },
        { client: c, listPageSize: 100 },
      );
      return {
        store,
        cleanup: async () => {
          await emptyAndDropBucket(c, bucket);
          c.destroy();
        },
      };
    });
  }

  describe("S3 specifics", function () {
    it("keys live under the prefix and requests are counted by type", async function () {
      const c = client();
      const bucket = await newBucket(c);
      try {
        const store = new S3ObjectStore(bucket, "pre/", c);
        const before = storeUsage.snapshot().s3Requests;
        await store.put("a/1", Buffer.from("one"));
        await store.get("a/1", { offset: 1, length: 1 });
        for await (const _ of store.list("a/")) void _;
        await store.delete(["a/1"]);
        const after = storeUsage.snapshot().s3Requests;
        assert.deepEqual(
          {
            put: after.put - before.put,
            get: after.get - before.get,
            list: after.list - before.list,
            delete: after.delete - before.delete,
          },
          { put: 1, get: 1, list: 1, delete: 1 },
        );
        await store.put("b", Buffer.from("two"));
        const raw = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
        assert.deepEqual(
          raw.Contents?.map((o) => o.Key),
          ["pre/b"],
        );
      } finally {
        await emptyAndDropBucket(c, bucket);
        c.destroy();
      }
    });

    it("deletes more than one DeleteObjects batch", async function () {
      this.timeout(300_000);
      const c = client();
      const bucket = await newBucket(c);
      try {
        const store = new S3ObjectStore(bucket, "", c);
        const keys = Array.from({ length: 1203 }, (_, i) => `k/${String(i).padStart(5, "0")}`);
        for (let i = 0; i < keys.length; i += 100)
          await Promise.all(keys.slice(i, i + 100).map((k) => store.put(k, Buffer.from("x"))));
        const before = storeUsage.s3Requests.delete;
        await store.delete(keys);
        assert.equal(storeUsage.s3Requests.delete - before, 2);
        const left: string[] = [];
        for await (const o of store.list("")) left.push(o.key);
        assert.deepEqual(left, []);
      } finally {
        await emptyAndDropBucket(c, bucket);
        c.destroy();
      }
    });

    it("reads a large object and ranges of it chunk by chunk, byte for byte", async function () {
      const c = client();
      const bucket = await newBucket(c);
      try {
        const store = new S3ObjectStore(bucket, "", c);
        const data = randomBytes(9 * 1024 * 1024 + 7);
        await store.put("big", data);
        assert.ok((await store.get("big")).equals(data));
        const range = { offset: 1_000_003, length: 5 * 1024 * 1024 };
        assert.ok((await store.get("big", range)).equals(data.subarray(range.offset, range.offset + range.length)));
      } finally {
        await emptyAndDropBucket(c, bucket);
        c.destroy();
      }
    });
  });

  describe("against a server that verifies both digests (versitygw; moto checks neither)", function () {
    let verifying: S3Server | null = null;
    before(async function () {
      this.timeout(600_000);
      verifying = await startS3Server({ kind: "versitygw" });
    });
    after(async function () {
      await verifying?.stop();
    });

    it("puts a body with its digests computed beforehand: the client hashes none of it", async function () {
      // The client's SHA-256 (what its signer hashes the payload with) counts what it is given.
      let hashed = 0;
      class CountingSha256 {
        private readonly hash: Hash | Hmac;
        constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
          const key =
            secret === undefined || typeof secret === "string"
              ? secret
              : secret instanceof ArrayBuffer
                ? new Uint8Array(secret)
                : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
          this.hash = key === undefined ? createHash("sha256") : createHmac("sha256", key);
        }
        update(data: Uint8Array | string): void {
          hashed += typeof data === "string" ? Buffer.byteLength(data) : data.byteLength;
          this.hash.update(data);
        }
        async digest(): Promise<Uint8Array> {
          return this.hash.digest();
        }
      }
      const c = new S3Client({
        region: REGION,
        endpoint: verifying!.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: "warplocal", secretAccessKey: "warplocal" },
        sha256: CountingSha256,
      });
      // The headers of each request as signed and sent.
      const sent: Record<string, string>[] = [];
      c.middlewareStack.add(
        (next) => async (args) => {
          sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
          return next(args);
        },
        { step: "deserialize", name: "testSentHeaders" },
      );
      const bucket = await newBucket(c);
      try {
        const store = new S3ObjectStore(bucket, "", c);
        const data = randomBytes(4 * 1024 * 1024 + 3);
        hashed = 0;
        sent.length = 0;
        await store.put("big", data);
        assert.ok(hashed < 64 * 1024, `the client hashed ${hashed} bytes of a ${data.length}-byte put`);
        const crc = Buffer.alloc(4);
        crc.writeUInt32BE(crc32(data));
        assert.equal(sent.length, 1);
        assert.equal(sent[0]!["x-amz-content-sha256"], createHash("sha256").update(data).digest("hex"));
        assert.equal(sent[0]!["x-amz-checksum-crc32"], crc.toString("base64"));
        assert.ok(sent[0]!.authorization?.includes("x-amz-content-sha256"), "the payload hash is signed");
        assert.ok((await store.get("big")).equals(data));
        // The server checks what it is given: a wrong checksum is refused.
        await assert.rejects(
          c.send(new PutObjectCommand({ Bucket: bucket, Key: "bad", Body: data, ChecksumCRC32: "AAAAAA==" })),
          /CRC32 you specified did not match/,
        );
      } finally {
        await emptyAndDropBucket(c, bucket);
        c.destroy();
      }
    });
  });

  it("refuses a body shorter or longer than its Content-Length instead of returning it", async () => {
    const chunks = [Buffer.from("abc"), Buffer.from("defg"), Buffer.from("h")];
    assert.equal((await readExactly(Readable.from(chunks), 8, "k")).toString(), "abcdefgh");
    await assert.rejects(readExactly(Readable.from(chunks), 9, "k"), /k: 8 bytes received of its Content-Length of 9/);
    await assert.rejects(readExactly(Readable.from(chunks), 5, "k"), /k: more bytes than its Content-Length of 5/);
    assert.equal((await readExactly(Readable.from([]), 0, "empty")).length, 0);
  });
});
