/**
 * DescribeTransactions (API key 65): request and response definitions, versions 0-0.
 * Transcribed field by field from Kafka's DescribeTransactionsRequest.json / DescribeTransactionsResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const DescribeTransactionsRequest = {
  apiKey: 65,
  name: "DescribeTransactionsRequest",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [{ name: "transactionalIds", type: "string[]", versions: "0+" }],
} as const satisfies MessageDef;

export const DescribeTransactionsResponse = {
  apiKey: 65,
  name: "DescribeTransactionsResponse",
  validVersions: "0-0",
  flexibleVersions: "0+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "transactionStates",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "errorCode", type: "int16", versions: "0+" },
        { name: "transactionalId", type: "string", versions: "0+" },
        { name: "transactionState", type: "string", versions: "0+" },
        { name: "transactionTimeoutMs", type: "int32", versions: "0+" },
        { name: "transactionStartTimeMs", type: "int64", versions: "0+" },
        { name: "producerId", type: "int64", versions: "0+" },
        { name: "producerEpoch", type: "int16", versions: "0+" },
        {
          name: "topics",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "topic", type: "string", versions: "0+" },
            { name: "partitions", type: "int32[]", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
