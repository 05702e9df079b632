import assert from "node:assert/strict";
import { componentLogger } from "../../../common/logger.js";
import { DynamicCluster } from "../../src/cluster/dynamic-cluster.js";
import { AgentRegistry } from "../../src/cluster/registry.js";
import type { RegistryOptions } from "../../src/cluster/registry.js";
import { MemMetadataStore } from "../../src/store/mem.js";

const logger = componentLogger("test");

async function eventually(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

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
    await eventually("every agent sees all three", () => agents.every((a) => ids(a).join() === all.join()));
    const seenByFirst = agents[0].liveAgents().find((a) => a.nodeId === agents[2].nodeId)!;
    assert.deepEqual(
      { host: seenByFirst.host, port: seenByFirst.port, zone: seenByFirst.zone },
      { host: "127.0.0.1", port: 9003, zone: "c" },
    );

    const changes: number[][] = [];
    agents[0].onChange((list) => changes.push(list.map((a) => a.nodeId)));
    agents[2].paused = true; // hung: no heartbeats, no deregistration
    const gone = agents[2].nodeId;
    await eventually(
      "the silent agent disappears",
      () => !ids(agents[0]).includes(gone) && !ids(agents[1]).includes(gone),
    );
    assert.deepEqual(
      changes[changes.length - 1],
      all.filter((id) => id !== gone),
    );
    assert.ok(ids(agents[2]).includes(gone), "an agent always lists itself");
    assert.equal(await store.getItem(`agent/${gone}`), null, "its heartbeat item expired");
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
    await eventually("the victim sees both", () => view.liveAgents().length === 2);
    const changes: number[][] = [];
    view.onMembershipChange((list) => changes.push(list.map((a) => a.nodeId)));

    cutOff.cut = true;
    await eventually("the victim isolates itself", () => view.isolated());
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [healthy.nodeId],
      "only the reachable agent is advertised",
    );
    assert.equal(view.leaderFor("t", 0, null).nodeId, healthy.nodeId);
    assert.deepEqual(changes.at(-1), [healthy.nodeId], "membership listeners hear of it");
    await eventually("the healthy agent drops the victim", () => !ids(healthy).includes(victim.nodeId));

    cutOff.cut = false;
    await eventually(
      "the victim is back in its own view",
      () => !view.isolated() && view.liveAgents().some((a) => a.nodeId === victim.nodeId),
    );
    await eventually("and in the healthy agent's", () => ids(healthy).includes(victim.nodeId));
    view.close();
  });

  it("an agent whose ingestion fails stops heartbeating, steps out, and comes back when the problem clears", async () => {
    const store = new MemMetadataStore();
    let problem: string | null = null;
    const healthy = await start(options(store, "a", 9001, { sessionMs: 300 }));
    const victim = await start(options(store, "b", 9002, { sessionMs: 300, dataPathProblem: () => problem }));
    const view = new DynamicCluster("c", victim);
    await eventually("both see each other", () => ids(healthy).length === 2 && view.liveAgents().length === 2);

    // The store still answers (heartbeats would succeed), but this agent cannot store data.
    problem = "an ingestion file has been pending for 6000 ms";
    await eventually("the healthy agent drops the victim", () => !ids(healthy).includes(victim.nodeId));
    await eventually("the victim steps out of its own view", () => view.isolated());
    assert.deepEqual(
      view.liveAgents().map((a) => a.nodeId),
      [healthy.nodeId],
    );

    problem = null;
    await eventually(
      "the victim is back in both views",
      () => !view.isolated() && ids(healthy).includes(victim.nodeId),
    );
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
    await eventually("the claim expires", async () => (await store.getItem(`node/${old}`)) === null);
    const b = await start(options(store, "b", 2, { preferredNodeId: old, sessionMs: 250 }));
    assert.equal(b.nodeId, old);
    a.paused = false;
    await eventually("the paused agent moves to another id", () => a.nodeId !== old);
    await eventually("both see each other with distinct ids", () => ids(b).includes(a.nodeId) && ids(a).includes(old));
    const atOld = b.liveAgents().find((x) => x.nodeId === old)!;
    assert.equal(atOld.port, 2, "the id belongs to the agent that claimed it last");
  });

  it("feeds a DynamicCluster: same coordinators on every agent, leadership and membership changes", async () => {
    const store = new MemMetadataStore();
    const regs = await Promise.all(["a", "b", "c"].map((z, i) => start(options(store, z, 9100 + i))));
    await eventually("all see three", () => regs.every((r) => r.liveAgents().length === 3));
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
    await eventually("agent 0 sees the departure", () => seen.length > 0 && !seen[seen.length - 1]!.includes(leaving));
    assert.ok(views[0]!.liveAgents().every((a) => a.nodeId !== leaving));
    assert.deepEqual(
      views[0]!.agentsForZone("b").map((a) => a.nodeId),
      views[0]!.liveAgents().map((a) => a.nodeId),
      "an empty zone falls back to all",
    );
    for (const v of views) v.close();
  });
});
