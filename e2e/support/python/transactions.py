"""
librdkafka's transactional producer (through confluent-kafka) and a read_committed reader.

    transactions.py produce BOOTSTRAP TOPIC PARTITIONS TRANSACTIONAL_ID PLAN
        PLAN: steps separated by commas, "commit:N" or "abort:N": N records spread over the partitions in
        one transaction, committed or aborted. Values are "<id>-<step>-<kind>-<i>". One JSON line per step:
        {"step": n, "ended": "commit"|"abort"}, then {"done": true}.
    transactions.py read BOOTSTRAP TOPIC ISOLATION IDLE_S
        Reads every partition from the beginning (isolation.level ISOLATION) until nothing arrives for
        IDLE_S seconds; one JSON line per record {"p": partition, "o": offset, "v": value}, then
        {"end": count}.
"""

from __future__ import annotations

import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

from jsonout import emit, error_name

TIMEOUT_S = 30.0


def produce(bootstrap: str, topic: str, partitions: int, transactional_id: str, plan: str) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(TIMEOUT_S)
    for step, spec in enumerate(plan.split(",")):
        kind, count = spec.split(":")
        producer.begin_transaction()
        for i in range(int(count)):
            producer.produce(topic, value=f"{transactional_id}-{step}-{kind}-{i}".encode(), partition=i % partitions)
        if kind == "commit":
            producer.commit_transaction(TIMEOUT_S)
        elif kind == "abort":
            producer.flush(TIMEOUT_S)
            producer.abort_transaction(TIMEOUT_S)
        else:
            raise SystemExit(f"unknown step {spec}")
        emit({"step": step, "ended": kind})
    emit({"done": True})


def read(bootstrap: str, topic: str, isolation: str, idle_s: float) -> None:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "python-transactions-reader-unused",
            "enable.auto.commit": False,
            "isolation.level": isolation,
            "enable.partition.eof": False,
        }
    )
    partitions = sorted(consumer.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    count = 0
    last = time.monotonic()
    while time.monotonic() - last < idle_s:
        for msg in consumer.consume(num_messages=1000, timeout=0.2):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    continue
                raise SystemExit(f"consume failed: {error_name(err)}")
            emit({"p": msg.partition(), "o": msg.offset(), "v": msg.value().decode()})
            count += 1
            last = time.monotonic()
    consumer.close()
    emit({"end": count})


def main(argv: list[str]) -> None:
    if argv[0] == "produce":
        produce(argv[1], argv[2], int(argv[3]), argv[4], argv[5])
    elif argv[0] == "read":
        read(argv[1], argv[2], argv[3], float(argv[4]))
    else:
        raise SystemExit(f"unknown mode {argv[0]}")


if __name__ == "__main__":
    main(sys.argv[1:])
