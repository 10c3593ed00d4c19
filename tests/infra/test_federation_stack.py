"""Federated login in the synthesized stack: the three providers with their attribute
mappings, the hosted login's client, the triggers with their own least-privilege role, and
that no user can ever write the attributes the linking rule reads (nor any of tenancy)."""

from __future__ import annotations

import json
from typing import Any

from infra.platform import IDENTITY_PROVIDERS, mapped_attributes
from onboarding.domain import linking


def _resources(synthesized: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in synthesized["json"]["Resources"].items() if v["Type"] == kind}


def _clients(synthesized: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        c["Properties"]["ClientName"]: c["Properties"]
        for c in _resources(synthesized, "AWS::Cognito::UserPoolClient").values()
    }


def test_google_apple_and_microsoft_are_providers_with_the_linking_claims_mapped(
    synthesized: dict[str, Any],
) -> None:
    providers = {
        p["Properties"]["ProviderName"]: p["Properties"]
        for p in _resources(synthesized, "AWS::Cognito::UserPoolIdentityProvider").values()
    }
    assert {name: p["ProviderType"] for name, p in providers.items()} == {
        "Google": "Google",
        "SignInWithApple": "SignInWithApple",
        "Microsoft": "OIDC",
    }
    assert providers["Google"]["AttributeMapping"] == {
        "email": "email",
        "name": "name",
        linking.EMAIL_VERIFIED: "email_verified",
        linking.GOOGLE_HD: "hd",
    }
    assert providers["SignInWithApple"]["AttributeMapping"] == {
        "email": "email",
        "name": "name",
        linking.EMAIL_VERIFIED: "email_verified",
        linking.APPLE_PRIVATE: "is_private_email",
    }
    assert providers["Microsoft"]["AttributeMapping"] == {
        "email": "email",
        "name": "name",
        linking.MS_EDOV: "xms_edov",
    }
    # Client ids per stage from cdk.json; secrets only as references to Secrets Manager.
    assert (
        providers["Google"]["ProviderDetails"]["client_id"] == "000000000000-dev.apps.googleusercontent.com"
    )
    assert providers["SignInWithApple"]["ProviderDetails"]["client_id"] == "org.example.peppol-onboarding.dev"
    for name, key in (
        ("Google", "client_secret"),
        ("SignInWithApple", "private_key"),
        ("Microsoft", "client_secret"),
    ):
        assert "{{resolve:secretsmanager:" in json.dumps(providers[name]["ProviderDetails"][key]), name


def test_microsoft_is_the_bridge_with_explicit_endpoints(synthesized: dict[str, Any]) -> None:
    [microsoft] = [
        p["Properties"]
        for p in _resources(synthesized, "AWS::Cognito::UserPoolIdentityProvider").values()
        if p["Properties"]["ProviderName"] == "Microsoft"
    ]
    details = json.dumps(microsoft["ProviderDetails"])
    for endpoint in (
        'federation/microsoft"',
        "federation/microsoft/authorize",
        "federation/microsoft/token",
        "federation/microsoft/userinfo",
        "federation/microsoft/jwks.json",
    ):
        assert endpoint in details, endpoint
    assert "login.microsoftonline.com" not in details  # Cognito never sees Entra's common issuer
    assert microsoft["ProviderDetails"]["client_id"] == "cognito"


def test_the_hosted_login_client_allows_the_providers_and_nothing_else(synthesized: dict[str, Any]) -> None:
    web = _clients(synthesized)["web"]
    assert web["SupportedIdentityProviders"] == [spec.cognito_name for spec in IDENTITY_PROVIDERS]
    assert "COGNITO" not in web["SupportedIdentityProviders"]  # no password login through it
    assert web["AllowedOAuthFlows"] == ["code"] and web["AllowedOAuthFlowsUserPoolClient"] is True
    assert web["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert web["GenerateSecret"] is False and web["PreventUserExistenceErrors"] == "ENABLED"
    assert "/dev/auth/callback" in json.dumps(web["CallbackURLs"]) and "/dev/login" in json.dumps(
        web["LogoutURLs"]
    )


def test_no_user_can_write_the_attributes_of_linking_or_tenancy(synthesized: dict[str, Any]) -> None:
    """Cognito rewrites mapped attributes at every federated sign-in and requires the client
    to be allowed to write them. So: the only client that may write attributes is the hosted
    login's, it may write exactly the mapped ones, and nothing can ever hold a token of it
    that is allowed to write (aws.cognito.signin.user.admin): not an allowed scope, no
    InitiateAuth flow, no password login, no self sign-up. Tenancy is in no attribute."""
    clients = _clients(synthesized)
    for name, client in clients.items():
        writes = set(client.get("WriteAttributes", []))
        if name != "web":
            assert writes == set(), name
            continue
        assert writes == set(mapped_attributes())
        assert "aws.cognito.signin.user.admin" not in client["AllowedOAuthScopes"]
        assert set(client["ExplicitAuthFlows"]) == {"ALLOW_REFRESH_TOKEN_AUTH"}
        assert set(client["ReadAttributes"]).isdisjoint(
            linking.LINKING_ATTRIBUTES
        )  # not in its tokens either
    [pool] = _resources(synthesized, "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    custom = {a["Name"] for a in pool["Properties"]["Schema"] if a.get("AttributeDataType")}
    assert {f"custom:{name}" for name in custom} == set(linking.LINKING_ATTRIBUTES)
    assert not any(word in name for name in custom for word in ("tenant", "role", "environment", "group"))


def test_the_triggers_run_one_small_function_with_its_own_least_privilege_role(
    synthesized: dict[str, Any],
) -> None:
    [pool] = _resources(synthesized, "AWS::Cognito::UserPool").values()
    config = pool["Properties"]["LambdaConfig"]
    functions = _resources(synthesized, "AWS::Lambda::Function")
    [(name, trigger)] = [
        (k, f)
        for k, f in functions.items()
        if f["Properties"]["Handler"] == "auth_api.triggers.lambda_handler"
    ]
    assert config["PreSignUp"] == config["PreAuthentication"] == {"Fn::GetAtt": [name, "Arn"]}
    assert config["PreTokenGenerationConfig"] == {
        "LambdaArn": {"Fn::GetAtt": [name, "Arn"]},
        "LambdaVersion": "V2_0",
    }
    assert trigger["Properties"]["Timeout"] == 5
    # Only its table: naming the pool would make a cycle (the pool names the function).
    assert set(trigger["Properties"]["Environment"]["Variables"]) == {
        "TABLE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }
    role = trigger["Properties"]["Role"]["Fn::GetAtt"][0]
    statements = [
        s
        for p in _resources(synthesized, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    cognito = [s for s in statements if "cognito-idp:" in json.dumps(s["Action"])]
    assert [s["Action"] for s in cognito] == [
        ["cognito-idp:AdminGetUser", "cognito-idp:AdminLinkProviderForUser"]
    ]
    assert cognito[0]["Resource"]["Fn::GetAtt"][0].startswith("IdentityUserPool")
    assert not any("ses:" in json.dumps(s) or "secretsmanager:" in json.dumps(s) for s in statements)
    permissions = [
        p["Properties"]
        for p in _resources(synthesized, "AWS::Lambda::Permission").values()
        if p["Properties"]["Principal"] == "cognito-idp.amazonaws.com"
    ]
    # One per trigger: PreSignUp, PreAuthentication, PreTokenGeneration.
    assert len(permissions) == 3 and all("UserPool" in json.dumps(p["SourceArn"]) for p in permissions)


def test_the_bridge_reads_its_secrets_and_nothing_else_does(synthesized: dict[str, Any]) -> None:
    secrets = {
        s["Properties"]["Name"].rsplit("-dev-", 1)[1]: k
        for k, s in _resources(synthesized, "AWS::SecretsManager::Secret").items()
    }
    assert {
        "google-client-secret",
        "apple-private-key",
        "microsoft-client-secret",
        "federation-signing-keys",
        "federation-client-secret",
    } <= set(secrets)
    generated = _resources(synthesized, "AWS::SecretsManager::Secret")[secrets["federation-client-secret"]]
    assert generated["Properties"]["GenerateSecretString"]
    functions = _resources(synthesized, "AWS::Lambda::Function")
    policies = _resources(synthesized, "AWS::IAM::Policy")
    readers: dict[str, set[str]] = {}
    for policy in policies.values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "secretsmanager:GetSecretValue" in json.dumps(statement["Action"]):
                resources = (
                    statement["Resource"]
                    if isinstance(statement["Resource"], list)
                    else [statement["Resource"]]
                )
                for resource in resources:
                    for role in policy["Properties"]["Roles"]:
                        readers.setdefault(resource["Ref"], set()).add(role["Ref"])
    bridge_role = next(
        f["Properties"]["Role"]["Fn::GetAtt"][0]
        for f in functions.values()
        if f["Properties"]["Handler"] == "federation_api.handler.lambda_handler"
    )
    for name in ("federation-client-secret", "federation-signing-keys", "microsoft-client-secret"):
        assert readers[secrets[name]] == {bridge_role}, name
    for name in ("google-client-secret", "apple-private-key"):  # only the user pool reads these
        assert secrets[name] not in readers, name
