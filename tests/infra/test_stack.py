"""The synthesized platform stack: what ops deploy with `make deploy`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match

from infra.platform import ROOT, SECRETS, routes


def _resources(synthesized: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in synthesized["json"]["Resources"].items() if v["Type"] == kind}


def test_cdk_nag_passes_with_every_acknowledgement_on_its_resource(synthesized: dict[str, Any]) -> None:
    report = (
        json.loads((synthesized["outdir"] / "validation-report.json").read_text())
        if (synthesized["outdir"] / "validation-report.json").exists()
        else None
    )
    if report is not None:
        for plugin in report["pluginReports"]:
            assert plugin["conclusion"] == "success", plugin.get("violations")
            for suppressed in plugin.get("suppressedViolations", []):
                assert len(suppressed["reason"]) > 20, suppressed["ruleName"]
                assert suppressed["acknowledgedAt"] != "PeppolOnboarding-dev", "acknowledge per resource"


def test_cfn_lint_finds_no_error(synthesized: dict[str, Any]) -> None:
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", "W3005", "--", str(synthesized["file"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_table_has_keys_gsi_ttl_and_point_in_time_recovery(synthesized: dict[str, Any]) -> None:
    synthesized["template"].has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_ttl", "Enabled": True},
            "GlobalSecondaryIndexes": Match.array_with([Match.object_like({"IndexName": "by_token_hash"})]),
            "Replicas": [
                Match.object_like({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})
            ],
        },
    )


def test_user_pool_has_no_self_sign_up_and_the_apis_password_rule(synthesized: dict[str, Any]) -> None:
    synthesized["template"].has_resource_properties(
        "AWS::Cognito::UserPool",
        {
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": True},
            "UsernameConfiguration": {"CaseSensitive": False},
            "Policies": {
                "PasswordPolicy": Match.object_like(
                    {
                        "MinimumLength": 12,
                        "RequireLowercase": False,
                        "RequireUppercase": False,
                        "RequireNumbers": False,
                        "RequireSymbols": False,
                    }
                )
            },
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]},
        },
    )
    synthesized["template"].has_resource_properties(
        "AWS::Cognito::UserPoolClient",
        {
            "ExplicitAuthFlows": Match.array_with(["ALLOW_ADMIN_USER_PASSWORD_AUTH"]),
            "PreventUserExistenceErrors": "ENABLED",
            "GenerateSecret": False,
            "EnableTokenRevocation": True,
        },
    )
    # The API's client writes no attribute: tenant, role and terms live in DynamoDB. (The
    # hosted login's client: tests/infra/test_federation_stack.py.)
    [client] = [
        c
        for c in _resources(synthesized, "AWS::Cognito::UserPoolClient").values()
        if c["Properties"]["ClientName"] == "api"
    ]
    assert client["Properties"].get("WriteAttributes", []) == []
    synthesized["template"].resource_count_is("AWS::Cognito::UserPoolDomain", 1)
    synthesized["template"].has_resource_properties("AWS::Cognito::UserPoolGroup", {"GroupName": "operators"})


def test_every_route_exists_with_the_right_authorization(synthesized: dict[str, Any]) -> None:
    methods = _resources(synthesized, "AWS::ApiGateway::Method")
    by_type: dict[str, int] = {}
    for method in methods.values():
        props = method["Properties"]
        by_type[props["AuthorizationType"]] = by_type.get(props["AuthorizationType"], 0) + 1
        if props["AuthorizationType"] == "COGNITO_USER_POOLS":
            assert props["HttpMethod"] in {"GET", "PATCH", "POST", "PUT", "DELETE"}
    assert by_type["COGNITO_USER_POOLS"] == sum(1 for r in routes() if r.secured)
    lambda_methods = [
        m for m in methods.values() if m["Properties"]["Integration"].get("Type") == "AWS_PROXY"
    ]
    assert len(lambda_methods) == len(routes())
    synthesized["template"].has_resource_properties(
        "AWS::ApiGateway::Authorizer",
        {"Type": "COGNITO_USER_POOLS", "IdentitySource": "method.request.header.Authorization"},
    )


def test_wrong_methods_get_405_from_a_mock(synthesized: dict[str, Any]) -> None:
    mocks = [
        m
        for m in _resources(synthesized, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] == "ANY"
    ]
    assert len(mocks) == len({r.path for r in routes()})
    for mock in mocks:
        response = mock["Properties"]["Integration"]["IntegrationResponses"][0]
        assert response["StatusCode"] == "405"
        assert "method_not_allowed" in response["ResponseTemplates"]["application/json"]
        content_type = response["ResponseParameters"]["method.response.header.Content-Type"]
        assert content_type == "'application/json; charset=utf-8'"


def test_gateway_answers_use_the_error_shape_and_an_unknown_path_is_404(synthesized: dict[str, Any]) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in _resources(synthesized, "AWS::ApiGateway::GatewayResponse").values()
    }
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    assert responses["UNAUTHORIZED"]["StatusCode"] == "401"
    assert responses["REQUEST_TOO_LARGE"]["StatusCode"] == "413"
    assert responses["THROTTLED"]["StatusCode"] == "429"
    for props in responses.values():
        body = props["ResponseTemplates"]["application/json"]
        assert body.startswith('{"error": {"code": "') and '"details": []' in body
        content_type = props["ResponseParameters"]["gatewayresponse.header.Content-Type"]
        assert content_type == "'application/json; charset=utf-8'"


def test_stage_throttles_logs_and_tightens_sign_up(synthesized: dict[str, Any]) -> None:
    [stage] = _resources(synthesized, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["AccessLogSetting"]["DestinationArn"]
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in props["MethodSettings"]}
    assert (
        settings[("*", "/*")]["ThrottlingRateLimit"] == 50 and settings[("*", "/*")]["LoggingLevel"] == "INFO"
    )
    assert settings[("POST", "/~1auth~1signup")]["ThrottlingRateLimit"] == 2


def test_functions_run_python_312_on_arm_with_the_layer_and_json_logs(synthesized: dict[str, Any]) -> None:
    synthesized["template"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Handler": "auth_api.handler.lambda_handler",
            "Layers": Match.any_value(),
            "LoggingConfig": Match.object_like({"LogFormat": "JSON"}),
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "TABLE_NAME": Match.any_value(),
                        "IDENTITY_USER_POOL_ID": Match.any_value(),
                        "IDENTITY_OPERATORS_GROUP": "operators",
                        "MAIL_SENDER": "no-reply@dev.example.org",
                        "CORS_ALLOWED_ORIGINS": "http://localhost:5173",
                        "CORS_ALLOWED_HEADERS": "Authorization,Content-Type,Idempotency-Key,Accept-Language",
                        "KVK_BASE_URL": "https://api.kvk.nl/test",
                        "TERMS_URL": "https://example.org/terms/2026-01",  # the stage's terms_url
                    }
                )
            },
        },
    )


def test_the_auth_function_may_do_exactly_what_it_needs(synthesized: dict[str, Any]) -> None:
    policies = _resources(synthesized, "AWS::IAM::Policy")
    statements = [s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]]
    actions = {
        a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert "dynamodb:Scan" not in actions and "dynamodb:*" not in actions
    assert {"cognito-idp:AdminCreateUser", "cognito-idp:AdminInitiateAuth", "ses:SendEmail"} <= actions
    for statement in statements:
        resources = (
            statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        )
        assert "*" not in resources, statement
    roles = _resources(synthesized, "AWS::IAM::Role")
    lambda_roles = [
        r
        for r in roles.values()
        if "lambda.amazonaws.com" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert lambda_roles and all("ManagedPolicyArns" not in r["Properties"] for r in lambda_roles)


def test_queue_has_a_dead_letter_queue_with_encryption_tls_and_an_alarm(synthesized: dict[str, Any]) -> None:
    queues = _resources(synthesized, "AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])
    assert main["Properties"]["RedrivePolicy"]["maxReceiveCount"] == 5
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values())
    synthesized["template"].resource_count_is("AWS::SQS::QueuePolicy", 2)
    alarms = _resources(synthesized, "AWS::CloudWatch::Alarm")
    assert any(a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible" for a in alarms.values())


def test_mail_identity_and_configuration_set(synthesized: dict[str, Any]) -> None:
    synthesized["template"].has_resource_properties(
        "AWS::SES::EmailIdentity", {"EmailIdentity": "dev.example.org"}
    )
    synthesized["template"].has_resource_properties(
        "AWS::SES::ConfigurationSet", {"SuppressionOptions": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]}}
    )


def test_outputs_for_scripts(synthesized: dict[str, Any]) -> None:
    assert {"ApiUrl", "UserPoolId", "ApiClientId", "TableName", "PeppolQueueUrl"} <= set(
        synthesized["json"]["Outputs"]
    )


def _role_statements(synthesized: dict[str, Any], function_name: str) -> list[dict[str, Any]]:
    functions = _resources(synthesized, "AWS::Lambda::Function")
    [function] = [
        f for f in functions.values() if f["Properties"]["FunctionName"].endswith(f"-{function_name}")
    ]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p
        for p in _resources(synthesized, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_the_organisations_function_sends_to_the_queue_and_reads_the_kvk_key(
    synthesized: dict[str, Any],
) -> None:
    organisations = _actions(_role_statements(synthesized, "organisations"))
    auth = _actions(_role_statements(synthesized, "auth"))
    assert {"sqs:SendMessage", "secretsmanager:GetSecretValue"} <= organisations
    assert not {"sqs:SendMessage", "secretsmanager:GetSecretValue"} & auth
    assert not any(a.startswith(("cognito-idp:", "ses:")) for a in organisations)


def test_the_kvk_key_is_a_secret_and_the_functions_know_where_the_kvk_is(synthesized: dict[str, Any]) -> None:
    # Every secret of the description and no other (dev offers every login provider).
    names = {s["Properties"]["Name"] for s in _resources(synthesized, "AWS::SecretsManager::Secret").values()}
    assert names == {f"peppol-onboarding-dev-{name}" for name in SECRETS}
    synthesized["template"].has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "organisations_api.handler.lambda_handler",
            "Timeout": 20,
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "KVK_BASE_URL": "https://api.kvk.nl/test",
                        "KVK_API_KEY_SECRET_ARN": {"Ref": Match.any_value()},
                        "VIES_BASE_URL": Match.string_like_regexp("^https://ec.europa.eu/"),
                        "PLAN_FREE_ORGANISATIONS": "2",
                    }
                )
            },
        },
    )
    variables = json.dumps(synthesized["json"])
    assert 'KVK_API_KEY"' not in variables  # the key itself is never in the template


def test_the_review_queue_index_is_sorted_by_request_time(synthesized: dict[str, Any]) -> None:
    synthesized["template"].has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "GlobalSecondaryIndexes": Match.array_with(
                [
                    {
                        "IndexName": "by_review_queue",
                        "KeySchema": [
                            {"AttributeName": "review_queue", "KeyType": "HASH"},
                            {"AttributeName": "requested_at", "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                ]
            ),
        },
    )


# --- Peppol registration ---------------------------------------------------------------------------
def _function(synthesized: dict[str, Any], name: str) -> dict[str, Any]:
    functions = _resources(synthesized, "AWS::Lambda::Function")
    [found] = [f for f in functions.values() if f["Properties"]["FunctionName"].endswith(f"-{name}")]
    return found


def _logical_id(synthesized: dict[str, Any], resource: dict[str, Any]) -> str:
    return next(k for k, v in synthesized["json"]["Resources"].items() if v is resource)


def _queues(synthesized: dict[str, Any]) -> tuple[tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]:
    queues = _resources(synthesized, "AWS::SQS::Queue")
    main = next((k, q) for k, q in queues.items() if "RedrivePolicy" in q["Properties"])
    dlq = next((k, q) for k, q in queues.items() if "RedrivePolicy" not in q["Properties"])
    return main, dlq


def test_the_registration_queue_is_fifo_with_a_fifo_dead_letter_queue_and_long_enough_visibility(
    synthesized: dict[str, Any],
) -> None:
    (_, main), (dlq_id, dlq) = _queues(synthesized)
    worker = _function(synthesized, "peppol-worker")["Properties"]
    assert (
        main["Properties"]["FifoQueue"] is True and main["Properties"]["ContentBasedDeduplication"] is False
    )
    assert main["Properties"]["QueueName"].endswith("peppol-registrations.fifo")
    assert dlq["Properties"]["FifoQueue"] is True and dlq["Properties"]["QueueName"].endswith("-dlq.fifo")
    assert main["Properties"]["VisibilityTimeout"] >= 6 * worker["Timeout"]
    redrive = main["Properties"]["RedrivePolicy"]
    assert redrive["maxReceiveCount"] >= 5 and redrive["deadLetterTargetArn"] == {
        "Fn::GetAtt": [dlq_id, "Arn"]
    }
    assert dlq["Properties"]["MessageRetentionPeriod"] > main["Properties"]["MessageRetentionPeriod"]


def test_the_worker_takes_batches_from_the_queue_reporting_failures_with_capped_concurrency(
    synthesized: dict[str, Any],
) -> None:
    (main_id, _), _ = _queues(synthesized)
    worker = _function(synthesized, "peppol-worker")
    [mapping] = _resources(synthesized, "AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["FunctionName"] == {"Ref": _logical_id(synthesized, worker)}
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [main_id, "Arn"]}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["BatchSize"] == 10
    assert 2 <= properties["ScalingConfig"]["MaximumConcurrency"] <= 10
    assert worker["Properties"]["Handler"] == "peppol_api.worker.lambda_handler"
    assert worker["Properties"]["Environment"]["Variables"]["PEPPOL_MAX_RECEIVE_COUNT"] == "5"


def test_the_sweeper_runs_every_minute(synthesized: dict[str, Any]) -> None:
    sweeper = _function(synthesized, "peppol-sweeper")
    [rule] = _resources(synthesized, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 minute)"
    assert rule["Properties"]["Targets"][0]["Arn"] == {
        "Fn::GetAtt": [_logical_id(synthesized, sweeper), "Arn"]
    }
    permissions = _resources(synthesized, "AWS::Lambda::Permission").values()
    assert any(
        p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"] == {"Fn::GetAtt": [_logical_id(synthesized, sweeper), "Arn"]}
        for p in permissions
    )


def test_each_peppol_function_may_do_exactly_its_part(synthesized: dict[str, Any]) -> None:
    api = _actions(_role_statements(synthesized, "peppol"))
    worker = _actions(_role_statements(synthesized, "peppol-worker"))
    sweeper = _actions(_role_statements(synthesized, "peppol-sweeper"))
    assert {"sqs:SendMessage", "secretsmanager:GetSecretValue", "dynamodb:Query"} <= api
    assert "sqs:ReceiveMessage" not in api
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "secretsmanager:GetSecretValue"} <= worker
    assert "sqs:SendMessage" not in worker  # it never sends: the API and the sweeper do
    assert "sqs:SendMessage" in sweeper and "secretsmanager:GetSecretValue" not in sweeper
    for actions in (api, worker, sweeper):
        assert not any(a.startswith(("cognito-idp:", "ses:")) for a in actions)
    secrets = {
        k: v["Properties"]["Name"] for k, v in _resources(synthesized, "AWS::SecretsManager::Secret").items()
    }
    smp_secret = next(k for k, name in secrets.items() if name.endswith("-smp-credentials"))
    for name in ("peppol", "peppol-worker"):
        read = [
            s for s in _role_statements(synthesized, name) if s["Action"] == "secretsmanager:GetSecretValue"
        ]
        assert [s["Resource"] for s in read] == [{"Ref": smp_secret}], name


def test_the_peppol_functions_know_the_smp_the_sml_and_the_access_point(synthesized: dict[str, Any]) -> None:
    variables = _function(synthesized, "peppol-worker")["Properties"]["Environment"]["Variables"]
    assert variables["SMP_BASE_URL"] == "https://smp.dev.example.org"
    assert "Ref" in variables["SMP_CREDENTIALS_SECRET_ARN"]
    assert variables["SML_ZONE"] == "participant.sml.test.tech.peppol.org"
    assert variables["ACCESS_POINT_URL"] == "https://ap.dev.example.org/as4"
    assert variables["PEPPOL_WATCHDOG_SECONDS"] == str(360 * 6)
    assert not {"SMP_PASSWORD", "SMP_USERNAME", "SMP_TOKEN"} & set(variables)  # only the secret holds them


def test_the_functions_environment_leaves_room_for_an_access_point_certificate() -> None:
    """Lambda allows 4 KB of environment; a Peppol AP certificate (base64 DER) is about 2 KB."""
    from infra.config import stage_config
    from infra.platform import Resources, function_environment

    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    config = stage_config({**context, "stage": "prod"}.get)
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:peppol-onboarding-prod-smp-credentials-AbCdEf"
    resources = Resources(
        public_url=config.public_url,
        table_name="peppol-onboarding-prod-main",
        user_pool_id="eu-west-1_AbCdEfGhI",
        api_client_id="a" * 26,
        mail_sender=config.mail_sender,
        mail_configuration_set="peppol-onboarding-prod-mail",
        queue_urls={
            "peppol-registrations": "https://sqs.eu-west-1.amazonaws.com/123456789012/"
            "peppol-onboarding-prod-peppol-registrations.fifo"
        },
        secret_arns={"kvk-api-key": arn, "smp-credentials": arn},
        cors_origins=tuple(config.cors_origins),
    )
    settings = config.function_settings()
    settings["access_point"]["certificate"] = "M" * 2048
    environment = function_environment(resources, settings)
    size = sum(len(k) + len(v) for k, v in environment.items()) + 200  # Powertools' own variables
    assert size < 4096, size


def test_the_outbox_index_lists_the_jobs_not_final_by_when_they_are_due(synthesized: dict[str, Any]) -> None:
    from onboarding.adapters.dynamo import OUTBOX_INDEX, OUTBOX_INDEX_KEY, OUTBOX_INDEX_SORT_KEY

    [table] = _resources(synthesized, "AWS::DynamoDB::GlobalTable").values()
    properties = table["Properties"]
    [index] = [i for i in properties["GlobalSecondaryIndexes"] if i["IndexName"] == OUTBOX_INDEX]
    assert index["KeySchema"] == [
        {"AttributeName": OUTBOX_INDEX_KEY, "KeyType": "HASH"},
        {"AttributeName": OUTBOX_INDEX_SORT_KEY, "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}  # the sweeper sends the job it finds
    defined = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
    assert defined[OUTBOX_INDEX_KEY] == "S" and defined[OUTBOX_INDEX_SORT_KEY] == "S"


def test_the_alarm_watches_the_dead_letter_queue_of_the_registrations(synthesized: dict[str, Any]) -> None:
    (_, main), (dlq_id, _) = _queues(synthesized)
    assert main["Properties"]["QueueName"].endswith("peppol-registrations.fifo")
    assert main["Properties"]["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    alarms = [
        a["Properties"]
        for a in _resources(synthesized, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    ]
    [alarm] = alarms
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    # Any message at all: more than 0, in one period of five minutes.
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)
    assert (alarm["EvaluationPeriods"], alarm["Period"], alarm["Statistic"]) == (1, 300, "Maximum")
