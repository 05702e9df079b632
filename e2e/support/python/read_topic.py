"""
Reads every partition of TOPIC from the beginning up to the high watermark it had at the start,
without a consumer group; one JSON line per record: {"p": partition, "o": offset, "k": key, "v": value}.

    read_topic.py BOOTSTRAP TOPIC
"""

from __future__ import annotations

import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from jsonout import emit, error_name

TIMEOUT_S = 30.0


def main(argv: list[str]) -> None:
    bootstrap, topic = argv
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "python-reader",
            "group.id": "python-reader-unused",
            "enable.auto.commit": False,
        }
    )
    partitions = sorted(consumer.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions)
    # Where each partition ends now; those still to read are the ones whose next offset is short of it.
    ends = {
        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S)[1] for p in partitions
    }
    next_offset = {p: 0 for p in partitions}
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    while any(next_offset[p] < ends[p] for p in partitions):
        for msg in consumer.consume(num_messages=1000, timeout=1.0):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise SystemExit(f"consume failed: {error_name(err)}")
            key = msg.key()
            emit(
                {
                    "p": msg.partition(),
                    "o": msg.offset(),
                    "k": key.decode() if key is not None else None,
                    "v": msg.value().decode(),
                }
            )
            next_offset[msg.partition()] = msg.offset() + 1
    consumer.close()


if __name__ == "__main__":
    main(sys.argv[1:])
