"""
A producer and a group consumer in one process, with the client settings given as JSON (security:
SASL/OAUTHBEARER with OIDC, TLS, ...), driven line by line on stdin until "stop" (or the end of
input). One JSON line per event:

    stdin "produce VALUE" -> {"event": "produced", "v": VALUE} once delivered (acks=all)
    {"event": "record", "v": value}              a record the consumer read
    {"event": "error", "error": name}            a client error (authentication included)
    {"event": "closed"}

    produce_consume.py BOOTSTRAP TOPIC GROUP CONFIG_JSON
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, Producer

from jsonout import emit, error_name


def read_commands(commands: queue.Queue[str]) -> None:
    for line in sys.stdin:
        commands.put(line.rstrip("\n"))
    commands.put("stop")


def main(argv: list[str]) -> None:
    bootstrap, topic, group, config_json = argv
    common: dict[str, Any] = {"bootstrap.servers": bootstrap, **json.loads(config_json)}

    def on_error(err: KafkaError) -> None:
        emit({"event": "error", "error": error_name(err)})

    producer = Producer({**common, "client.id": "python-oauth-producer", "acks": "all", "error_cb": on_error})
    consumer = Consumer(
        {
            **common,
            "client.id": "python-oauth-consumer",
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
            "error_cb": on_error,
        }
    )
    consumer.subscribe([topic])
    commands: queue.Queue[str] = queue.Queue()
    threading.Thread(target=read_commands, args=(commands,), daemon=True).start()

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is not None:
            emit({"event": "error", "error": error_name(err)})
        else:
            emit({"event": "produced", "v": msg.value().decode()})

    while True:
        try:
            command = commands.get_nowait()
        except queue.Empty:
            command = None
        if command == "stop":
            break
        if command is not None and command.startswith("produce "):
            producer.produce(topic, value=command[len("produce ") :], on_delivery=on_delivery)
        producer.poll(0)
        msg = consumer.poll(0.1)
        if msg is None:
            continue
        err = msg.error()
        if err is not None:
            if err.code() != KafkaError._PARTITION_EOF:
                emit({"event": "error", "error": error_name(err)})
            continue
        emit({"event": "record", "v": msg.value().decode()})
    producer.flush(30)
    consumer.close()
    emit({"event": "closed"})


if __name__ == "__main__":
    main(sys.argv[1:])
