"""What the scripts in this folder share: one JSON object per line on stdout, and Kafka errors by name."""

from __future__ import annotations

import json
import sys
from typing import Any

from confluent_kafka import KafkaError, KafkaException


def emit(obj: dict[str, Any]) -> None:
    """Prints `obj` as one JSON line and flushes, so a reader sees it at once."""
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def error_name(err: BaseException | KafkaError) -> str:
    """The Kafka error code's name (e.g. TOPIC_ALREADY_EXISTS) of an error, or its text."""
    if isinstance(err, KafkaError):
        return err.name()
    if isinstance(err, KafkaException) and err.args and isinstance(err.args[0], KafkaError):
        return err.args[0].name()
    return f"{type(err).__name__}: {err}"
