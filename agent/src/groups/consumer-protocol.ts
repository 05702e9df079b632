/**
 * What the coordinator reads of the "consumer" embedded protocol (Kafka's ConsumerProtocolSubscription,
 * carried opaquely in JoinGroup metadata): the subscribed topics, which OffsetDelete needs to refuse
 * deleting the offsets of a topic a group is consuming. As Kafka's coordinator does, only the prefix
 * every version shares is read (version int16, then the topics as an int32-counted array of int16-length
 * strings), so later versions of the subscription need no change here.
 */
import { ProtocolError } from "../protocol/codec/errors.js";
import { Reader } from "../protocol/codec/reader.js";
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
