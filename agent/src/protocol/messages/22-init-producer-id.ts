/**
 * InitProducerId (API key 22): request and response definitions, versions 0-5.
 * Transcribed field by field from Kafka's InitProducerIdRequest.json / InitProducerIdResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const InitProducerIdRequest = {
  apiKey: 22,
  name: "InitProducerIdRequest",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "transactionalId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
    { name: "producerId", type: "int64", versions: "3+", default: -1n },
    { name: "producerEpoch", type: "int16", versions: "3+", default: -1 },
  ],
} as const satisfies MessageDef;

export const InitProducerIdResponse = {
  apiKey: 22,
  name: "InitProducerIdResponse",
  validVersions: "0-5",
  flexibleVersions: "2+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "producerId", type: "int64", versions: "0+", default: -1n },
    { name: "producerEpoch", type: "int16", versions: "0+" },
  ],
} as const satisfies MessageDef;
