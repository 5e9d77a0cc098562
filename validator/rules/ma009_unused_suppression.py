"""MA009 unused-suppression: an inline suppression that suppressed nothing (warning)."""

from __future__ import annotations

from validator.rules.base import Rule

RULE = Rule(
    id="MA009",
    name="unused-suppression",
    severity="warning",
    summary="an inline suppression suppressed nothing",
    description='A `# msgavail: ignore[...]` comment (YAML) or an "x-msgavail-ignore" field '
    "(JSON) names a code the operation does not have (any more). Remove it so it cannot hide "
    "a future finding. Decided by the linter after the other rules ran.",
    example='{"message": "Create", "table": "account", "x-msgavail-ignore": ["MA005"]}  ->  '
    "MA009 unused suppression: MA005",
)
