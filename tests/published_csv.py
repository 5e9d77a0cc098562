"""Independent reading of the published CSV tables, for tests that check the engine against them.

Deliberately does not use metadata.published: the expected answers must come from the source.
"""

from __future__ import annotations

import csv
import os
import typing as t

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_DIR = os.path.join(ROOT, "fixtures", "published-v9")
DEFAULT_CSV = os.path.join(SOURCE_DIR, "default-entities.csv")
CUSTOM_CSV = os.path.join(SOURCE_DIR, "custom-entities.csv")

OFFLINE_VALUES = {"Both", "Client"}
ONLINE_VALUES = {"Both", "Server"}


class Row(t.NamedTuple):
    message: str
    primary: str
    secondary: str
    message_availability: str
    entity_deployment: str

    @property
    def offline(self) -> bool:
        return (
            self.message_availability in OFFLINE_VALUES and self.entity_deployment in OFFLINE_VALUES
        )

    @property
    def online(self) -> bool:
        return (
            self.message_availability in ONLINE_VALUES and self.entity_deployment in ONLINE_VALUES
        )


def rows() -> list[Row]:
    with open(DEFAULT_CSV, newline="", encoding="utf-8") as fh:
        return [
            Row(
                r["message"],
                r["primary_entity"],
                r["secondary_entity"],
                r["message_availability"],
                r["entity_deployment"],
            )
            for r in csv.DictReader(fh)
        ]
