/**
 * AddPartitionsToTxn (API key 24): request and response definitions, versions 0-3.
 * Transcribed field by field from Kafka's AddPartitionsToTxnRequest.json / AddPartitionsToTxnResponse.json (3.9.0)
 * by scripts/gen-protocol-messages.ts: regenerate with npm run gen:protocol, do not edit by hand.
 */
import type { MessageDef } from "../codec/schema.js";

export const AddPartitionsToTxnRequest = {
  apiKey: 24,
  name: "AddPartitionsToTxnRequest",
  validVersions: "0-3",
  flexibleVersions: "3+",
  fields: [
    { name: "v3AndBelowTransactionalId", type: "string", versions: "0+" },
    { name: "v3AndBelowProducerId", type: "int64", versions: "0+" },
    { name: "v3AndBelowProducerEpoch", type: "int16", versions: "0+" },
    {
      name: "v3AndBelowTopics",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        { name: "partitions", type: "int32[]", versions: "0+" },
      ],
    },
  ],
} as const satisfies MessageDef;

export const AddPartitionsToTxnResponse = {
  apiKey: 24,
  name: "AddPartitionsToTxnResponse",
  validVersions: "0-3",
  flexibleVersions: "3+",
  fields: [
    { name: "throttleTimeMs", type: "int32", versions: "0+" },
    {
      name: "resultsByTopicV3AndBelow",
      type: "struct[]",
      versions: "0+",
      fields: [
        { name: "name", type: "string", versions: "0+" },
        {
          name: "resultsByPartition",
          type: "struct[]",
          versions: "0+",
          fields: [
            { name: "partitionIndex", type: "int32", versions: "0+" },
            { name: "partitionErrorCode", type: "int16", versions: "0+" },
          ],
        },
      ],
    },
  ],
} as const satisfies MessageDef;
