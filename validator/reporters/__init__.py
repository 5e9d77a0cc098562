"""Reporters: a registry of functions rendering a LintResult as text for one audience.

``REPORTERS[name](result, ReportContext(...)) -> str``; the CLI picks one by ``--format`` (or
github under ``GITHUB_ACTIONS=true``, azure under ``TF_BUILD``) and writes it.
"""

from __future__ import annotations

import os
import typing as t

from validator.reporters import azure, github, json_, junit, sarif, text
from validator.reporters.base import ReportContext, Reporter, relative

REPORTERS: t.Mapping[str, Reporter] = {
    "text": text.render,
    "json": json_.render,
    "sarif": sarif.render,
    "github": github.render,
    "azure": azure.render,
    "junit": junit.render,
}
FORMATS: tuple[str, ...] = tuple(REPORTERS)


def default_format(environ: t.Mapping[str, str] | None = None) -> str:
    """github inside GitHub Actions, azure inside Azure Pipelines, else text."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        return "github"
    if env.get("TF_BUILD", "").lower() == "true":
        return "azure"
    return "text"


__all__ = ["FORMATS", "REPORTERS", "ReportContext", "Reporter", "default_format", "relative"]
