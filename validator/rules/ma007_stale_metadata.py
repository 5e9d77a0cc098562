"""MA007 stale-metadata: the data is older than the configured maximum age (warning).

Decided by the linter once per file, on the file's first operation: the age is measured from
the data's ``harvested_at`` (an org harvest or a snapshot exported from one). The published
default is Microsoft's fixed table for Dynamics 365 9.0 and carries no harvest time, so it is
never stale; a snapshot without ``harvested_at`` is not either.
"""

from __future__ import annotations

from validator.rules.base import Rule

RULE = Rule(
    id="MA007",
    name="stale-metadata",
    severity="warning",
    summary="the data is older than the configured maximum age",
    description="The org harvest or snapshot was harvested longer ago than max-metadata-age "
    '(default 30 days; [tool.msgavail] max-metadata-age or --max-metadata-age, "off" to '
    "disable). Run `msgavail harvest --org URL` (or export a fresh snapshot). Reported once "
    "per file, on its first operation.",
    example="snapshot harvested 2026-01-01T00:00:00Z, linted 2026-03-01  ->  MA007 metadata "
    "harvested 59 days ago (2026-01-01T00:00:00Z) is older than the maximum age of 30 days",
)
