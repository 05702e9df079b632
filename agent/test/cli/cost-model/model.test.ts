/**
 * The cost model reproduces the reference table (docs/cost.md) within 5 % with that table's assumptions,
 * and this project's design is computed beside it (TTL expiry instead of deletes, per-file and log-entry
 * overheads).
 */
import assert from "node:assert/strict";
import {
  compactionPassMs,
  costTable,
  logEntryWru,
  fileCommitEntriesPerSecond,
  DEFAULT_WARP_DESIGN,
  DEFAULT_WORKLOAD,
  idleCluster,
  ingestionFileUnits,
  REFERENCE_STORES,
  REFERENCE_TABLE,
  REFERENCE_THROUGHPUTS,
  referenceDynamoOnDemand,
  referenceS3,
  warpFilesPerSecond,
  type CostRow,
  type WarpDesign,
} from "../../../../cli/cost-model/model.js";
import { DEFAULT_PRICES } from "../../../../cli/cost-model/prices.js";

const defaultTable = (): CostRow[] =>
  costTable({
    throughputs: REFERENCE_THROUGHPUTS,
    workload: DEFAULT_WORKLOAD,
    design: DEFAULT_WARP_DESIGN,
    prices: DEFAULT_PRICES,
  });

describe("cost model", () => {
  describe("the reference table", () => {
    for (const store of REFERENCE_STORES) {
      for (const bps of REFERENCE_THROUGHPUTS) {
        it(`${store} at ${bps / 1e6} MB/s is within 5% of the reference table's $${REFERENCE_TABLE[store][bps]}`, () => {
          const row = defaultTable().find((r) => r.store === store && r.bytesPerSecond === bps);
          assert.ok(row, "row present");
          const published = REFERENCE_TABLE[store][bps]!;
          assert.equal(row.seedUsd, published);
          assert.ok(Math.abs(row.monthlyUsd / published - 1) <= 0.05, `${row.monthlyUsd} vs ${published}`);
        });
      }
    }

    it("every line states its assumption and the lines add up to the row", () => {
      for (const row of defaultTable()) {
        assert.ok(row.lines.length > 0);
        for (const l of row.lines) assert.ok(l.assumption.length > 10, `${row.store}: ${l.service}`);
        const sum = row.lines.reduce((s, l) => s + l.monthlyUsd, 0);
        assert.ok(Math.abs(sum - row.monthlyUsd) < 0.05, `${row.store}: ${sum} vs ${row.monthlyUsd}`);
      }
    });

    it("shows the reference table's figure only for that table's own workload", () => {
      const rows = costTable({
        throughputs: [1e6],
        workload: { ...DEFAULT_WORKLOAD, batchTimeoutMs: 50 },
        design: DEFAULT_WARP_DESIGN,
        prices: DEFAULT_PRICES,
      });
      assert.ok(rows.every((r) => r.seedUsd === undefined));
    });

    it("S3 is flat in throughput and grows with the PUT rate (shorter batchTimeout)", () => {
      const w = { ...DEFAULT_WORKLOAD, bytesPerSecond: 1e6 };
      const at250 = referenceS3(w, DEFAULT_PRICES).monthlyUsd;
      assert.equal(referenceS3({ ...w, bytesPerSecond: 1e7 }, DEFAULT_PRICES).monthlyUsd, at250);
      assert.ok(Math.abs(referenceS3({ ...w, batchTimeoutMs: 50 }, DEFAULT_PRICES).monthlyUsd - 5 * at250) < 0.01);
    });

    it("DynamoDB on-demand scales with bytes and with the WRU price", () => {
      const w = { ...DEFAULT_WORKLOAD, bytesPerSecond: 1e6 };
      const base = referenceDynamoOnDemand(w, DEFAULT_PRICES).monthlyUsd;
      assert.ok(
        Math.abs(referenceDynamoOnDemand({ ...w, bytesPerSecond: 2e6 }, DEFAULT_PRICES).monthlyUsd - 2 * base) < 0.05,
      );
      assert.ok(
        Math.abs(referenceDynamoOnDemand(w, { ...DEFAULT_PRICES, ddbWruPerMillion: 1.25 }).monthlyUsd - 2 * base) <
          0.05,
      );
    });
  });

  describe("this project's design", () => {
    it("bills no deletes (TTL) and beats the reference design's on-demand figure at 1 and 10 MB/s", () => {
      const rows = defaultTable();
      for (const bps of [1e6, 1e7]) {
        const ours = rows.find((r) => r.store === "warp-dynamodb-on-demand" && r.bytesPerSecond === bps)!;
        const reference = rows.find((r) => r.store === "dynamodb-on-demand" && r.bytesPerSecond === bps)!;
        assert.ok(ours.monthlyUsd < reference.monthlyUsd, `${ours.monthlyUsd} < ${reference.monthlyUsd}`);
        assert.equal(ours.lines.find((l) => l.service === "DynamoDB TTL expiry")?.monthlyUsd, 0);
        assert.equal(ours.design, "warp");
        assert.equal(ours.seedUsd, undefined);
      }
    });

    it("meets the reference design's on-demand figure at 0.1 MB/s: log entries expire, their trims write nothing, their storage is counted", () => {
      const table = (design: Partial<WarpDesign>) =>
        costTable({
          throughputs: [1e5],
          workload: DEFAULT_WORKLOAD,
          design: { ...DEFAULT_WARP_DESIGN, ...design },
          prices: DEFAULT_PRICES,
        });
      const rows = table({});
      const ours = rows.find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!;
      const reference = rows.find((r) => r.store === "dynamodb-on-demand")!;
      assert.ok(ours.monthlyUsd <= reference.monthlyUsd, `${ours.monthlyUsd} <= ${reference.monthlyUsd}`);
      assert.equal(DEFAULT_WARP_DESIGN.logEntryTtlSeconds, 7 * 24 * 3600, "the agents' -metadataLogEntryTTL");
      // 4 window entries/s and a compaction pass every 30 s: only the snapshots write (1 WRU per 2,000).
      const entries = 4 + 1 / 30;
      const trims = ours.lines.find((l) => /metadata snapshots/.test(l.service))!;
      assert.match(
        trims.assumption,
        /^0\.002\d* WRU\/s .* left to expire through TTL 7 days after it was written \(0 WRU\)/,
      );
      const stored = ours.lines.find((l) => l.service === "DynamoDB storage (metadata log)")!;
      const gb = (entries * 1000 * (7 * 24 + 48) * 3600) / 1024 ** 3;
      assert.ok(Math.abs(stored.quantity - gb) < 0.001, `${stored.quantity} GB-month vs ${gb}`);
      assert.ok(Math.abs(stored.monthlyUsd - gb * 0.25) < 0.001);
      // With tombstones (agents before level 13, or -metadataLogEntryTTL 0): a write unit per entry more,
      // and nothing stored.
      const tombstones = table({ logEntryTtlSeconds: 0 }).find(
        (r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp",
      )!;
      assert.equal(
        tombstones.lines.find((l) => l.service === "DynamoDB storage (metadata log)"),
        undefined,
      );
      const extra = ((entries * 0.625) / 1e6) * 720 * 3600 - stored.monthlyUsd;
      assert.ok(
        Math.abs(tombstones.monthlyUsd - ours.monthlyUsd - extra) < 0.01,
        `${tombstones.monthlyUsd} vs ${ours.monthlyUsd}`,
      );
    });

    it("counts ingestion files inline up to 64 KiB, then 350 KiB chunks plus a descriptor", () => {
      const d = { ...DEFAULT_WARP_DESIGN, itemOverheadBytes: 0 };
      assert.equal(ingestionFileUnits(1024, d, 1024), 1);
      assert.equal(ingestionFileUnits(1025, d, 1024), 2);
      assert.equal(ingestionFileUnits(64 * 1024, d, 1024), 64);
      // 400 KiB: one full 350 KiB chunk + a 50 KiB chunk + a descriptor of 0 payload bytes (0 units)
      assert.equal(ingestionFileUnits(400 * 1024, d, 1024), 400);
      assert.equal(ingestionFileUnits(400 * 1024, { ...d, itemOverheadBytes: 100 }, 1024), 351 + 51 + 1);
    });

    it("-sealMode window (the DynamoDB default) writes a file per agent per window as before eager sealing existed, and costs no more", () => {
      // The figures of `warp cost` before -sealMode: 1 MB/s, 3 agents, 1:4, on-demand and provisioned. The
      // fixed costs fell since (watches, the leases' pace, compaction that waits): no more than then.
      const before = { 250: [499.42, 156.7], 50: [670.49, 206.12] } as const;
      for (const [timeout, [onDemand, provisioned]] of Object.entries(before)) {
        const w = { ...DEFAULT_WORKLOAD, bytesPerSecond: 1e6, batchTimeoutMs: Number(timeout) };
        assert.equal(warpFilesPerSecond(w, DEFAULT_WARP_DESIGN), (3 * 1000) / Number(timeout));
        // One log entry per file, as then (no windows gathered by a sequencer).
        const rows = costTable({
          throughputs: [1e6],
          workload: { ...DEFAULT_WORKLOAD, batchTimeoutMs: Number(timeout) },
          design: { ...DEFAULT_WARP_DESIGN, windowAlign: false },
          prices: DEFAULT_PRICES,
        });
        // The metadata snapshots and log trims were not counted then: the rest is compared.
        const usd = (store: string) =>
          rows
            .find((r) => r.store === store && r.design === "warp")!
            .lines.filter((l) => !/metadata snapshots/.test(l.service))
            .reduce((t, l) => t + l.monthlyUsd, 0);
        assert.equal(DEFAULT_WARP_DESIGN.sealMode, "window");
        assert.ok(usd("warp-dynamodb-on-demand") / onDemand <= 1.1, `${timeout} ms on-demand`);
        assert.ok(usd("warp-dynamodb-provisioned") / provisioned <= 1.1, `${timeout} ms provisioned`);
      }
    });

    it("-sealMode eager writes a file each time a write ends, at most one per request, never fewer than window mode", () => {
      const w = { ...DEFAULT_WORKLOAD, bytesPerSecond: 1e6 };
      const eager: WarpDesign = { ...DEFAULT_WARP_DESIGN, sealMode: "eager", writeLatencyMs: 10 };
      assert.equal(warpFilesPerSecond(w, DEFAULT_WARP_DESIGN), 12, "3 agents × one per 250 ms");
      assert.equal(warpFilesPerSecond(w, eager), 300, "3 agents × one per 10 ms write");
      assert.equal(
        warpFilesPerSecond(w, { ...eager, writeLatencyMs: 1000 }),
        12,
        "slow writes: the window still seals",
      );
      // No more files than produce requests: 1 MB/s in 16 KiB requests is 61 requests/s.
      assert.equal(warpFilesPerSecond(w, { ...eager, requestBytes: 16_384 }), 1e6 / 16_384);
      assert.equal(warpFilesPerSecond({ ...w, bytesPerSecond: 1e5 }, eager), 1e5 / 1024, "0.1 MB/s: one per request");
      assert.equal(
        warpFilesPerSecond({ ...w, bytesPerSecond: 1e4 }, eager),
        12,
        "few requests: as many files as the window",
      );
      const onDemand = (design: WarpDesign) =>
        costTable({ throughputs: [1e6], workload: DEFAULT_WORKLOAD, design, prices: DEFAULT_PRICES }).find(
          (r) => r.store === "warp-dynamodb-on-demand",
        )!;
      const window = onDemand(DEFAULT_WARP_DESIGN);
      const eagerRow = onDemand(eager);
      assert.ok(eagerRow.monthlyUsd > 2 * window.monthlyUsd, `${eagerRow.monthlyUsd} vs ${window.monthlyUsd}`);
      assert.match(eagerRow.lines[0]!.assumption, /300 files\/s .*-sealMode eager/);
    });

    it("uses measured rates when given, as a separate row", () => {
      const rows = costTable({
        throughputs: [1e6],
        workload: DEFAULT_WORKLOAD,
        design: DEFAULT_WARP_DESIGN,
        prices: DEFAULT_PRICES,
        measured: { wruPerMB: 1000, rruPerMB: 0, s3PutPerMB: 0, s3GetPerMB: 0, source: "test" },
      });
      const m = rows.find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp-measured")!;
      const wru = m.lines.find((l) => l.service === "DynamoDB writes (WRU)")!;
      // 1 MB/s ÷ 4 = 0.25 MB/s stored × 1000 WRU/MB × 2,592,000 s
      assert.equal(wru.quantity, 0.25 * 1000 * 720 * 3600);
      assert.match(wru.assumption, /measured: test/);
      // A measured run's units include its snapshots and trims: no line of their own.
      assert.equal(
        m.lines.some((l) => /metadata snapshots/.test(l.service)),
        false,
      );
    });

    it("counts metadata snapshots kept in DynamoDB (written, then deleted) and log trims, growing with the state and the entry rate", () => {
      // One log entry per file (windows not gathered), each trimmed by a tombstone (no TTL: agents before
      // level 13), as when these figures were first checked.
      const snapshotLine = (design: Partial<WarpDesign>, bytesPerSecond = 1e6) =>
        costTable({
          throughputs: [bytesPerSecond],
          workload: DEFAULT_WORKLOAD,
          // A compaction pass every 2 s (0.5 entries/s), as when these figures were first checked.
          design: {
            ...DEFAULT_WARP_DESIGN,
            windowAlign: false,
            snapshotsInS3: false,
            compactionMinBytes: 0,
            logEntryTtlSeconds: 0,
            ...design,
          },
          prices: DEFAULT_PRICES,
        })
          .find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!
          .lines.find((l) => /metadata snapshots/.test(l.service))!;
      const base = snapshotLine({});
      // 12 files/s + 0.5 compaction entries/s; 1,000 × (60 + 32 × 18) B = 636 KB: 2 chunks of 350 KiB
      // (359 WRU with the item overhead) + 1 (288 WRU) + the descriptor, written and deleted.
      assert.match(
        base.assumption,
        /a 0\.636 MB snapshot .* every 2,000 of 12\.5 log entries\/s, written and later deleted: 1248 WRU each/,
      );
      const seconds = 720 * 3600;
      const wruPerSecond = (12.5 / 2000) * 1248 + 12.5;
      // Trims read the entries again in pages, eventually consistent: 1,000 B ÷ 4 KiB ÷ 2 each.
      const rruPerSecond = (12.5 * 1000) / 4096 / 2;
      assert.ok(Math.abs(base.quantity - (wruPerSecond + rruPerSecond) * seconds) < 1, `${base.quantity}`);
      const usd = ((wruPerSecond * 0.625 + rruPerSecond * 0.125) * seconds) / 1e6;
      assert.ok(Math.abs(base.monthlyUsd - usd) < 0.01, `${base.monthlyUsd} vs ${usd}`);
      // Ten times the state: the snapshot part grows tenfold, the trims stay.
      const large = snapshotLine({ partitions: 10_000 });
      assert.ok(large.monthlyUsd > 3 * base.monthlyUsd);
      // Snapshots half as often: less; a shorter batchTimeout (more entries): more.
      assert.ok(snapshotLine({ snapshotEntries: 4000 }).monthlyUsd < base.monthlyUsd);
      assert.ok(snapshotLine({ sealMode: "eager" }).monthlyUsd > base.monthlyUsd);
    });

    it("counts a snapshot kept as an S3 object as its reference's write unit and two S3 requests, whatever the state", () => {
      const line = (design: Partial<WarpDesign>) =>
        costTable({
          throughputs: [1e5],
          workload: DEFAULT_WORKLOAD,
          // Entries trimmed by tombstones, as when these figures were first checked.
          design: { ...DEFAULT_WARP_DESIGN, compactionMinBytes: 0, logEntryTtlSeconds: 0, ...design },
          prices: DEFAULT_PRICES,
        })
          .find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!
          .lines.find((l) => /metadata snapshots/.test(l.service))!;
      const inS3 = line({});
      assert.match(inS3.assumption, /kept as an S3 object .* 1 WRU each/);
      // 4 window entries/s + 0.5 compaction entries/s: a snapshot every 2,000 of them.
      const entries = 4.5;
      const snapshots = entries / 2000;
      const seconds = 720 * 3600;
      const usd =
        (((snapshots * 1 + entries) * 0.625 + ((entries * 1000) / 4096 / 2) * 0.125) * seconds) / 1e6 +
        ((snapshots * 2 * seconds) / 1000) * 0.005;
      assert.ok(Math.abs(inS3.monthlyUsd - usd) < 0.01, `${inS3.monthlyUsd} vs ${usd}`);
      // In DynamoDB the same snapshots cost more, and grow with the state; as objects they do not.
      assert.ok(line({ snapshotsInS3: false }).monthlyUsd > inS3.monthlyUsd + 4);
      assert.ok(Math.abs(line({ partitions: 100_000 }).monthlyUsd - inS3.monthlyUsd) < 0.01);
    });

    it("prices a log entry whose item passes 1 KB as a pointer and a body: one more unit to write and one more to trim", () => {
      // Trimmed by tombstones (no TTL), as agents before level 13 do; with a TTL trims cost nothing.
      assert.deepEqual(logEntryWru({ ...DEFAULT_WARP_DESIGN, logEntryBytes: 3000 }), { append: 4, trim: 0 });
      const at = (logEntryBytes: number) =>
        logEntryWru({ ...DEFAULT_WARP_DESIGN, logEntryBytes, logEntryTtlSeconds: 0 });
      assert.deepEqual(at(1000), { append: 1, trim: 1 });
      assert.deepEqual(at(1024), { append: 1, trim: 1 });
      // Whole, a 3,000 B entry would cost 3 to write and 3 to tombstone; apart, the pointer and its tombstone
      // add one each and the log's key takes only those.
      assert.deepEqual(at(3000), { append: 4, trim: 4 });
      const usd = (logEntryBytes: number) =>
        costTable({
          throughputs: [1e5],
          workload: DEFAULT_WORKLOAD,
          design: { ...DEFAULT_WARP_DESIGN, logEntryBytes, logEntryTtlSeconds: 0 },
          prices: DEFAULT_PRICES,
        }).find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!.monthlyUsd;
      // About 4.03 entries a second (4 windows and the compaction passes), each 3 + 3 WRU more than one of
      // 1,000 B ($0.625 per million), and read again by its trim: 2,000 B more ÷ 4 KiB ÷ 2 RRU ($0.125).
      const entries = 4 + 1 / 30;
      const perSecond = entries * 6 * 0.625e-6 + ((entries * 2000) / 4096 / 2) * 0.125e-6;
      const extra = usd(3000) - usd(1000);
      assert.ok(Math.abs(extra - perSecond * 720 * 3600) < 0.05, `${extra}`);
    });

    it("compacts when 4 MiB of stored data wait or the oldest is 30 s old, checked every 2 s; 0 bytes: every check", () => {
      const at = (bytesPerSecond: number, design: Partial<WarpDesign> = {}) =>
        compactionPassMs({ ...DEFAULT_WORKLOAD, bytesPerSecond }, { ...DEFAULT_WARP_DESIGN, ...design });
      assert.equal(at(1e5), 30_000, "25 KB/s stored: 30 s before 4 MiB wait");
      assert.equal(at(1e6), 18_000, "250 KB/s: 4 MiB in 16.8 s, at the next check");
      assert.equal(at(1e7), 2000, "2.5 MB/s: every check");
      assert.equal(at(1e5, { compactionMinBytes: 0 }), 2000);
      assert.equal(at(1e5, { compactionMaxWaitMs: 500 }), 2000, "never more often than the checks");
      const usd = (design: Partial<WarpDesign>) =>
        costTable({
          throughputs: [1e5],
          workload: DEFAULT_WORKLOAD,
          design: { ...DEFAULT_WARP_DESIGN, ...design },
          prices: DEFAULT_PRICES,
        }).find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!.monthlyUsd;
      // 0.5 PUT/s and 0.5 log entries/s against 1/30 of each: about $7.5 a month ($8 when each entry's
      // trim wrote a tombstone).
      assert.ok(usd({ compactionMinBytes: 0 }) - usd({}) > 7, `${usd({ compactionMinBytes: 0 })} vs ${usd({})}`);
      const tombstones = { logEntryTtlSeconds: 0 };
      assert.ok(usd({ ...tombstones, compactionMinBytes: 0 }) - usd(tombstones) > 8);
    });

    it("with aligned windows (the default) counts one log entry per window for every agent's files, and less of everything that follows entries", () => {
      const w = { ...DEFAULT_WORKLOAD, bytesPerSecond: 1e5 };
      assert.equal(fileCommitEntriesPerSecond(w, DEFAULT_WARP_DESIGN), 4, "one per 250 ms window");
      assert.equal(fileCommitEntriesPerSecond(w, { ...DEFAULT_WARP_DESIGN, windowAlign: false }), 12, "one per file");
      assert.equal(fileCommitEntriesPerSecond({ ...w, agents: 1 }, DEFAULT_WARP_DESIGN), 4, "one agent: one per file");
      const eager = { ...DEFAULT_WARP_DESIGN, sealMode: "eager" as const };
      assert.equal(fileCommitEntriesPerSecond(w, eager), warpFilesPerSecond(w, eager), "eager: not gathered");
      const usd = (design: WarpDesign, bytesPerSecond: number) =>
        costTable({ throughputs: [bytesPerSecond], workload: DEFAULT_WORKLOAD, design, prices: DEFAULT_PRICES }).find(
          (r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp",
        )!;
      for (const bps of [1e5, 1e6, 1e7]) {
        const gathered = usd(DEFAULT_WARP_DESIGN, bps);
        const perFile = usd({ ...DEFAULT_WARP_DESIGN, windowAlign: false }, bps);
        // 8 entries/s fewer: their writes, 8 WRU/s ($12.96 a month), and their storage until TTL removes
        // them; the snapshots, S3 objects, cost a few cents either way.
        assert.ok(
          perFile.monthlyUsd - gathered.monthlyUsd > 12.96,
          `${bps}: ${gathered.monthlyUsd} vs ${perFile.monthlyUsd}`,
        );
        // Trimmed by tombstones (no TTL): their trims too, 16 WRU/s ($25.92 a month).
        const tombstones = { ...DEFAULT_WARP_DESIGN, logEntryTtlSeconds: 0 };
        assert.ok(usd({ ...tombstones, windowAlign: false }, bps).monthlyUsd - usd(tombstones, bps).monthlyUsd > 25.9);
        assert.match(gathered.lines[0]!.assumption, /4 log entries\/s of 1 WRU/);
        assert.match(
          gathered.lines.find((l) => /metadata snapshots/.test(l.service))!.assumption,
          // The window entries and a compaction pass every 30 s, 18 s or 2 s (compactionPassMs).
          bps === 1e7 ? /of 4\.5 log entries\/s/ : /of 4\.0[36] log entries\/s/,
        );
      }
    });

    it("prices an idle cluster: heartbeats, claims and the leases always; tail polls backed off unless a fetch waits", () => {
      const idle = idleCluster(DEFAULT_WORKLOAD, DEFAULT_WARP_DESIGN, DEFAULT_PRICES);
      const seconds = 720 * 3600;
      // 3 agents: a heartbeat every 2 s (1 WRU), the members listed every second (1 RRU), a claim renewal
      // every 15 s (1 WRU); the compaction lease and the sequencer lease renewed every 2 s (1 WRU) and read as
      // often by the 2 others (1 RRU each).
      const wru = 3 * (0.5 + 1 / 15) + 0.5 + 0.5;
      const rru = 3 * 1 + 2 * 0.5 + 2 * 0.5;
      const usd = (w: number, r: number) => ((w * 0.625 + r * 0.125) * seconds) / 1e6;
      assert.ok(Math.abs(idle.registryUsd - usd(wru, rru)) < 0.01, `${idle.registryUsd}`);
      // Polls of 0.5 RRU: once a second per agent with nothing waiting; while fetches wait, 20 a second by
      // the sequencer, the 2 others following it through watches and polling once a second.
      assert.ok(Math.abs(idle.quietUsd - usd(wru, rru + 3 * 0.5)) < 0.01, `${idle.quietUsd}`);
      assert.ok(
        Math.abs(idle.consumersWaitingUsd - usd(wru, rru + (20 + 2) * 0.5)) < 0.01,
        `${idle.consumersWaitingUsd}`,
      );
      // Before the back-off, 1 s heartbeats and the lease asked for with writes: $20.73 at any time.
      const before = usd(3 * (1 + 1 / 15) + 3, 3 * 1 + 3 * 20 * 0.5);
      assert.ok(idle.quietUsd < before / 2.5, `${idle.quietUsd} against ${before}`);
      // One agent has no sequencer to lease.
      const alone = idleCluster({ ...DEFAULT_WORKLOAD, agents: 1 }, DEFAULT_WARP_DESIGN, DEFAULT_PRICES);
      assert.ok(Math.abs(alone.registryUsd - usd(0.5 + 1 / 15 + 0.5, 1)) < 0.01, `${alone.registryUsd}`);
      // A busy row polls at the active interval: the log moves.
      const busy = defaultTable().find(
        (r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp" && r.bytesPerSecond === 1e5,
      )!;
      assert.match(
        busy.lines.find((l) => l.unit === "RRU")!.assumption,
        /the sequencer polls the log's tail 20×\/s and the 2 other agents, following it through watches, 1×\/s/,
      );
      // One agent polls the moving log itself.
      const single = costTable({
        throughputs: [1e5],
        workload: { ...DEFAULT_WORKLOAD, agents: 1 },
        design: DEFAULT_WARP_DESIGN,
        prices: DEFAULT_PRICES,
      }).find((r) => r.store === "warp-dynamodb-on-demand" && r.design === "warp")!;
      assert.match(single.lines.find((l) => l.unit === "RRU")!.assumption, /1 agent polls the log's tail 20×\/s/);
    });
  });
});
