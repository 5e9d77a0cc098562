"""SARIF 2.1.0 for GitHub code scanning: every rule with help, repo-relative paths.

GitHub requires ``rules`` and relative artifact URIs; a clean run still writes ``results: []``.
Findings carry a partial fingerprint (code, file, operation index, message) so code scanning can
follow an alert across commits.
"""

from __future__ import annotations

import hashlib
import json
import typing as t

from validator.linter.diagnostics import LintResult
from validator.reporters.base import ReportContext, relative

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/msgavail/"
_LEVEL = {"error": "error", "warning": "warning"}


def _sentence(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."


def _rule(rule: t.Any) -> dict[str, t.Any]:
    help_text = f"{rule.description}\n\nExample: {rule.example}"
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.name.split("-")),
        "shortDescription": {"text": _sentence(rule.summary)},
        "fullDescription": {"text": _sentence(rule.description)},
        "help": {
            "text": help_text,
            "markdown": f"**{rule.id} {rule.name}**: {rule.description}\n\n"
            f"Example:\n\n```\n{rule.example}\n```",
        },
        "helpUri": f"{INFORMATION_URI}#{rule.id.lower()}",
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": ["dataverse", "availability"],
            "precision": "very-high",
            "problem.severity": rule.severity,
        },
    }


def render(result: LintResult, ctx: ReportContext) -> str:
    rules = list(ctx.rules.values())
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for d in result.diagnostics:
        uri = relative(d.path, ctx.root)
        fingerprint = hashlib.sha256(
            f"{d.code}\0{uri}\0{d.operation}\0{d.message}".encode()
        ).hexdigest()
        results.append(
            {
                "ruleId": d.code,
                "ruleIndex": index[d.code],
                "level": _LEVEL[d.severity],
                "message": {"text": _sentence(d.message)},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {"startLine": d.line, "startColumn": d.column},
                        }
                    }
                ],
                "partialFingerprints": {"msgavailOperation/v1": fingerprint},
            }
        )
    doc = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "msgavail",
                        "version": ctx.version,
                        "semanticVersion": ctx.version,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "automationDetails": {"id": f"msgavail/{ctx.mode}/"},
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
