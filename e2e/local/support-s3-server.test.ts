/**
 * The S3 API server harness, each kind (moto's server from PyPI for the tests, the Versity S3 Gateway
 * from the Go module proxy for the benchmark), with the S3 features the object store relies on:
 * ranged GETs, ListObjectsV2 pagination, conditional requests and DeleteObjects.
 */
import assert from "node:assert/strict";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { S3_SERVER_KINDS, startS3Server } from "../support/s3-server.js";
import type { S3Server } from "../support/s3-server.js";

function httpStatus(err: unknown): number | undefined {
  return err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
}

for (const kind of S3_SERVER_KINDS)
  describe(`support: S3 API server (${kind})`, function () {
    this.timeout(300_000);
    let server: S3Server;
    let s3: S3Client;
    const Bucket = "warp-support-test";

    before(async function () {
      this.timeout(900_000); // the first run creates moto's venv or builds the gateway
      server = await startS3Server({ kind });
      s3 = new S3Client({
        endpoint: server.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "warplocal", secretAccessKey: "warplocal" },
      });
      await s3.send(new CreateBucketCommand({ Bucket }));
    });

    after(async () => {
      s3?.destroy();
      await server?.stop();
    });

    it("puts an object and reads a byte range of it", async () => {
      const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
      await s3.send(new PutObjectCommand({ Bucket, Key: "ranged/a", Body: body }));
      const whole = await s3.send(new GetObjectCommand({ Bucket, Key: "ranged/a" }));
      assert.deepEqual(Buffer.from(await whole.Body!.transformToByteArray()), body);
      const part = await s3.send(new GetObjectCommand({ Bucket, Key: "ranged/a", Range: "bytes=100-199" }));
      assert.equal(part.$metadata.httpStatusCode, 206);
      assert.equal(part.ContentRange, "bytes 100-199/1000");
      assert.deepEqual(Buffer.from(await part.Body!.transformToByteArray()), body.subarray(100, 200));
      const tail = await s3.send(new GetObjectCommand({ Bucket, Key: "ranged/a", Range: "bytes=-10" }));
      assert.deepEqual(Buffer.from(await tail.Body!.transformToByteArray()), body.subarray(990));
    });

    it("pages ListObjectsV2 with MaxKeys and ContinuationToken, under a prefix", async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `list/k${String(i).padStart(3, "0")}`);
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
      await s3.send(new PutObjectCommand({ Bucket, Key: "other/x", Body: "x" }));
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket, Prefix: "list/", MaxKeys: 10, ContinuationToken: token }),
        );
        pages++;
        assert.ok((page.Contents ?? []).length <= 10);
        seen.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        if (page.IsTruncated) assert.ok(token, "a truncated page has a continuation token");
      } while (token);
      assert.equal(pages, 3);
      assert.deepEqual(seen, keys);
      const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "list/", StartAfter: "list/k020" }));
      assert.deepEqual(
        (after.Contents ?? []).map((o) => o.Key),
        keys.slice(21),
      );
    });

    it("honours If-None-Match: * on put (create only)", async () => {
      await s3.send(new PutObjectCommand({ Bucket, Key: "cond/once", Body: "first", IfNoneMatch: "*" }));
      await assert.rejects(
        s3.send(new PutObjectCommand({ Bucket, Key: "cond/once", Body: "second", IfNoneMatch: "*" })),
        (err: unknown) => httpStatus(err) === 412,
      );
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: "cond/once" }));
      assert.equal(await got.Body!.transformToString(), "first");
    });

    it("honours If-Match on put (compare and swap)", async () => {
      const first = await s3.send(new PutObjectCommand({ Bucket, Key: "cond/cas", Body: "v1" }));
      await assert.rejects(
        s3.send(
          new PutObjectCommand({
            Bucket,
            Key: "cond/cas",
            Body: "lost",
            IfMatch: '"0123456789abcdef0123456789abcdef"',
          }),
        ),
        (err: unknown) => httpStatus(err) === 412,
      );
      await s3.send(new PutObjectCommand({ Bucket, Key: "cond/cas", Body: "v2", IfMatch: first.ETag }));
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: "cond/cas" }));
      assert.equal(await got.Body!.transformToString(), "v2");
    });

    it("honours If-Match and If-None-Match on get and head", async () => {
      const put = await s3.send(new PutObjectCommand({ Bucket, Key: "cond/etag", Body: "v1" }));
      assert.ok(put.ETag);
      const ok = await s3.send(new GetObjectCommand({ Bucket, Key: "cond/etag", IfMatch: put.ETag }));
      assert.equal(await ok.Body!.transformToString(), "v1");
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket, Key: "cond/etag", IfMatch: '"0123456789abcdef0123456789abcdef"' })),
        (err: unknown) => httpStatus(err) === 412,
      );
      await assert.rejects(
        s3.send(new HeadObjectCommand({ Bucket, Key: "cond/etag", IfNoneMatch: put.ETag })),
        (err: unknown) => httpStatus(err) === 304,
      );
    });

    it("deletes many objects with DeleteObjects", async () => {
      const keys = ["del/a", "del/b", "del/c"];
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
      const res = await s3.send(
        new DeleteObjectsCommand({ Bucket, Delete: { Objects: [...keys, "del/missing"].map((Key) => ({ Key })) } }),
      );
      assert.deepEqual((res.Deleted ?? []).map((d) => d.Key).sort(), [...keys, "del/missing"].sort());
      assert.equal((res.Errors ?? []).length, 0);
      const left = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "del/" }));
      assert.equal(left.KeyCount, 0);
    });

    it("returns 404 NoSuchKey for a missing object", async () => {
      await assert.rejects(
        s3.send(new GetObjectCommand({ Bucket, Key: "nope" })),
        (err: unknown) => httpStatus(err) === 404,
      );
    });
  });
