"""Regenerate metadata/data/published-v9.json from fixtures/published-v9/*.csv.

Run from the repository root:  python scripts/build_published_default.py
tests/unit/test_published.py fails when the shipped file and this script's output differ.
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from metadata import published  # noqa: E402
from metadata.fsutil import atomic_write_text  # noqa: E402

SOURCE_DIR = os.path.join(ROOT, "fixtures", "published-v9")


def generate() -> str:
    snapshot = published.build_from_csv(
        os.path.join(SOURCE_DIR, "default-entities.csv"),
        os.path.join(SOURCE_DIR, "custom-entities.csv"),
    )
    return published.render(snapshot)


def main() -> int:
    atomic_write_text(published.DATA_PATH, generate())
    print(f"wrote {os.path.relpath(published.DATA_PATH, ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
