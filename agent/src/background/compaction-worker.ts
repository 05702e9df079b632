/**
 * The worker thread compaction's data path runs in (compaction-copier.ts WorkerCopier): opens its own
 * clients of the agent's DynamoDB tables and S3 bucket, and serves read / write / release requests with
 * CopySession (compaction-copy.ts). The usage its stores report (DynamoDB units, S3 requests) and their
 * calls go back to the agent's thread, which counts them as its own: metrics and `warp cost` see one agent.
 */
import { parentPort, workerData } from "node:worker_threads";
import { TimeSlicer } from "../../../common/time-slicer.js";
import { measureObjectStore, type StoreCall } from "../store/measured.js";
import { openRemoteObjectStores } from "../store/open/open-stores.js";
import { storeUsage } from "../store/usage.js";
import { CopySession } from "./compaction-copy.js";
import {
  unpackHeld,
  type CopyWorkerData,
  type CopyWorkerMessage,
  type CopyWorkerRequest,
} from "./compaction-copier.js";

/**
 * This thread serves nothing else, so its work need not be cut short; it still gives its loop back now
 * and then so that store answers are taken in while a long copy runs.
 */
const WORKER_SLICE_MS = 50;

const port = parentPort;
if (!port) throw new Error("compaction-worker.ts runs as a worker thread (compaction-copier.ts)");
const data = workerData as CopyWorkerData;
const post = (message: CopyWorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

storeUsage.onChange((usage) => post({ usage }));
const opened = openRemoteObjectStores(data.ingestion, data.compaction);
const observe = (call: StoreCall) => post({ call });
const ingestion = measureObjectStore(opened.ingestion, observe);
const stores = {
  ingestion,
  compaction: opened.compaction === opened.ingestion ? ingestion : measureObjectStore(opened.compaction, observe),
};
const sessions = new Map<number, CopySession>();

async function serve(request: CopyWorkerRequest): Promise<void> {
  switch (request.op) {
    case "read": {
      const session = new CopySession(stores, data.limits);
      sessions.set(request.pass, session);
      try {
        const checks = await session.read(
          { ...request.request, held: unpackHeld(request.held) },
          new TimeSlicer(WORKER_SLICE_MS),
        );
        post({ id: request.id, ok: true, checks });
      } catch (err) {
        sessions.delete(request.pass);
        throw err;
      }
      return;
    }
    case "write": {
      const session = sessions.get(request.pass);
      if (!session) throw new Error(`compaction pass ${request.pass} has no sources`);
      sessions.delete(request.pass);
      const written = await session.write(
        request.key,
        request.order,
        request.keepData,
        new TimeSlicer(WORKER_SLICE_MS),
      );
      // The object's memory moves to the agent's thread instead of being copied.
      const bytes = written.data;
      if (bytes) post({ id: request.id, ok: true, written }, [bytes.buffer as ArrayBuffer]);
      else post({ id: request.id, ok: true, written });
      return;
    }
    case "release":
      sessions.get(request.pass)?.release();
      sessions.delete(request.pass);
      return;
  }
}

port.on("message", (request: CopyWorkerRequest) => {
  serve(request).catch((err: unknown) => {
    const error = err instanceof Error ? err : new Error(String(err));
    post({ id: request.id, ok: false, error: { name: error.name, message: error.message } });
  });
});
