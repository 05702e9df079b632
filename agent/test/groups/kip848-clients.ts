/**
 * KIP-848 members as a client runs them, over a GroupCoordinator with manual timers and an in-memory
 * offset store: the set-up shared by the consumer-group tests (consumer-groups.test.ts,
 * durable-consumer-groups.test.ts).
 */
import assert from "node:assert/strict";
import winston from "winston";
import type { AssignableTopic } from "../../src/groups/assignors/types.js";
import {
  GroupCoordinator,
  GroupError,
  type ConsumerHeartbeatInput,
  type ConsumerHeartbeatResult,
  type TopicView,
} from "../../src/groups/coordinator.js";
import { assignmentText, EMPTY_ASSIGNMENT, type Assignment } from "../../src/groups/partitions.js";
import { ManualTimers } from "./manual-timers.js";
import { MemGroupOffsetStore } from "./mem-offset-store.js";

export const silent = winston.createLogger({ silent: true });
export const G = "cg";
export const SESSION = 45_000;
export const REBALANCE = 30_000;

export class Topics implements TopicView {
  readonly topics = new Map<string, AssignableTopic>();
  add(name: string, partitions: number): AssignableTopic {
    const t = { id: Buffer.from(name.padEnd(16, "_")).subarray(0, 16).toString("hex"), name, partitions };
    this.topics.set(name, t);
    return t;
  }
  byName(name: string) {
    return this.topics.get(name);
  }
  byId(id: string) {
    return [...this.topics.values()].find((t) => t.id === id);
  }
  names() {
    return this.topics.keys();
  }
}

export function setup(maxGroupSize?: number) {
  const timers = new ManualTimers();
  const store = new MemGroupOffsetStore();
  const topics = new Topics();
  const coordinator = new GroupCoordinator({
    offsets: store,
    timers,
    log: silent,
    topics,
    ...(maxGroupSize !== undefined ? { maxGroupSize } : {}),
  });
  return { timers, store, topics, coordinator };
}

export type Env = ReturnType<typeof setup>;

/** Another agent's coordinator over the same offset store (the metadata log), topics and clock. */
export function anotherCoordinator(env: Env): Env {
  const coordinator = new GroupCoordinator({ offsets: env.store, timers: env.timers, log: silent, topics: env.topics });
  return { ...env, coordinator };
}

export function input(overrides: Partial<ConsumerHeartbeatInput>): ConsumerHeartbeatInput {
  return {
    groupId: G,
    memberId: "m",
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: REBALANCE,
    subscribedTopicNames: ["t"],
    subscribedTopicRegex: null,
    serverAssignor: null,
    ownedPartitions: EMPTY_ASSIGNMENT,
    clientId: "client",
    clientHost: "/127.0.0.1",
    version: 1,
    ...overrides,
  };
}

/** A member as a client runs it: remembers its epoch and what it owns, reports what it owns each time. */
export class Client {
  epoch = 0;
  owned: Assignment = EMPTY_ASSIGNMENT;
  /** @param env the coordinator the member talks to (a test moves it to another one) */
  constructor(
    public env: Env,
    readonly memberId: string,
    readonly extra: Partial<ConsumerHeartbeatInput> = {},
  ) {}

  async join(): Promise<ConsumerHeartbeatResult> {
    this.epoch = 0;
    this.owned = EMPTY_ASSIGNMENT;
    return this.beat();
  }

  /** One heartbeat; applies the assignment it gets (revoking at once, as a client does). */
  async beat(overrides: Partial<ConsumerHeartbeatInput> = {}): Promise<ConsumerHeartbeatResult> {
    const r = await this.env.coordinator.consumerGroupHeartbeat(
      input({
        memberId: this.memberId,
        memberEpoch: this.epoch,
        ownedPartitions: this.owned,
        ...this.extra,
        ...overrides,
      }),
    );
    if (r.errorCode === GroupError.NONE) {
      this.epoch = r.memberEpoch;
      if (r.assignment) this.owned = r.assignment;
    }
    return r;
  }

  text(): string {
    return assignmentText(this.owned, (id) => this.env.topics.byId(id)?.name ?? id);
  }
}

/** Heartbeats every client in turn until a round changes nothing; checks nobody shares a partition. */
export async function settle(clients: readonly Client[]): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const before = clients.map((c) => `${c.epoch}:${c.text()}`).join("|");
    for (const c of clients) {
      assert.equal((await c.beat()).errorCode, GroupError.NONE);
      assertDisjoint(clients);
    }
    if (clients.map((c) => `${c.epoch}:${c.text()}`).join("|") === before) return;
  }
  assert.fail("the group did not settle");
}

export function assertDisjoint(clients: readonly Client[]): void {
  const owner = new Map<string, string>();
  for (const c of clients)
    for (const p of c.text().split(",").filter(Boolean)) {
      assert.equal(owner.get(p), undefined, `${p} owned by ${owner.get(p)} and ${c.memberId}`);
      owner.set(p, c.memberId);
    }
}
