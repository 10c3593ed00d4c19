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
        (dynamo.OUTBOX_INDEX, dynamo.OUTBOX_INDEX_KEY, dynamo.OUTBOX_INDEX_SORT_KEY),
        (dynamo.EMAIL_DOMAIN_INDEX, dynamo.EMAIL_DOMAIN_INDEX_KEY, None),
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
        ("GET", "/t/{tenant}/login"),
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
        "/t/{tenant}/login",
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


def test_the_peppol_routes_are_served_by_the_peppol_function() -> None:
    served = {(r.method, r.path): r.function for r in routes()}
    contract = {
        ("GET", "/organisations/{organisation_id}/peppol"),
        ("PUT", "/organisations/{organisation_id}/peppol/{participant_id}"),
        ("GET", "/peppol/jobs/{job_id}"),
        ("POST", "/organisations/{organisation_id}/peppol/{participant_id}/migration-key"),
        ("POST", "/organisations/{organisation_id}/peppol/{participant_id}/migration"),
        ("POST", "/admin/peppol/jobs/{job_id}/retry"),
    }
    assert {route: served.get(route) for route in contract} == dict.fromkeys(contract, "peppol")


def test_the_worker_and_the_sweeper_serve_no_route_and_start_from_their_queue_and_schedule() -> None:
    from infra.platform import function, queue

    worker, sweeper = function("peppol-worker"), function("peppol-sweeper")
    assert worker.app is None and sweeper.app is None
    assert {r.function for r in routes()} >= {"auth", "organisations", "peppol"}
    assert not {"peppol-worker", "peppol-sweeper"} & {r.function for r in routes()}
    assert worker.queue_source is not None and worker.queue_source.queue == "peppol-registrations"
    registrations = queue("peppol-registrations")
    assert registrations.fifo and registrations.max_receive_count >= 5
    assert registrations.visibility_timeout_seconds >= 6 * worker.timeout_seconds
    assert 2 <= worker.queue_source.max_concurrency <= 10
    assert sweeper.schedule_minutes == 1 and sweeper.sends_to_queues == ("peppol-registrations",)
    assert worker.sends_to_queues == ()  # it never sends: only the API and the sweeper do


def test_the_functions_know_the_queue_they_consume_and_its_watchdog() -> None:
    from infra.platform import Resources, function_environment

    resources = Resources(
        public_url="https://app.example",
        table_name="t",
        user_pool_id="p",
        api_client_id="c",
        mail_sender="m@example.org",
        queue_urls={"peppol-registrations": "https://sqs/q.fifo"},
        secret_arns={"smp-credentials": "arn:secret:smp"},
    )
    environment = function_environment(resources)
    assert environment["PEPPOL_MAX_RECEIVE_COUNT"] == "5"
    assert environment["PEPPOL_WATCHDOG_SECONDS"] == str(360 * 6)
    assert environment["SMP_CREDENTIALS_SECRET_ARN"] == "arn:secret:smp"
    local = function_environment(
        Resources(**{**resources.__dict__, "queue_visibility_seconds": {"peppol-registrations": 10}})
    )
    assert local["PEPPOL_WATCHDOG_SECONDS"] == "60"


def test_the_settings_default_sml_zone_is_the_test_sml() -> None:
    from onboarding.domain.peppol import SML_ZONE_TEST
    from onboarding.settings import SmlSettings

    assert SmlSettings().zone == SML_ZONE_TEST
