import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseBucketUrl } from "../../../common/bucket-url.js";
import { dropMemStores } from "../../src/store/mem.js";
import { checkStoreConfig, openStores, StoreConfigError } from "../../src/store/open/open-stores.js";

const url = parseBucketUrl;

describe("openStores", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "warp-open-"));
  });
  afterEach(async function () {
    dropMemStores("open-a");
    dropMemStores("open-b");
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("-bucketURL mem:// holds everything in one shared store", async function () {
    const stores = await openStores({ bucketUrl: url("mem://open-a"), createTables: false });
    assert.equal(stores.ingestion, stores.compaction);
    assert.equal(stores.metadata.kind, "mem");
    await stores.ingestion.put("k", Buffer.from("v"));
    const again = await openStores({ bucketUrl: url("mem://open-a"), createTables: false });
    assert.deepEqual(await again.compaction.get("k"), Buffer.from("v"));
    await stores.close();
  });

  it("-bucketURL file:// holds everything in the directory", async function () {
    const stores = await openStores({ bucketUrl: url(`file://${dir}`), createTables: false });
    try {
      assert.equal(stores.ingestion.kind, "file");
      assert.equal(stores.metadata.kind, "file");
      assert.equal(await stores.metadata.append(1n, Buffer.from("e")), true);
    } finally {
      await stores.close();
    }
    await fs.stat(path.join(dir, "log"));
  });

  it("ingestion file:// + compaction file:// in another directory: metadata lives with ingestion", async function () {
    const ingDir = path.join(dir, "ing");
    const compDir = path.join(dir, "comp");
    const stores = await openStores({
      ingestionBucketUrl: url(`file://${ingDir}`),
      compactionBucketUrl: url(`file://${compDir}`),
      createTables: false,
    });
    try {
      assert.notEqual(stores.ingestion, stores.compaction);
      await stores.compaction.put("compacted/1", Buffer.from("c"));
      await stores.ingestion.put("ingest/1", Buffer.from("i"));
      assert.equal(await stores.metadata.append(1n, Buffer.from("e")), true);
      await fs.stat(path.join(compDir, "objects"));
      await fs.stat(path.join(ingDir, "log"));
      await assert.rejects(fs.stat(path.join(compDir, "log")), /ENOENT/);
    } finally {
      await stores.close();
    }
    // Both directory locks are released.
    const again = await openStores({
      ingestionBucketUrl: url(`file://${ingDir}`),
      compactionBucketUrl: url(`file://${compDir}`),
      createTables: false,
    });
    await again.close();
  });

  it("the same location for ingestion and compaction is opened once", async function () {
    const stores = await openStores({
      ingestionBucketUrl: url(`file://${dir}`),
      compactionBucketUrl: url(`file://${dir}/.`),
      createTables: false,
    });
    try {
      assert.equal(stores.ingestion, stores.compaction);
    } finally {
      await stores.close();
    }
  });

  it("mem ingestion + mem compaction under different names", async function () {
    const stores = await openStores({
      ingestionBucketUrl: url("mem://open-a"),
      compactionBucketUrl: url("mem://open-b"),
      createTables: false,
    });
    await stores.compaction.put("x", Buffer.from("1"));
    await assert.rejects(stores.ingestion.get("x"));
    await stores.close();
  });

  const bad: Array<[string, Parameters<typeof checkStoreConfig>[0], RegExp]> = [
    ["nothing configured", { createTables: true }, /no store configured/],
    ["both forms", { bucketUrl: url("mem://a"), ingestionBucketUrl: url("mem://b"), createTables: true }, /not both/],
    [
      "s3 alone",
      { bucketUrl: url("s3://bucket-a"), createTables: true },
      /cannot hold the metadata log alone.*-ingestionBucketURL dynamodb:\/\//,
    ],
    [
      "compaction without ingestion",
      { compactionBucketUrl: url("s3://bucket-a"), createTables: true },
      /needs -ingestionBucketURL/,
    ],
    [
      "ingestion without compaction",
      { ingestionBucketUrl: url("dynamodb://us-east-1/aaa<>bbb"), createTables: true },
      /needs -compactionBucketURL/,
    ],
    [
      "s3 as ingestion",
      { ingestionBucketUrl: url("s3://bucket-a"), compactionBucketUrl: url("s3://bucket-b"), createTables: true },
      /s3:\/\/ belongs in -compactionBucketURL/,
    ],
    [
      "dynamodb as compaction",
      {
        ingestionBucketUrl: url("dynamodb://us-east-1/aaa<>bbb"),
        compactionBucketUrl: url("dynamodb://us-east-1/ccc<>ddd"),
        createTables: true,
      },
      /dynamodb:\/\/ belongs in -ingestionBucketURL/,
    ],
  ];
  for (const [name, config, message] of bad) {
    it(`refuses ${name} with a message saying what to change`, async function () {
      assert.throws(
        () => checkStoreConfig(config),
        (err: unknown) => err instanceof StoreConfigError && message.test(err.message),
      );
      await assert.rejects(openStores(config), StoreConfigError);
    });
  }
});
