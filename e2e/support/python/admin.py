"""
AdminClient calls against a bootstrap server, one per run; the result is one JSON line.

    admin.py BOOTSTRAP list-topics
    admin.py BOOTSTRAP create-topics NAME:PARTITIONS[:KEY=VALUE,...] ...
    admin.py BOOTSTRAP describe-configs TOPIC
    admin.py BOOTSTRAP alter-configs TOPIC KEY=VALUE ... (incremental SET; `KEY=` deletes)
    admin.py BOOTSTRAP list-groups
    admin.py BOOTSTRAP describe-groups GROUP ...
    admin.py BOOTSTRAP delete-topics NAME ...
    admin.py BOOTSTRAP group-offsets GROUP TOPIC (committed offsets and high watermarks)

Errors of a single topic or group are part of the result (by Kafka error name); anything else
fails the run.
"""

from __future__ import annotations

import sys
from concurrent.futures import Future
from typing import Any, Callable

from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from jsonout import emit, error_name

TIMEOUT_S = 30.0


def outcome(future: Future, describe: Callable[[Any], Any] = lambda _: None) -> dict[str, Any]:
    """{"ok": describe(result)} or {"error": name} for one topic's or group's future."""
    try:
        return {"ok": describe(future.result(timeout=TIMEOUT_S))}
    except Exception as err:  # per-item errors are part of the result
        return {"error": error_name(err)}


def list_topics(admin: AdminClient) -> dict[str, Any]:
    md = admin.list_topics(timeout=TIMEOUT_S)
    return {
        "clusterId": md.cluster_id,
        "controllerId": md.controller_id,
        "brokers": sorted(
            ({"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()), key=lambda b: b["id"]
        ),
        "topics": {
            name: {
                "partitions": sorted(t.partitions),
                "error": error_name(t.error) if t.error is not None else None,
            }
            for name, t in md.topics.items()
        },
    }


def create_topics(admin: AdminClient, specs: list[str]) -> dict[str, Any]:
    topics = []
    for spec in specs:
        name, partitions, *rest = spec.split(":", 2)
        config = dict(kv.split("=", 1) for kv in rest[0].split(",")) if rest else {}
        topics.append(NewTopic(name, num_partitions=int(partitions), config=config))
    futures = admin.create_topics(topics, operation_timeout=TIMEOUT_S, request_timeout=TIMEOUT_S)
    return {"created": {name: outcome(f) for name, f in futures.items()}}


def describe_configs(admin: AdminClient, topic: str) -> dict[str, Any]:
    [future] = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)]).values()
    return outcome(
        future,
        lambda entries: {
            name: {
                "value": e.value,
                "source": ConfigSource(e.source).name,
                "isDefault": e.is_default,
                "isReadOnly": e.is_read_only,
                "isSensitive": e.is_sensitive,
            }
            for name, e in entries.items()
        },
    )


def alter_configs(admin: AdminClient, topic: str, changes: list[str]) -> dict[str, Any]:
    entries = []
    for change in changes:
        key, value = change.split("=", 1)
        if value:
            entries.append(ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET))
        else:
            entries.append(ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE))
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=entries)
    [future] = admin.incremental_alter_configs([resource], request_timeout=TIMEOUT_S).values()
    return outcome(future)


def list_groups(admin: AdminClient) -> dict[str, Any]:
    result = admin.list_consumer_groups(request_timeout=TIMEOUT_S).result(timeout=TIMEOUT_S)
    return {
        "groups": sorted(
            (
                {"groupId": g.group_id, "state": g.state.name, "isSimple": g.is_simple_consumer_group}
                for g in result.valid
            ),
            key=lambda g: g["groupId"],
        ),
        "errors": [error_name(e) for e in result.errors],
    }


def describe_groups(admin: AdminClient, groups: list[str]) -> dict[str, Any]:
    futures = admin.describe_consumer_groups(groups, request_timeout=TIMEOUT_S)
    return {
        "groups": {
            group: outcome(
                f,
                lambda d: {
                    "state": d.state.name,
                    "isSimple": d.is_simple_consumer_group,
                    "assignor": d.partition_assignor,
                    "coordinator": d.coordinator.id,
                    "members": sorted(
                        (
                            {
                                "clientId": m.client_id,
                                "host": m.host,
                                "assignment": sorted(
                                    [tp.topic, tp.partition] for tp in m.assignment.topic_partitions
                                ),
                            }
                            for m in d.members
                        ),
                        key=lambda m: m["clientId"],
                    ),
                },
            )
            for group, f in futures.items()
        }
    }


def delete_topics(admin: AdminClient, names: list[str]) -> dict[str, Any]:
    futures = admin.delete_topics(names, operation_timeout=TIMEOUT_S, request_timeout=TIMEOUT_S)
    return {"deleted": {name: outcome(f) for name, f in futures.items()}}


def group_offsets(admin: AdminClient, group: str, topic: str) -> dict[str, Any]:
    partitions = sorted(admin.list_topics(topic, timeout=TIMEOUT_S).topics[topic].partitions)
    tps = [TopicPartition(topic, p) for p in partitions]
    [committed_future] = admin.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, tps)], request_timeout=TIMEOUT_S
    ).values()
    committed = {
        tp.partition: tp.offset for tp in committed_future.result(timeout=TIMEOUT_S).topic_partitions
    }
    latest = admin.list_offsets({tp: OffsetSpec.latest() for tp in tps}, request_timeout=TIMEOUT_S)
    high = {tp.partition: f.result(timeout=TIMEOUT_S).offset for tp, f in latest.items()}
    return {
        "committed": {str(p): committed[p] for p in partitions},
        "high": {str(p): high[p] for p in partitions},
    }


def main(argv: list[str]) -> None:
    bootstrap, command, *args = argv
    admin = AdminClient({"bootstrap.servers": bootstrap, "client.id": "python-admin"})
    if command == "list-topics":
        emit(list_topics(admin))
    elif command == "create-topics":
        emit(create_topics(admin, args))
    elif command == "describe-configs":
        emit(describe_configs(admin, args[0]))
    elif command == "alter-configs":
        emit(alter_configs(admin, args[0], args[1:]))
    elif command == "list-groups":
        emit(list_groups(admin))
    elif command == "describe-groups":
        emit(describe_groups(admin, args))
    elif command == "delete-topics":
        emit(delete_topics(admin, args))
    elif command == "group-offsets":
        emit(group_offsets(admin, args[0], args[1]))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
