"""The platform description that both renderings read."""

from __future__ import annotations

import json

from infra import openapi
from infra.platform import OPENAPI_FILE, PASSWORD_MIN_LENGTH, PLATFORM, PROTOCOL_ROUTES, routes
from onboarding.adapters import dynamo
from onboarding.domain import rules


def test_the_committed_openapi_document_is_what_the_resolvers_generate() -> None:
    assert OPENAPI_FILE.read_text(encoding="utf-8") == openapi.render(), "run `make openapi`"


def test_the_user_pools_password_minimum_is_the_apis_rule() -> None:
    assert PASSWORD_MIN_LENGTH == rules.PASSWORD_MIN_LENGTH


def test_table_layout_matches_the_layers_repositories() -> None:
    table = PLATFORM.table
    assert (table.partition_key, table.sort_key, table.ttl_attribute) == (
        dynamo.PK,
        dynamo.SK,
        dynamo.TTL_ATTRIBUTE,
    )
    assert [(i.name, i.partition_key, i.sort_key) for i in table.indexes] == [
        (dynamo.TOKEN_INDEX, dynamo.TOKEN_INDEX_KEY, None),
        (dynamo.REVIEW_INDEX, dynamo.REVIEW_INDEX_KEY, dynamo.REVIEW_INDEX_SORT_KEY),
    ]


def test_every_route_of_the_api_contract_sections_is_served() -> None:
    served = {(r.method, r.path) for r in routes()}
    contract = {
        ("POST", "/auth/signup"),
        ("POST", "/auth/activation/resend"),
        ("POST", "/auth/activation/check"),
        ("POST", "/auth/activation/complete"),
        ("GET", "/activate"),
        ("GET", "/auth/terms"),
        ("POST", "/auth/token"),
        ("POST", "/auth/token/refresh"),
        ("GET", "/me"),
        ("PATCH", "/me"),
        ("POST", "/me/terms"),
        ("GET", "/environment"),
        ("GET", "/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/auth/providers"),
        ("GET", "/auth/login/{provider}"),
        ("GET", "/auth/callback"),
        ("POST", "/auth/session"),
        ("GET", "/login"),
        ("GET", "/"),
    }
    assert contract <= served


def test_only_sign_up_login_and_documentation_are_public() -> None:
    public = {r.path for r in routes() if not r.secured}
    assert public == {
        "/auth/signup",
        "/auth/activation/resend",
        "/auth/activation/check",
        "/auth/activation/complete",
        "/activate",
        "/auth/terms",
        "/auth/token",
        "/auth/token/refresh",
        "/auth/providers",
        "/auth/login/{provider}",
        "/auth/callback",
        "/auth/session",
        "/login",
        "/",
        "/openapi.json",
        "/docs",
        *(r.path for r in PROTOCOL_ROUTES),
    }
    assert all(r.function == "federation" for r in PROTOCOL_ROUTES)


def test_every_operation_documents_its_errors_with_the_error_body() -> None:
    document = json.loads(OPENAPI_FILE.read_text())
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = {int(s) for s in operation["responses"]}
            assert any(200 <= s < 400 for s in statuses), (method, path)  # a redirect (302) succeeds too
            for status in statuses - set(range(200, 400)):
                schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
            if operation.get("security"):
                assert 401 in statuses, (method, path)
            if operation.get("requestBody"):
                assert {400, 413, 422} <= statuses, (method, path)
