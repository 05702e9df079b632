"""
An idempotent producer (enable.idempotence=true, acks=all) sending COUNT records to TOPIC: record i
has key "key-i", value "i" and goes to partition i % PARTITIONS. Prints one JSON line with the
delivery reports, per partition [value, offset] in the order they were reported, and the errors.

    produce.py BOOTSTRAP TOPIC COUNT PARTITIONS
"""

from __future__ import annotations

import sys
from typing import Any

from confluent_kafka import KafkaError, Message, Producer

from jsonout import emit, error_name

FLUSH_TIMEOUT_S = 120.0


def main(argv: list[str]) -> None:
    bootstrap, topic, count_text, partitions_text = argv
    count, partitions = int(count_text), int(partitions_text)
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "python-idempotent-producer",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
        }
    )
    delivered: dict[str, list[list[int]]] = {}
    errors: list[dict[str, Any]] = []

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        value = int(msg.value().decode())
        if err is not None:
            errors.append({"value": value, "error": error_name(err)})
        else:
            delivered.setdefault(str(msg.partition()), []).append([value, msg.offset()])

    for i in range(count):
        while True:
            try:
                producer.produce(
                    topic, key=f"key-{i}", value=str(i), partition=i % partitions, on_delivery=on_delivery
                )
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    undelivered = producer.flush(FLUSH_TIMEOUT_S)
    emit({"delivered": delivered, "errors": errors, "undelivered": undelivered})


if __name__ == "__main__":
    main(sys.argv[1:])
