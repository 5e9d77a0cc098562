"""JUnit XML: one test suite per linted file, one failing test case per finding.

A clean file gets one passing case, so CI test tabs show what was checked.
"""

from __future__ import annotations

import collections
import typing as t
import xml.etree.ElementTree as ET

from validator.linter.diagnostics import Diagnostic, LintResult
from validator.reporters.base import ReportContext, relative


def render(result: LintResult, ctx: ReportContext) -> str:
    by_file: dict[str, list[Diagnostic]] = collections.defaultdict(list)
    for d in result.diagnostics:
        by_file[d.path].append(d)
    root = ET.Element(
        "testsuites",
        name="msgavail",
        tests=str(max(len(result.diagnostics), 1)),
        failures=str(len(result.diagnostics)),
        errors="0",
    )
    if not by_file:
        suite = ET.SubElement(root, "testsuite", name="msgavail", tests="1", failures="0",
                              errors="0")  # fmt: skip
        ET.SubElement(
            suite, "testcase", name=f"{result.operations} operations", classname="msgavail"
        )
    for path, diags in by_file.items():
        rel = relative(path, ctx.root)
        suite = ET.SubElement(root, "testsuite", name=rel, tests=str(len(diags)),
                              failures=str(len(diags)), errors="0")  # fmt: skip
        for d in diags:
            case = ET.SubElement(
                suite, "testcase", name=f"{d.code} operation {d.operation + 1}",
                classname=rel, file=rel, line=str(d.line),
            )  # fmt: skip
            failure = ET.SubElement(
                case, "failure", message=f"{d.code} {d.message}", type=d.severity
            )
            failure.text = f"{rel}:{d.line}:{d.column}: {d.code} {d.message}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    out.write(render(result, ctx))
