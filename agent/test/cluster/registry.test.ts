import assert from "node:assert/strict";
import { ENTRY_FORMAT } from "../../src/metadata/commands.js";
import { componentLogger } from "../../../common/logger.js";
import { eventually } from "../../../e2e/support/eventually.js";
import { DynamicCluster } from "../../src/cluster/dynamic-cluster.js";
import { AgentRegistry } from "../../src/cluster/registry.js";
import { encodingFor, entryFormatFor } from "../../src/metadata/entry-codec.js";
import type { RegistryOptions } from "../../src/cluster/registry.js";
import { MemMetadataStore } from "../../src/store/mem.js";

const logger = componentLogger("test");

/** Checks every 10 ms, for a generous minute. */
const POLL = { timeoutMs: 60_000, intervalMs: 10 } as const;

function options(
  store: MemMetadataStore,
  zone: string,
  port: number,
  extra: Partial<RegistryOptions> = {},
): RegistryOptions {
  return { store, host: "127.0.0.1", port, zone, logger, heartbeatMs: 20, sessionMs: 2000, ...extra };
}

const ids = (r: AgentRegistry) => r.liveAgents().map((a) => a.nodeId);

/** The same store, unreachable while `cut` is set (every call fails, as through a network partition). */
class CutOffStore {
  cut = false;
  constructor(private readonly inner: MemMetadataStore) {
    return new Proxy(this, {
      get: (target, prop, receiver) => {
        if (prop in target) return Reflect.get(target, prop, receiver);
        const value = Reflect.get(inner, prop, inner) as unknown;
        if (typeof value !== "function") return value;
        return (...args: unknown[]) =>
          target.cut
            ? Promise.reject(new Error("connect ECONNREFUSED (injected)"))
            : (value as (...a: unknown[]) => unknown).apply(inner, args);
      },
    });
  }
}

describe("agent registry", () => {
  const started: AgentRegistry[] = [];
  afterEach(async () => {
    for (const r of started.splice(0)) await r.stop();
  });
  async function start(o: RegistryOptions): Promise<AgentRegistry> {
    const r = await AgentRegistry.start(o);
    started.push(r);
    return r;
  }

  it("gives three agents distinct node ids and the same view; one that stops heartbeating drops out after its session", async () => {
    const store = new MemMetadataStore();
    const session = { sessionMs: 500 };
    const agents = await Promise.all([
      start(options(store, "a", 9001, session)),
      start(options(store, "b", 9002, session)),
      start(options(store, "c", 9003, session)),
    ]);
    const nodeIds = agents.map((a) => a.nodeId);
    assert.equal(new Set(nodeIds).size, 3);
    assert.ok(nodeIds.every((id) => Number.isInteger(id) && id > 0 && id <= 0x7fffffff));
    const all = [...nodeIds].sort((x, y) => x - y);
    await eventually(() => agents.every((a) => ids(a).join() === all.join()), {
      ...POLL,
      what: "every agent to see all three",
    });
    const seenByFirst = agents[0].liveAgents().find((a) => a.nodeId === agents[2].nodeId)!;
    assert.deepEqual(
      { host: seenByFirst.host, port: seenByFirst.port, zone: seenByFirst.zone },
      { host: "127.0.0.1", port: 9003, zone: "c" },
    );

    const changes: number[][] = [];
    agents[0].onChange((list) => changes.push(list.map((a) => a.nodeId)));
    agents[2].paused = true; // hung: no heartbeats, no deregistration
    const gone = agents[2].nodeId;
    await eventually(() => !ids(agents[0]).includes(gone) && !ids(agents[1]).includes(gone), {
      ...POLL,
      what: "the silent agent to disappear",
    });
    assert.deepEqual(
      changes[changes.length - 1],
      all.filter((id) => id !== gone),
    );
    assert.ok(ids(agents[2]).includes(gone), "an agent always lists itself");
    assert.equal(await store.getItem(`agent/${gone}`), null, "its heartbeat item expired");
  });

  it("reads the members more often than it heartbeats: a new agent is seen within a refresh, for a read unit, not a write", async () => {
    /** Counts heartbeat writes and member listings. */
    class CountingStore extends MemMetadataStore {
      beats = 0;
      lists = 0;
      override async putItem(...args: Parameters<MemMetadataStore["putItem"]>): Promise<number | null> {
        if (args[0].startsWith("agent/")) this.beats++;
        return super.putItem(...args);
      }
      override async listItems(prefix: string) {
        if (prefix === "agent/") this.lists++;
        return super.listItems(prefix);
      }
    }
    const store = new CountingStore();
    const a = await start(options(store, "a", 9001, { heartbeatMs: 400, refreshMs: 50 }));
    store.beats = 0;
    store.lists = 0;
    await start(options(store, "b", 9002, { heartbeatMs: 400, refreshMs: 50 }));
    await eventually(() => ids(a).length === 2, { timeoutMs: 5000, intervalMs: 5, what: "a to see b" });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // Over about a second: a listing every 50 ms per agent, a heartbeat every 400 ms (a timer never fires
    // early, so at most 3 + 1 each, b's first included).
    assert.ok(store.beats <= 2 * 4 + 1, `${store.beats} heartbeats`);
    assert.ok(store.lists > 2 * store.beats, `${store.lists} listings against ${store.beats} heartbeats`);
  });

  it("an agent that bound port 0 advertises its real port at once, to itself and to the others", async () => {
    const store = new MemMetadataStore();
    // Long heartbeats: nothing may depend on the next beat.
    const slow = { heartbeatMs: 60_000, sessionMs: 120_000 };
    const other = await start(options(store, "a", 9001, slow));
    const late = await start(options(store, "b", 0, slow));
    await late.setPort(9555);
    assert.equal(late.liveAgents().find((a) => a.nodeId === late.nodeId)!.port, 9555);
    await other.refresh();
    assert.equal(other.liveAgents().find((a) => a.nodeId === late.nodeId)?.port, 9555);
  });

  it("an agent that cannot heartbeat for a session steps out of the cluster it advertises, and back in when it can", async () => {
    const store = new MemMetadataStore();
    const cutOff = new CutOffStore(store);
    const healthy = await start(options(store, "a", 9001, { sessionMs: 300 }));
    const victim = await start(options(cutOff as unknown as MemMetadataStore, "b", 9002, { sessionMs: 300 }));
    const view = new DynamicCluster("c", victim);
    await eventually(() => view.liveAgents().length === 2, { ...POLL, what: "the victim to see both" });
    const changes: number[][] = [];
    view.onMembershipChange((list) => changes.push(list.map((a) => a.nodeId)));

    cutOff.cut = true;
    await eventually(() => view.isolated(), { ...POLL, what: "the victim to isolate itself" });
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [healthy.nodeId],
      "only the reachable agent is advertised",
    );
    assert.equal(view.leaderFor("t", 0, null).nodeId, healthy.nodeId);
    assert.deepEqual(changes.at(-1), [healthy.nodeId], "membership listeners hear of it");
    await eventually(() => !ids(healthy).includes(victim.nodeId), {
      ...POLL,
      what: "the healthy agent to drop the victim",
    });

    cutOff.cut = false;
    await eventually(() => !view.isolated() && view.liveAgents().some((a) => a.nodeId === victim.nodeId), {
      ...POLL,
      what: "the victim to be back in its own view",
    });
    await eventually(() => ids(healthy).includes(victim.nodeId), {
      ...POLL,
      what: "the victim to be back in the healthy agent's view",
    });
    view.close();
  });

  it("an agent whose ingestion fails stops heartbeating, steps out, and comes back when the problem clears", async () => {
    const store = new MemMetadataStore();
    let problem: string | null = null;
    const healthy = await start(options(store, "a", 9001, { sessionMs: 300 }));
    const victim = await start(options(store, "b", 9002, { sessionMs: 300, dataPathProblem: () => problem }));
    const view = new DynamicCluster("c", victim);
    await eventually(() => ids(healthy).length === 2 && view.liveAgents().length === 2, {
      ...POLL,
      what: "both to see each other",
    });

    // The store still answers (heartbeats would succeed), but this agent cannot store data.
    problem = "an ingestion file has been pending for 6000 ms";
    await eventually(() => !ids(healthy).includes(victim.nodeId), {
      ...POLL,
      what: "the healthy agent to drop the victim",
    });
    await eventually(() => view.isolated(), { ...POLL, what: "the victim to step out of its own view" });
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [healthy.nodeId],
    );

    problem = null;
    await eventually(() => !view.isolated() && ids(healthy).includes(victim.nodeId), {
      ...POLL,
      what: "the victim to be back in both views",
    });
    view.close();
  });

  it("removes a stopped agent at once and frees its node id", async () => {
    const store = new MemMetadataStore();
    const a = await start(options(store, "a", 1, { preferredNodeId: 7 }));
    const b = await start(options(store, "a", 2, { preferredNodeId: 7 }));
    assert.equal(a.nodeId, 7);
    assert.notEqual(b.nodeId, 7, "a taken preferred id is not reused");
    await a.stop();
    await b.refresh();
    assert.deepEqual(ids(b), [b.nodeId]);
    const c = await start(options(store, "a", 3, { preferredNodeId: 7 }));
    assert.equal(c.nodeId, 7, "the id of an agent that left is free again");
  });

  it("an agent restarted at its address before its session ran out takes its node id back: no view lists the address twice", async () => {
    const store = new MemMetadataStore();
    const killed = await start(options(store, "a", 9201));
    const other = await start(options(store, "b", 9202));
    await eventually(() => ids(other).includes(killed.nodeId), { ...POLL, what: "the other to see the first" });
    const old = killed.self;
    await killed.stop({ deregister: false }); // killed: its heartbeat stays live for a session

    const restarted = await start(options(store, "a", 9201));
    assert.equal(restarted.nodeId, old.nodeId, "the previous process's node id");
    assert.notEqual(restarted.self.instance, old.instance);
    assert.equal((await store.getItem(`node/${old.nodeId}`))!.value.toString(), restarted.self.instance);
    await other.refresh();
    const listed = other.liveAgents();
    assert.deepEqual(
      listed.map((a) => `${a.nodeId}@${a.port}`),
      [`${old.nodeId}@9201`, `${other.nodeId}@9202`],
    );
    assert.equal(listed.find((a) => a.nodeId === old.nodeId)!.instance, restarted.self.instance);
    // It keeps the id while it heartbeats (its conditional writes hold).
    await eventually(async () => (await store.getItem(`agent/${old.nodeId}`))!.version >= 5, {
      ...POLL,
      what: "a few heartbeats",
    });
    assert.equal(restarted.nodeId, old.nodeId);
  });

  it("an agent restarted at its address with another -nodeId removes its previous heartbeat at once", async () => {
    const store = new MemMetadataStore();
    const killed = await start(options(store, "a", 9301));
    const other = await start(options(store, "b", 9302));
    const old = killed.nodeId;
    await killed.stop({ deregister: false });

    const restarted = await start(options(store, "a", 9301, { preferredNodeId: 42 }));
    assert.equal(restarted.nodeId, 42);
    await other.refresh();
    assert.deepEqual(
      other.liveAgents().map((a) => `${a.nodeId}@${a.port}`),
      [`${other.nodeId}@9302`, "42@9301"],
    );
    assert.equal(await store.getItem(`agent/${old}`), null);
  });

  it("advertises the newest log entry format it reads; while an agent from before binary entries (format 3) is live, the log writes JSON", async () => {
    const store = new MemMetadataStore();
    const a = await start(options(store, "a", 9401));
    assert.equal(
      JSON.parse((await store.getItem(`agent/${a.nodeId}`))!.value.toString()).logFormat,
      ENTRY_FORMAT.latest,
    );
    const writes = () => encodingFor(entryFormatFor(a.liveAgents().map((agent) => agent.logFormat)));
    assert.equal(writes(), "binary");
    // An agent from before binary entries heartbeats without the field.
    const old = { instance: "old", nodeId: 99, host: "127.0.0.1", port: 9402, zone: "a", startedAt: 1 };
    assert.notEqual(
      await store.putItem(
        "agent/99",
        Buffer.from(JSON.stringify(old)),
        { kind: "absent" },
        new Date(Date.now() + 60_000),
      ),
      null,
    );
    await a.refresh();
    assert.deepEqual(
      a.liveAgents().map((agent) => [agent.nodeId, agent.logFormat]),
      [
        [a.nodeId, ENTRY_FORMAT.latest],
        [99, undefined],
      ],
    );
    assert.equal(writes(), "json");
    assert.ok(await store.deleteItem("agent/99"));
    await a.refresh();
    assert.equal(writes(), "binary", "once the old agent has left the view");
  });

  it("claims unique ids when many agents start at once", async () => {
    const store = new MemMetadataStore();
    const agents = await Promise.all(Array.from({ length: 8 }, (_, i) => start(options(store, "z", 9000 + i))));
    assert.equal(new Set(agents.map((a) => a.nodeId)).size, 8);
  });

  it("claims a new id when its own was taken over while it was paused", async () => {
    const store = new MemMetadataStore();
    const a = await start(options(store, "a", 1, { sessionMs: 250, claimMs: 300 }));
    const old = a.nodeId;
    a.paused = true;
    await eventually(async () => (await store.getItem(`node/${old}`)) === null, {
      ...POLL,
      what: "the claim to expire",
    });
    const b = await start(options(store, "b", 2, { preferredNodeId: old, sessionMs: 250 }));
    assert.equal(b.nodeId, old);
    a.paused = false;
    await eventually(() => a.nodeId !== old, { ...POLL, what: "the paused agent to move to another id" });
    await eventually(() => ids(b).includes(a.nodeId) && ids(a).includes(old), {
      ...POLL,
      what: "both to see each other with distinct ids",
    });
    const atOld = b.liveAgents().find((x) => x.nodeId === old)!;
    assert.equal(atOld.port, 2, "the id belongs to the agent that claimed it last");
  });

  it("feeds a DynamicCluster: same coordinators on every agent, leadership and membership changes", async () => {
    const store = new MemMetadataStore();
    const regs = await Promise.all(["a", "b", "c"].map((z, i) => start(options(store, z, 9100 + i))));
    await eventually(() => regs.every((r) => r.liveAgents().length === 3), { ...POLL, what: "all to see three" });
    const views = regs.map((r) => new DynamicCluster("cluster", r));
    const groups = Array.from({ length: 50 }, (_, i) => `group-${i}`);
    const answers = views.map((v) => groups.map((g) => v.coordinatorFor(g).nodeId).join());
    assert.equal(new Set(answers).size, 1);
    for (const v of views)
      assert.equal(
        v.leaderFor("t", 0, v.self.zone).nodeId,
        v.self.nodeId,
        "a zone with one agent leads all its clients' partitions",
      );

    const seen: number[][] = [];
    views[0]!.onMembershipChange((list) => seen.push(list.map((a) => a.nodeId)));
    const leaving = regs[1]!.nodeId;
    await regs[1]!.stop();
    await eventually(() => seen.length > 0 && !seen[seen.length - 1]!.includes(leaving), {
      ...POLL,
      what: "agent 0 to see the departure",
    });
    assert.ok(views[0]!.liveAgents().every((a) => a.nodeId !== leaving));
    assert.deepEqual(
      views[0]!.agentsForZone("b").map((a) => a.nodeId),
      views[0]!.liveAgents().map((a) => a.nodeId),
      "an empty zone falls back to all",
    );
    for (const v of views) v.close();
  });
});
