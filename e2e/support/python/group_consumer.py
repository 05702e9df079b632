"""
One member of a consumer group on TOPIC (classic protocol, or with PROTOCOL "consumer" the KIP-848
protocol; offsets committed synchronously after each batch it has printed, no auto-commit), run until a line "stop" (or the end of input) on stdin; then it
leaves the group. One JSON line per event:

    {"event": "assigned", "partitions": [...]}   {"event": "revoked", "partitions": [...]}
    {"event": "record", "p": partition, "o": offset, "v": value}
    {"event": "committed", "offsets": {"partition": next offset, ...}}
    {"event": "error", "error": name}            {"event": "closed"}

    group_consumer.py BOOTSTRAP GROUP TOPIC CLIENT_ID [PROTOCOL]
"""

from __future__ import annotations

import sys
import threading

from confluent_kafka import Consumer, KafkaError, TopicPartition

from jsonout import emit, error_name


def wait_for_stop(stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()


def partitions_of(tps: list[TopicPartition]) -> list[int]:
    return sorted(tp.partition for tp in tps)


def main(argv: list[str]) -> None:
    bootstrap, group, topic, client_id = argv[:4]
    protocol = argv[4] if len(argv) > 4 else "classic"
    config = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "client.id": client_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
    }
    if protocol == "consumer":
        # Session and heartbeat timing are the coordinator's with KIP-848 (librdkafka refuses them).
        config["group.protocol"] = "consumer"
    else:
        config["session.timeout.ms"] = 10000
        config["heartbeat.interval.ms"] = 500
    consumer = Consumer(config)
    stop = threading.Event()
    threading.Thread(target=wait_for_stop, args=(stop,), daemon=True).start()
    consumer.subscribe(
        [topic],
        on_assign=lambda _, tps: emit({"event": "assigned", "partitions": partitions_of(tps)}),
        on_revoke=lambda _, tps: emit({"event": "revoked", "partitions": partitions_of(tps)}),
    )
    while not stop.is_set():
        consumed = 0
        for msg in consumer.consume(num_messages=500, timeout=0.2):
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    emit({"event": "error", "error": error_name(err)})
                continue
            emit({"event": "record", "p": msg.partition(), "o": msg.offset(), "v": msg.value().decode()})
            consumed += 1
        if consumed > 0:
            committed = consumer.commit(asynchronous=False)
            offsets = {str(tp.partition): tp.offset for tp in committed if tp.offset >= 0}
            emit({"event": "committed", "offsets": offsets})
    consumer.close()
    emit({"event": "closed"})


if __name__ == "__main__":
    main(sys.argv[1:])
