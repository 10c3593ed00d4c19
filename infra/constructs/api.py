"""The REST API: every route of the OpenAPI document, the Cognito authorizer on the signed-in
ones, API Gateway's own answers in the platform's error shape, 405 for a wrong method,
stage throttling (tighter on sign-up), access logs and CORS from configuration."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import StageConfig
from infra.constructs.identity import Identity
from infra.constructs.nag import acknowledge
from infra.platform import PLATFORM, Route, routes

# Routes that send mail or create accounts get their own, much lower, throttle.
SIGNUP_ROUTES = ("/auth/signup", "/auth/activation/resend", "/auth/activation/complete", "/auth/token")


# The contract's wording for every JSON answer, API Gateway's own included (a literal: quoted).
JSON_CONTENT_TYPE = "'application/json; charset=utf-8'"


def _error_template(code: str, message: str = "$context.error.messageString") -> dict[str, str]:
    body = '{"error": {"code": "%s", "message": %s, "details": []}}' % (code, message)  # noqa: UP031
    return {"application/json": body}


# API Gateway's own refusals -> (status, code, message or None for API Gateway's own text)
GATEWAY_RESPONSES: dict[apigw.ResponseType, tuple[str, str, str | None]] = {
    apigw.ResponseType.UNAUTHORIZED: ("401", "unauthorized", '"A valid bearer ID token is required."'),
    apigw.ResponseType.ACCESS_DENIED: ("403", "forbidden", '"You are not allowed to do this."'),
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: ("404", "not_found", '"There is no such route."'),
    apigw.ResponseType.RESOURCE_NOT_FOUND: ("404", "not_found", '"There is no such route."'),
    apigw.ResponseType.REQUEST_TOO_LARGE: ("413", "payload_too_large", '"The body is too large."'),
    apigw.ResponseType.THROTTLED: ("429", "too_many_requests", '"Too many requests. Try again later."'),
    apigw.ResponseType.QUOTA_EXCEEDED: ("429", "too_many_requests", '"Too many requests. Try again later."'),
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: ("400", "bad_request", None),
    apigw.ResponseType.BAD_REQUEST_BODY: ("400", "bad_request", None),
    apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE: ("415", "unsupported_media_type", None),
    apigw.ResponseType.DEFAULT_4_XX: ("400", "bad_request", None),
    apigw.ResponseType.DEFAULT_5_XX: ("502", "bad_gateway", '"The request could not be completed."'),
}


class Api(Construct):
    def __init__(self, scope: Construct, id: str, *, config: StageConfig, identity: Identity) -> None:
        super().__init__(scope, id)
        self.config = config
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays.THREE_MONTHS,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        signup_throttle = apigw.MethodDeploymentOptions(
            throttling_rate_limit=config.signup_throttle_rate,
            throttling_burst_limit=config.signup_throttle_burst,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=config.name("api"),
            description="Peppol onboarding API (see /docs)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            min_compression_size=cdk.Size.kibibytes(1),
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                throttling_rate_limit=config.throttle_rate,
                throttling_burst_limit=config.throttle_burst,
                logging_level=apigw.MethodLoggingLevel.INFO,
                data_trace_enabled=False,
                metrics_enabled=True,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                method_options={f"{path}/POST": signup_throttle for path in SIGNUP_ROUTES},
            ),
            default_cors_preflight_options=apigw.CorsOptions(
                allow_origins=config.cors_origins or apigw.Cors.ALL_ORIGINS,
                allow_methods=apigw.Cors.ALL_METHODS,
                allow_headers=list(PLATFORM.cors_allowed_headers),
                max_age=cdk.Duration.minutes(10),
            ),
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "A WAF web ACL is attached per deployment by ops (rate rules, ACFP); the API itself "
            "throttles per stage and per sign-up route and rate-limits sign-ups per IP and address.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Parameters are validated here; bodies in the functions against the pydantic models that "
            "also generate the OpenAPI document (a second copy as API Gateway models would drift).",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role uses the AWS managed policy made for it.",
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[identity.user_pool],
            identity_source="method.request.header.Authorization",
            results_cache_ttl=cdk.Duration.minutes(5),
        )
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=False
        )
        origin = f"'{config.cors_origins[0]}'" if config.cors_origins else "'*'"
        for response_type, (status, code, message) in GATEWAY_RESPONSES.items():
            self.rest_api.add_gateway_response(
                f"Gateway{code.title().replace('_', '')}{status}{response_type.response_type}",
                type=response_type,
                status_code=status,
                templates=_error_template(code, message or "$context.error.messageString"),
                response_headers={"Access-Control-Allow-Origin": origin, "Content-Type": JSON_CONTENT_TYPE},
            )

    @property
    def url(self) -> str:
        """The stage URL, built without a dependency on the deployment (which depends on the
        functions that need this URL)."""
        stack = cdk.Stack.of(self)
        return f"https://{self.rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/{self.config.stage}"

    def add_routes(self, functions: dict[str, lambda_.Function]) -> None:
        integrations = {
            name: apigw.LambdaIntegration(fn, allow_test_invoke=False) for name, fn in functions.items()
        }
        by_path: dict[str, list[Route]] = {}
        for route in routes():
            by_path.setdefault(route.path, []).append(route)
        for path, path_routes in sorted(by_path.items()):
            resource = self.rest_api.root.resource_for_path(path.strip("/"))
            for route in path_routes:
                if route.secured:
                    method = resource.add_method(
                        route.method,
                        integrations[route.function],
                        authorizer=self.authorizer,
                        authorization_type=apigw.AuthorizationType.COGNITO,
                        request_validator=self.validator,
                    )
                else:
                    method = resource.add_method(
                        route.method,
                        integrations[route.function],
                        authorization_type=apigw.AuthorizationType.NONE,
                        request_validator=self.validator,
                    )
                    reason = (
                        "Public by the API contract: sign-up, activation, login and the documentation "
                        "come before any token exists."
                    )
                    acknowledge(method, "AwsSolutions-APIG4", reason)
                    acknowledge(method, "AwsSolutions-COG4", reason)
            self._method_not_allowed(resource, sorted({r.method for r in path_routes}))
        for child in self.rest_api.root.node.find_all():
            if isinstance(child, apigw.Method) and child.http_method == "OPTIONS":
                acknowledge(child, "AwsSolutions-APIG4", "CORS preflight carries no credentials by design.")
                acknowledge(child, "AwsSolutions-COG4", "CORS preflight carries no credentials by design.")

    def _method_not_allowed(self, resource: apigw.IResource, allowed: list[str]) -> None:
        """Every other method on a known path: 405 with Allow, in the error shape."""
        allow = ", ".join(allowed)
        body = json.dumps(
            {"error": {"code": "method_not_allowed", "message": f"Use one of: {allow}.", "details": []}}
        )
        integration = apigw.MockIntegration(
            request_templates={"application/json": '{"statusCode": 405}'},
            passthrough_behavior=apigw.PassthroughBehavior.WHEN_NO_TEMPLATES,
            integration_responses=[
                apigw.IntegrationResponse(
                    status_code="405",
                    response_templates={"application/json": body},
                    response_parameters={
                        "method.response.header.Allow": f"'{allow}'",
                        "method.response.header.Content-Type": JSON_CONTENT_TYPE,
                    },
                )
            ],
        )
        method = resource.add_method(
            "ANY",
            integration,
            authorization_type=apigw.AuthorizationType.NONE,
            method_responses=[
                apigw.MethodResponse(
                    status_code="405",
                    response_parameters={
                        "method.response.header.Allow": True,
                        "method.response.header.Content-Type": True,
                    },
                )
            ],
        )
        reason = "Answers 405 from a mock integration; it reaches no backend."
        acknowledge(method, "AwsSolutions-APIG4", reason)
        acknowledge(method, "AwsSolutions-COG4", reason)
