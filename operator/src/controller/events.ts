/**
 * Kubernetes Events (events.k8s.io/v1) about a WarpAgent. An event that repeats one already
 * recorded by this process (same WarpAgent, type, reason and note) is not a new Event: the existing
 * one's series is counted up (series.count, series.lastObservedTime), as client-go's recorder does.
 */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { WarpAgent } from "../api/types.js";
import type { KubeClient, ResourceRef } from "../kube/client.js";
import { isNotFound } from "../kube/client.js";

export const EVENT_SOURCE = "warp-operator";
/** reportingController of every Event (a qualified name, as events.k8s.io/v1 asks). */
export const REPORTING_CONTROLLER = "warpagent.dev/warp-operator";
/** How many distinct events the recorder remembers for series; the oldest is forgotten first. */
const MAX_REMEMBERED = 4096;
const NOTE_LIMIT = 1024;

export type EventType = "Normal" | "Warning";

/** events.k8s.io/v1 MicroTime: RFC 3339 with six fractional digits. */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

interface Recorded {
  name: string;
  namespace: string;
  count: number;
}

export class EventRecorder {
  private seq = 0;
  private readonly recorded = new Map<string, Recorded>();

  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
    private readonly instance: string = EVENT_SOURCE,
  ) {}

  async record(agent: WarpAgent, type: EventType, reason: string, message: string): Promise<void> {
    const note = message.slice(0, NOTE_LIMIT);
    const key = JSON.stringify([
      agent.metadata.uid ?? agent.metadata.name,
      agent.metadata.namespace,
      type,
      reason,
      note,
    ]);
    try {
      const seen = this.recorded.get(key);
      if (seen && (await this.countUp(seen))) {
        this.remember(key, seen);
        return;
      }
      this.remember(key, await this.create(agent, type, reason, note));
    } catch (err) {
      this.logger.warn("could not record event", { reason, error: errorMessage(err) });
    }
  }

  private ref(namespace: string, name?: string): ResourceRef {
    return { apiVersion: "events.k8s.io/v1", plural: "events", namespace, ...(name ? { name } : {}) };
  }

  /** Moves `key` to the newest position, forgetting the oldest beyond MAX_REMEMBERED. */
  private remember(key: string, r: Recorded): void {
    this.recorded.delete(key);
    this.recorded.set(key, r);
    if (this.recorded.size > MAX_REMEMBERED) this.recorded.delete(this.recorded.keys().next().value!);
  }

  /** Counts a repeat on the existing Event; false when that Event is gone (expired). */
  private async countUp(r: Recorded): Promise<boolean> {
    const count = r.count + 1;
    try {
      await this.client.patch(
        this.ref(r.namespace, r.name),
        "merge",
        { series: { count, lastObservedTime: microTime(new Date()) } },
        EVENT_SOURCE,
      );
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    r.count = count;
    return true;
  }

  private async create(agent: WarpAgent, type: EventType, reason: string, note: string): Promise<Recorded> {
    const namespace = agent.metadata.namespace;
    const name = `${agent.metadata.name}.${Date.now().toString(16)}${(this.seq++ % 4096).toString(16)}`;
    await this.client.create(this.ref(namespace), {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name, namespace },
      eventTime: microTime(new Date()),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance,
      action: reason,
      reason,
      type,
      note,
      regarding: {
        apiVersion: agent.apiVersion,
        kind: agent.kind,
        name: agent.metadata.name,
        namespace,
        uid: agent.metadata.uid,
        resourceVersion: agent.metadata.resourceVersion,
      },
    });
    return { name, namespace, count: 1 };
  }
}
