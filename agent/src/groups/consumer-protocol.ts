/**
 * What the coordinator reads and writes of the "consumer" embedded protocol (Kafka's
 * ConsumerProtocolSubscription and ConsumerProtocolAssignment, carried opaquely in JoinGroup metadata and
 * SyncGroup assignments):
 *
 *   - the subscribed topics, which OffsetDelete needs to refuse deleting the offsets of a topic a group is
 *     consuming. As Kafka's coordinator does, only the prefix every version shares is read (version int16,
 *     then the topics as an int32-counted array of int16-length strings), so later versions need no change;
 *   - the whole subscription (topics, owned partitions v1+, rack v3+) and assignment, for classic members
 *     of a KIP-848 group (classic-members.ts, migration.ts): the coordinator, not a leader, assigns them,
 *     so it must read what they own and write what they get, in the version they speak.
 */
import { ProtocolError } from "../protocol/codec/errors.js";
import { Reader } from "../protocol/codec/reader.js";
import { Writer } from "../protocol/codec/writer.js";
import type { Group } from "./group.js";

/** Kafka's protocol type for groups of consumers (the Java client, librdkafka, kafkajs, ...). */
export const CONSUMER_PROTOCOL_TYPE = "consumer";

/** The topics of a subscription, or null when the bytes are not a subscription. */
export function subscriptionTopics(metadata: Uint8Array): string[] | null {
  const reader = new Reader(Buffer.from(metadata.buffer, metadata.byteOffset, metadata.byteLength));
  try {
    if (reader.int16() < 0) return null;
    const count = reader.int32();
    // Each topic takes at least its 2-byte length: a larger count is malformed, whatever follows.
    if (count < 0 || count > reader.remaining / 2) return null;
    const topics: string[] = [];
    for (let i = 0; i < count; i++) topics.push(reader.string());
    return topics;
  } catch (err) {
    if (err instanceof ProtocolError) return null;
    throw err;
  }
}

/**
 * The topics the members of a consumer group are subscribed to under its selected protocol; null when
 * that cannot be told (no protocol selected yet, a member without the selected protocol, a subscription
 * that does not parse), which OffsetDelete takes as "subscribed to everything", as Kafka does.
 */
export function subscribedTopics(group: Group): Set<string> | null {
  const protocol = group.protocolName;
  if (protocol === null) return null;
  const topics = new Set<string>();
  for (const member of group.members.values()) {
    const selected = member.protocols.find((p) => p.name === protocol);
    const parsed = selected ? subscriptionTopics(selected.metadata) : null;
    if (parsed === null) return null;
    for (const t of parsed) topics.add(t);
  }
  return topics;
}

/** Partitions of one topic, by name, as the embedded protocol carries them. */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

export interface ConsumerSubscription {
  readonly version: number;
  readonly topics: readonly string[];
  /** v1+; empty before (an eager client owns nothing when it joins). */
  readonly ownedPartitions: readonly TopicPartitions[];
  /** v3+; null before. */
  readonly rackId: string | null;
}

function reader(bytes: Uint8Array): Reader {
  return new Reader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

function readTopicPartitions(r: Reader): TopicPartitions[] {
  const out: TopicPartitions[] = [];
  const n = r.arrayLength(6) ?? 0;
  for (let i = 0; i < n; i++) {
    const topic = r.string();
    const count = r.arrayLength(4) ?? 0;
    const partitions: number[] = [];
    for (let j = 0; j < count; j++) partitions.push(r.int32());
    out.push({ topic, partitions });
  }
  return out;
}

/** A ConsumerProtocolSubscription (any version; fields of later versions are left unread), or null. */
export function decodeSubscription(metadata: Uint8Array): ConsumerSubscription | null {
  const r = reader(metadata);
  try {
    const version = r.int16();
    if (version < 0) return null;
    const topics: string[] = [];
    const n = r.arrayLength(2) ?? 0;
    for (let i = 0; i < n; i++) topics.push(r.string());
    r.nullableBytes(); // user data
    const ownedPartitions = version >= 1 ? readTopicPartitions(r) : [];
    if (version >= 2) r.int32(); // generation id
    const rackId = version >= 3 ? r.nullableString() : null;
    return { version, topics, ownedPartitions, rackId };
  } catch (err) {
    if (err instanceof ProtocolError) return null;
    throw err;
  }
}

/** The partitions of a ConsumerProtocolAssignment; empty for no bytes (no assignment yet); null when malformed. */
export function decodeAssignment(bytes: Uint8Array): TopicPartitions[] | null {
  if (bytes.byteLength === 0) return [];
  const r = reader(bytes);
  try {
    if (r.int16() < 0) return null;
    return readTopicPartitions(r);
  } catch (err) {
    if (err instanceof ProtocolError) return null;
    throw err;
  }
}

/**
 * A ConsumerProtocolAssignment in `version` (the member's subscription version, as Kafka answers; the
 * layout is the same in v0–v3), without user data.
 */
export function encodeAssignment(version: number, partitions: readonly TopicPartitions[]): Uint8Array {
  const w = new Writer(64);
  w.int16(Math.max(0, Math.min(version, 3)));
  w.arrayLength(partitions.length);
  for (const t of partitions) {
    w.string(t.topic);
    w.arrayLength(t.partitions.length);
    for (const p of t.partitions) w.int32(p);
  }
  w.nullableBytes(null);
  return w.finishBuffer();
}

/** The version of a subscription (its first int16), 0 when unreadable. */
export function subscriptionVersion(metadata: Uint8Array): number {
  return metadata.byteLength >= 2 ? Math.max(0, Buffer.from(metadata).readInt16BE(0)) : 0;
}
