/** Topic configuration keys the agent understands, their defaults and validation. */

export interface ConfigDefinition {
  readonly default: string;
  readonly validate: (value: string) => string | null;
  readonly doc: string;
}

const longAtLeast = (min: number) => (v: string) =>
  /^-?\d+$/.test(v) && Number(v) >= min ? null : `must be an integer >= ${min}`;
/** A comma-separated set of `allowed` values, each at most once (cleanup.policy "compact,delete"). */
const setOf =
  (...allowed: string[]) =>
  (v: string) => {
    const parts = v.split(",").map((p) => p.trim());
    return parts.length > 0 && new Set(parts).size === parts.length && parts.every((p) => allowed.includes(p))
      ? null
      : `must be ${allowed.join(", ")} or a comma-separated list of them`;
  };
const oneOf =
  (...allowed: string[]) =>
  (v: string) =>
    allowed.includes(v) ? null : `must be one of ${allowed.join(", ")}`;

export const TOPIC_CONFIGS: Readonly<Record<string, ConfigDefinition>> = {
  "retention.ms": {
    default: "604800000",
    validate: longAtLeast(-1),
    doc: "Time records are kept; -1 keeps them forever.",
  },
  "retention.bytes": { default: "-1", validate: longAtLeast(-1), doc: "Bytes kept per partition; -1 for no limit." },
  "cleanup.policy": {
    default: "delete",
    validate: setOf("delete", "compact"),
    doc: "delete: retention.ms and retention.bytes drop old data. compact is accepted (Kafka Streams changelogs, Kafka Connect's internal topics) and keeps every record: records are not compacted by key, so a reader sees every update, as it would before a compaction ran; with compact alone nothing is dropped.",
  },
  "message.timestamp.type": {
    default: "CreateTime",
    validate: oneOf("CreateTime", "LogAppendTime"),
    doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps each batch with the time its ingestion file is sealed.",
  },
  "max.message.bytes": {
    default: "8388608",
    validate: longAtLeast(0),
    doc: "Largest record batch accepted, in bytes; a larger one is refused with MESSAGE_TOO_LARGE.",
  },
  "compression.type": {
    default: "producer",
    validate: oneOf("producer"),
    doc: "Batches are stored as the producer compressed them.",
  },
  "segment.bytes": {
    default: "1073741824",
    validate: longAtLeast(14),
    doc: "Accepted for compatibility; objects are sized by compaction.",
  },
  "segment.ms": { default: "604800000", validate: longAtLeast(1), doc: "Accepted for compatibility." },
  "min.insync.replicas": {
    default: "1",
    validate: longAtLeast(1),
    doc: "Accepted for compatibility; durability comes from the store.",
  },
  "unclean.leader.election.enable": {
    default: "false",
    validate: oneOf("true", "false"),
    doc: "Accepted for compatibility.",
  },
};

/** Returns an error message for an unknown key or a bad value, else null. */
export function validateTopicConfig(key: string, value: string): string | null {
  const def = TOPIC_CONFIGS[key];
  if (!def) return `unknown topic config ${key}`;
  const problem = def.validate(value);
  return problem ? `${key}: ${problem}` : null;
}

export function effectiveConfig(configs: Readonly<Record<string, string>>, key: string): string | undefined {
  return configs[key] ?? TOPIC_CONFIGS[key]?.default;
}
