/**
 * What the stores spend, counted where it is spent: DynamoDB read/write capacity units as reported by
 * `ReturnConsumedCapacity: "TOTAL"` (plus an estimate for failed conditional writes, whose error
 * response carries no ConsumedCapacity) and S3 requests by type. One process-wide counter object;
 * the agent exports it as Prometheus counters, e.g.:
 *
 *   storeUsage.onChange((e) => e.kind === "dynamoWrite" ? wru.inc({ table: e.table }, e.units) : ...)
 *
 * or reads `storeUsage.snapshot()` from a prom-client `collect()` callback.
 */

export type S3RequestType = "put" | "get" | "list" | "delete";

/**
 * A DynamoDB partition key whose units are counted apart: DynamoDB serves one key at most 1,000 write and
 * 3,000 read units a second, so a key every agent writes is a limit of the whole cluster: the metadata log's
 * `pk = "log"`, and the stripes its large entries' bodies are spread over (`logbody`: all 64 together, each
 * taking a 64th; docs/metadata-log.md, section 1).
 */
export type HotPartitionKey = "log" | "logbody";

export type UsageEvent =
  | { readonly kind: "dynamoRead"; readonly table: string; readonly units: number; readonly key?: HotPartitionKey }
  | {
      readonly kind: "dynamoWrite";
      readonly table: string;
      readonly units: number;
      readonly estimated: boolean;
      readonly key?: HotPartitionKey;
    }
  | { readonly kind: "s3Request"; readonly type: S3RequestType; readonly count: number };

export interface StoreUsageSnapshot {
  readonly dynamoReadUnits: number;
  readonly dynamoWriteUnits: number;
  readonly s3Requests: Readonly<Record<S3RequestType, number>>;
}

export type UsageListener = (event: UsageEvent) => void;

export class StoreUsage implements StoreUsageSnapshot {
  dynamoReadUnits = 0;
  dynamoWriteUnits = 0;
  readonly s3Requests: Record<S3RequestType, number> = { put: 0, get: 0, list: 0, delete: 0 };
  private readonly listeners = new Set<UsageListener>();

  /** Calls listener on every change; returns a function that unsubscribes. */
  onChange(listener: UsageListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** `key`: the hot partition key the units were spent on, when the caller names one. */
  addDynamoRead(table: string, units: number, key?: HotPartitionKey): void {
    if (!(units > 0)) return;
    this.dynamoReadUnits += units;
    this.emit({ kind: "dynamoRead", table, units, ...(key ? { key } : {}) });
  }

  addDynamoWrite(table: string, units: number, estimated = false, key?: HotPartitionKey): void {
    if (!(units > 0)) return;
    this.dynamoWriteUnits += units;
    this.emit({ kind: "dynamoWrite", table, units, estimated, ...(key ? { key } : {}) });
  }

  addS3Request(type: S3RequestType, count = 1): void {
    if (!(count > 0)) return;
    this.s3Requests[type] += count;
    this.emit({ kind: "s3Request", type, count });
  }

  /** Counts an event reported elsewhere (another thread's stores: background/compaction-copier.ts). */
  record(event: UsageEvent): void {
    if (event.kind === "dynamoRead") this.addDynamoRead(event.table, event.units, event.key);
    else if (event.kind === "dynamoWrite") this.addDynamoWrite(event.table, event.units, event.estimated, event.key);
    else this.addS3Request(event.type, event.count);
  }

  snapshot(): StoreUsageSnapshot {
    return {
      dynamoReadUnits: this.dynamoReadUnits,
      dynamoWriteUnits: this.dynamoWriteUnits,
      s3Requests: { ...this.s3Requests },
    };
  }

  private emit(event: UsageEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken metrics listener must never fail a store call.
      }
    }
  }
}

/** The process-wide counters every store reports into. */
export const storeUsage = new StoreUsage();
