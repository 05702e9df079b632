/** Kubernetes Events (core/v1) about a WarpAgent, one per transition. */
import type { Logger } from "../../../common/logger.js";
import { errorMessage } from "../../../common/logger.js";
import type { WarpAgent } from "../api/types.js";
import type { KubeClient } from "../kube/client.js";

export const EVENT_SOURCE = "warp-operator";

export class EventRecorder {
  private seq = 0;
  constructor(
    private readonly client: KubeClient,
    private readonly logger: Logger,
  ) {}

  async record(agent: WarpAgent, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const name = `${agent.metadata.name}.${Date.now().toString(16)}${(this.seq++ % 4096).toString(16)}`;
    try {
      await this.client.create(
        { apiVersion: "v1", plural: "events", namespace: agent.metadata.namespace },
        {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name, namespace: agent.metadata.namespace },
          involvedObject: {
            apiVersion: agent.apiVersion,
            kind: agent.kind,
            name: agent.metadata.name,
            namespace: agent.metadata.namespace,
            uid: agent.metadata.uid,
            resourceVersion: agent.metadata.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: EVENT_SOURCE },
          reportingComponent: EVENT_SOURCE,
          reportingInstance: EVENT_SOURCE,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      );
    } catch (err) {
      this.logger.warn("could not record event", { reason, error: errorMessage(err) });
    }
  }
}
