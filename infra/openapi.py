"""Generates the platform's OpenAPI document from the functions' resolvers.

    python -m infra.openapi          # write the document
    python -m infra.openapi --check  # fail if the committed document is stale

Each operation gets ``x-function``: the function that serves it. The CDK app and the local
runner build their routes from this document, so a route is written once, in its resolver.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

from infra.platform import LAYER_SOURCE, OPENAPI_FILE, PLATFORM, ROOT

TITLE = "Peppol onboarding API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Sign up, log in, add organisations and register them on Peppol. Signed-in routes take "
    "`Authorization: Bearer <Cognito ID token>`. Every error has the body "
    '`{"error": {"code", "message", "details"}}`.'
)


def generate() -> dict[str, Any]:
    # Importing the resolvers reads no settings, but keep the environment harmless anyway.
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "PeppolOnboarding")
    for path in (str(LAYER_SOURCE), *(str(f.source) for f in PLATFORM.functions)):
        if path not in sys.path:
            sys.path.insert(0, path)
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    merged: dict[str, Any] = {}
    for function in PLATFORM.functions:
        if function.app is None:  # no routes: a queue's or a schedule's function
            continue
        module_name, _, attribute = function.app.partition(":")
        app = getattr(importlib.import_module(module_name), attribute)
        schema = json.loads(
            app.get_openapi_json_schema(
                title=TITLE,
                version=VERSION,
                description=DESCRIPTION,
                security_schemes={"cognito": HTTPBearer(bearerFormat="JWT", description="Cognito ID token")},
            )
        )
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["x-function"] = function.name
        if not merged:
            merged = schema
            continue
        merged["paths"].update(schema["paths"])
        merged.setdefault("components", {}).setdefault("schemas", {}).update(
            schema.get("components", {}).get("schemas", {})
        )
    merged["paths"] = dict(sorted(merged["paths"].items()))
    _use_error_body(merged)
    return merged


def _use_error_body(document: dict[str, Any]) -> None:
    """Powertools documents its own 422 body on every route; ours answer with the platform's
    error body, and a route without input cannot fail validation at all."""
    error_ref = {"$ref": "#/components/schemas/ErrorBody"}
    for operations in document["paths"].values():
        for operation in operations.values():
            # A 204 has no body; Powertools documents its `Response[None]` as JSON null.
            operation["responses"].get("204", {}).pop("content", None)
            # A redirect has no body either, only where it goes.
            if "302" in operation["responses"]:
                operation["responses"]["302"].pop("content", None)
                operation["responses"]["302"]["headers"] = {
                    "Location": {"description": "Where the browser goes next", "schema": {"type": "string"}}
                }
            response = operation["responses"].get("422")
            if response is None or "HTTPValidationError" not in json.dumps(response):
                continue
            if operation.get("requestBody") or operation.get("parameters"):
                operation["responses"]["422"] = {
                    "description": "Validation failed: one details entry per problem",
                    "content": {"application/json": {"schema": error_ref}},
                }
            else:
                del operation["responses"]["422"]
    text = json.dumps(document["paths"])
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f'/{unused}"' not in text:
            schemas.pop(unused, None)


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OPENAPI_FILE.read_text(encoding="utf-8") if OPENAPI_FILE.exists() else ""
        if current != text:
            print(f"{OPENAPI_FILE.relative_to(ROOT)} is stale: run `make openapi`")
            return 1
        return 0
    OPENAPI_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
