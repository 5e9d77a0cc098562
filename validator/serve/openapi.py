"""The OpenAPI 3.1 description of the service (served at /openapi.json).

Written out rather than generated: the JSON shapes are contracts (docs/DESIGN.md §3) and the
document says them once, where a reviewer reads them. A test validates it against the OpenAPI
schema and checks that it names every route the app has.
"""

from __future__ import annotations

import typing as t

from metadata import __version__

if t.TYPE_CHECKING:
    from validator.serve.app import ServeSettings

_AV = {"type": ["string", "null"], "enum": ["Server", "Client", "All", None]}
_NAME = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, t.Any], description: str) -> dict[str, t.Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, t.Any]:
    return _json(_ref("Error"), description)


def _query(
    name: str, description: str, *, required: bool = False, schema: dict[str, t.Any] | None = None
) -> dict[str, t.Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str, description: str) -> dict[str, t.Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


_MODE = {"type": "string", "enum": ["offline", "online", "mobile"], "default": "offline"}

SCHEMAS: dict[str, t.Any] = {
    "Source": {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {"type": "string", "enum": ["published", "org", "snapshot"]},
            "org": _NAME,
            "harvested_at": _NAME,
        },
    },
    "Verdict": {
        "description": "The `msgavail check --format json` object.",
        "type": "object",
        "required": [
            "message",
            "table",
            "secondary_table",
            "mode",
            "available",
            "offline",
            "online",
            "supported",
            "message_availability",
            "filter_availability",
            "reason",
            "source",
        ],
        "properties": {
            "message": {"type": "string"},
            "table": _NAME,
            "secondary_table": _NAME,
            "mode": {"type": "string"},
            "available": {"type": "boolean"},
            "offline": {"type": "boolean"},
            "online": {"type": "boolean"},
            "supported": {"type": "boolean"},
            "message_availability": _AV,
            "filter_availability": _AV,
            "reason": {"type": "string"},
            "source": _ref("Source"),
            "basis": {"type": "string"},
            "exceptions": {"type": "array", "items": {"type": "string"}},
            "determinate": {"type": "boolean"},
            "mobile": {"type": ["boolean", "null"]},
            "profile": _NAME,
        },
    },
    "Diagnostic": {
        "type": "object",
        "required": ["path", "line", "column", "operation", "code", "severity", "message"],
        "properties": {
            "path": {"type": "string"},
            "line": {"type": "integer", "minimum": 1},
            "column": {"type": "integer", "minimum": 1},
            "operation": {"type": "integer", "minimum": 0},
            "code": {"type": "string", "pattern": "^MA[0-9]{3}$"},
            "severity": {"type": "string", "enum": ["error", "warning"]},
            "message": {"type": "string"},
        },
    },
    "ReadFailure": {
        "type": "object",
        "required": ["path", "message", "text"],
        "properties": {
            "path": _NAME,
            "line": {"type": ["integer", "null"]},
            "column": {"type": ["integer", "null"]},
            "message": {"type": "string"},
            "text": {"type": "string", "description": "path:line:col: message, as the CLI says it"},
        },
    },
    "LintReport": {
        "description": "The `msgavail lint --format json` report; `failures` when the plan "
        "could not be read (status 422).",
        "type": "object",
        "required": ["version", "diagnostics", "summary"],
        "properties": {
            "version": {"const": 1},
            "diagnostics": {"type": "array", "items": _ref("Diagnostic")},
            "summary": {
                "type": "object",
                "required": ["files", "operations", "errors", "warnings"],
                "properties": {
                    k: {"type": "integer", "minimum": 0}
                    for k in ("files", "operations", "errors", "warnings")
                },
            },
            "failures": {"type": "array", "items": _ref("ReadFailure")},
        },
    },
    "MessageSummary": {
        "type": "object",
        "required": ["name", "availability", "offline", "online"],
        "properties": {
            "name": {"type": "string"},
            "availability": {"type": "string", "enum": ["Server", "Client", "All"]},
            "offline": {"type": "boolean"},
            "online": {"type": "boolean"},
            "is_private": {"type": "boolean"},
            "is_active": {"type": "boolean"},
            "category": _NAME,
        },
    },
    "MessageList": {
        "type": "object",
        "required": ["source", "messages"],
        "properties": {
            "source": _ref("Source"),
            "messages": {"type": "array", "items": _ref("MessageSummary")},
        },
    },
    "MessageDetail": {
        "allOf": [
            _ref("MessageSummary"),
            {
                "type": "object",
                "required": ["filters", "source"],
                "properties": {
                    "source": _ref("Source"),
                    "filters": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "primary_table": _NAME,
                                "secondary_table": _NAME,
                                "availability": {"type": "string"},
                                "offline": {"type": "boolean"},
                                "online": {"type": "boolean"},
                            },
                        },
                    },
                },
            },
        ]
    },
    "TableDetail": {
        "type": "object",
        "required": ["logical_name", "filters", "source"],
        "properties": {
            "logical_name": {"type": "string"},
            "schema_name": _NAME,
            "entity_set_name": _NAME,
            "primary_id_attribute": _NAME,
            "object_type_code": {"type": ["integer", "null"]},
            "ownership": _NAME,
            "is_custom": {"type": "boolean"},
            "is_available_offline": {"type": ["boolean", "null"]},
            "display_name": _NAME,
            "source": _ref("Source"),
            "filters": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "message": {"type": "string"},
                        "secondary_table": _NAME,
                        "message_availability": _AV,
                        "filter_availability": _AV,
                        "offline": {"type": "boolean"},
                        "online": {"type": "boolean"},
                    },
                },
            },
        },
    },
    "Snapshot": {
        "description": "The snapshot file (as `msgavail snapshot export` writes it).",
        "type": "object",
        "required": ["format", "format_version", "source", "messages", "filters", "tables"],
    },
    "Health": {
        "type": "object",
        "required": ["status", "source", "serving", "age_seconds"],
        "properties": {
            "status": {"const": "ok"},
            "version": {"type": "string"},
            "source": _ref("Source"),
            "serving": {"type": "string", "description": "which data, e.g. the harvest"},
            "harvested_at": _NAME,
            "age_seconds": {"type": ["number", "null"], "description": "age of the harvest"},
            "loaded_at": {"type": "string"},
            "last_refresh_check": _NAME,
            "refreshes": {"type": "integer"},
            "refresh_error": _NAME,
        },
    },
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "code", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "name": {"type": "string"},
                    "suggestions": {"type": "array", "items": {"type": "string"}},
                },
            }
        },
    },
}


def document(settings: ServeSettings | None = None) -> dict[str, t.Any]:
    limit = settings.max_body if settings is not None else None
    bad = _error("Bad parameters (unknown parameter, unknown mode, missing message)")
    lint_body = {
        "required": True,
        "description": "The plan: native JSON or YAML, an OData $batch body, or a SOAP "
        "ExecuteMultiple request" + (f" (at most {limit} bytes)" if limit else ""),
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
            "multipart/mixed": {"schema": {"type": "string"}},
            "application/xml": {"schema": {"type": "string"}},
            "text/xml": {"schema": {"type": "string"}},
        },
    }
    paths: dict[str, t.Any] = {
        "/v1/check": {
            "get": {
                "operationId": "check",
                "summary": "Does MESSAGE on TABLE work offline (or online)?",
                "parameters": [
                    _query("message", "Message name (case-insensitive)", required=True),
                    _query("table", "Primary table: logical, schema or entity set name, or alias"),
                    _query("secondary", "Secondary table"),
                    _query("mode", "Where the operation must run", schema=_MODE),
                    _query("profile", "Mobile offline profile (mode mobile)"),
                    _query(
                        "ownership",
                        "Ownership of a custom table the data does not describe",
                        schema={"type": "string", "enum": ["user", "organization"]},
                    ),
                ],
                "responses": {
                    "200": _json(_ref("Verdict"), "The verdict"),
                    "400": bad,
                    "404": _error("Unknown message or table, with suggestions"),
                },
            }
        },
        "/v1/lint": {
            "post": {
                "operationId": "lint",
                "summary": "Lint a planned operation batch",
                "parameters": [
                    _query("mode", "Where the operations must run", schema=_MODE),
                    _query(
                        "format",
                        "Plan format (default: from Content-Type)",
                        schema={"type": "string", "enum": ["json", "yaml", "batch", "soap"]},
                    ),
                    _query("path", "Name the plan carries in diagnostics (never opened)"),
                    _query("select", "Only these codes or prefixes (comma-separated)"),
                    _query("ignore", "Skip these codes or prefixes (comma-separated)"),
                    _query("profile", "Mobile offline profile (mode mobile)"),
                    _query(
                        "max_metadata_age",
                        'MA007 threshold: "30d", "12h", a number of days, or "off" (default 30d)',
                    ),
                ],
                "requestBody": lint_body,
                "responses": {
                    "200": {
                        "description": "The lint report (findings do not change the status)",
                        "content": {
                            "application/json": {"schema": _ref("LintReport")},
                            "application/sarif+json": {"schema": {"type": "object"}},
                        },
                    },
                    "400": bad,
                    "408": _error("The body was not received in time"),
                    "413": _error("The body is larger than the limit"),
                    "415": _error("The plan format cannot be told from Content-Type"),
                    "422": _json(
                        _ref("LintReport"), "The plan cannot be read: `failures` says where and why"
                    ),
                },
            }
        },
        "/v1/messages": {
            "get": {
                "operationId": "listMessages",
                "summary": "Every message and its SdkMessage.Availability",
                "responses": {"200": _json(_ref("MessageList"), "The messages")},
            }
        },
        "/v1/messages/{name}": {
            "get": {
                "operationId": "getMessage",
                "summary": "One message and its filters (tables) with their availability",
                "parameters": [_path("name", "Message name (case-insensitive)")],
                "responses": {
                    "200": _json(_ref("MessageDetail"), "The message"),
                    "404": _error("Unknown message, with suggestions"),
                },
            }
        },
        "/v1/tables/{name}": {
            "get": {
                "operationId": "getTable",
                "summary": "One table, the messages that apply to it and their availability",
                "parameters": [_path("name", "Logical, schema or entity set name, or alias")],
                "responses": {
                    "200": _json(_ref("TableDetail"), "The table"),
                    "404": _error("Unknown table, with suggestions"),
                },
            }
        },
        "/v1/snapshot": {
            "get": {
                "operationId": "getSnapshot",
                "summary": "The data being served, as a snapshot file",
                "parameters": [
                    {
                        "name": "If-None-Match",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string"},
                        "description": "An ETag from an earlier answer",
                    }
                ],
                "responses": {
                    "200": {
                        **_json(_ref("Snapshot"), "The snapshot file"),
                        "headers": {"ETag": {"schema": {"type": "string"}}},
                    },
                    "304": {"description": "Not modified (the ETag matches)"},
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Liveness, and which data (harvest) is served and its age",
                "responses": {"200": _json(_ref("Health"), "Serving")},
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document",
                "responses": {
                    "200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "msgavail",
            "version": __version__,
            "summary": "Where Dataverse messages run (server, offline client, both)",
            "description": "Read-only answers from the same engine, data and linter as the "
            "msgavail command line. Errors are JSON objects with an `error` member.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
