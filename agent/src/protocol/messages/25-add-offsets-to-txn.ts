/**
 * AddOffsetsToTxn (API key 25): request and response definitions, versions 0-4.
 * Transcribed field by field from Kafka's AddOffsetsToTxnRequest.json / AddOffsetsToTxnResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const AddOffsetsToTxnRequest = {
  apiKey: 25,
  name: "AddOffsetsToTxnRequest",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "transactionalId", type: "string", versions: "0+" },
    { name: "producerId", type: "int64", versions: "0+" },
    { name: "producerEpoch", type: "int16", versions: "0+" },
    { name: "groupId", type: "string", versions: "0+" },
  ],
} as const satisfies MessageDef;

export const AddOffsetsToTxnResponse = {
  apiKey: 25,
  name: "AddOffsetsToTxnResponse",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
  ],
} as const satisfies MessageDef;
