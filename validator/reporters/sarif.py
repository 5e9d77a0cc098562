"""SARIF 2.1.0 for GitHub code scanning: every rule with help, repo-relative paths.

GitHub requires ``rules`` and relative artifact URIs; a clean run still writes ``results: []``.
Files that could not be read are ``toolExecutionNotifications`` of the run's invocation, with
``executionSuccessful: false``, so a consumer never takes an unread file for a clean one. The
results are written one at a time (memory: the findings, not the document).
Findings carry a partial fingerprint (code, file, operation index, message) so code scanning can
follow an alert across commits.
"""

from __future__ import annotations

import hashlib
import json
import typing as t

from metadata.errors import PlanError
from validator.linter.diagnostics import Diagnostic, LintResult
from validator.reporters.base import ReportContext, relative, write_list

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/msgavail/"
_LEVEL = {"error": "error", "warning": "warning"}
_SLOT = "\0results\0"


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


def _result(d: Diagnostic, uri: str, index: t.Mapping[str, int]) -> dict[str, t.Any]:
    fingerprint = hashlib.sha256(
        f"{d.code}\0{uri}\0{d.operation}\0{d.message}".encode()
    ).hexdigest()
    return {
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


def _notification(exc: PlanError, root: str) -> dict[str, t.Any]:
    """A file that could not be read: the run did not check it (SARIF §3.58)."""
    note: dict[str, t.Any] = {"level": "error", "message": {"text": _sentence(str(exc))}}
    if exc.path:
        region = {"startLine": exc.line} if exc.line else {}
        if exc.line and exc.column:
            region["startColumn"] = exc.column
        location: dict[str, t.Any] = {"artifactLocation": {"uri": relative(exc.path, root)}}
        if region:
            location["region"] = region
        note["locations"] = [{"physicalLocation": location}]
    return note


def _uris(root: str) -> t.Callable[[str], str]:
    cache: dict[str, str] = {}

    def uri(path: str) -> str:
        found = cache.get(path)
        if found is None:
            found = cache[path] = relative(path, root)
        return found

    return uri


def write(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    rules = list(ctx.rule_table().values())
    index = {r.id: i for i, r in enumerate(rules)}
    uri = _uris(ctx.root)
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
                "invocations": [
                    {
                        "executionSuccessful": not result.failures,
                        "toolExecutionNotifications": [
                            _notification(f, ctx.root) for f in result.failures
                        ],
                    }
                ],
                "results": _SLOT,
            }
        ],
    }
    head, tail = json.dumps(doc, indent=2).split(json.dumps(_SLOT))
    out.write(head)
    write_list(out, (_result(d, uri(d.path), index) for d in result.diagnostics), depth=3)
    out.write(tail)
    out.write("\n")
