/**
 * ListTransactions (API key 66): request and response definitions, versions 0-1.
 * Transcribed field by field from Kafka's ListTransactionsRequest.json / ListTransactionsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const ListTransactionsRequest = {
  apiKey: 66,
  name: "ListTransactionsRequest",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "stateFilters", type: "string[]", versions: "0+" },
    { name: "producerIdFilters", type: "int64[]", versions: "0+" },
    { name: "durationFilter", type: "int64", versions: "1+", default: -1n },
  ],
} as const satisfies MessageDef;

export const ListTransactionsResponse = {
  apiKey: 66,
  name: "ListTransactionsResponse",
  validVersions: "0-1",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    { name: "errorCode", type: "int16", versions: "0+" },
    { name: "unknownStateFilters", type: "string[]", versions: "0+" },
    {
      name: "transactionStates",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "transactionalId", type: "string", versions: "0+" },
        { name: "producerId", type: "int64", versions: "0+" },
        { name: "transactionState", type: "string", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;
