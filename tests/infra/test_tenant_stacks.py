"""The tenants' stacks, one per tenant file (here the example files: an OIDC and a SAML
tenant): the tenant's IdP on the platform's user pool, an app client that offers only it, the
login policy set up by the platform's tenant provisioner, the login URL; cdk-nag and cfn-lint
clean; and the platform's side of it (the provisioner, the PreAuthentication trigger, the index
of users by email domain). A bad tenant file stops synth, naming the file and the field."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.platform import ROOT
from infra.tenants import load_tenants
from tests.infra.conftest import EXAMPLE_TENANTS

TENANTS = {t.slug: t for t in load_tenants(EXAMPLE_TENANTS)}
SLUGS = list(TENANTS)


def _resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def _imports(value: Any) -> list[str]:
    """The names of the platform's exports a template value imports."""
    text = json.dumps(value)
    return [part.split('"')[0] for part in text.split('"Fn::ImportValue": "')[1:]]


def test_the_example_tenants_are_an_oidc_and_a_saml_tenant() -> None:
    assert SLUGS == ["acme", "globex"]


@pytest.mark.parametrize("slug", SLUGS)
def test_a_tenant_stack_has_its_idp_on_the_platforms_pool_with_its_domains(
    synthesized: dict[str, Any], slug: str
) -> None:
    template = synthesized["tenants"][slug]
    [provider] = _resources(template, "AWS::Cognito::UserPoolIdentityProvider")
    properties = provider["Properties"]
    tenant = TENANTS[slug]
    assert properties["ProviderName"] == f"tenant-{slug}"
    assert properties["IdpIdentifiers"] == list(tenant.file.email_domains)
    assert any("UserPool" in name for name in _imports(properties["UserPoolId"]))
    if slug == "acme":
        assert properties["ProviderType"] == "OIDC"
        details = properties["ProviderDetails"]
        assert details["oidc_issuer"] == tenant.file.idp.issuer  # type: ignore[union-attr]
        assert details["authorize_scopes"] == "openid email profile"
        # The client secret is a dynamic reference to Secrets Manager: no secret in the template.
        assert details["client_secret"].startswith("{{resolve:secretsmanager:peppol-onboarding/tenants/acme/")
        assert properties["AttributeMapping"] == {"email": "email", "name": "name"}
    else:
        assert properties["ProviderType"] == "SAML"
        assert "EntityDescriptor" in properties["ProviderDetails"]["MetadataFile"]
        assert properties["AttributeMapping"]["email"].endswith("/claims/emailaddress")


@pytest.mark.parametrize("slug", SLUGS)
def test_a_tenants_app_client_offers_only_its_idp_and_lets_no_user_write_attributes(
    synthesized: dict[str, Any], slug: str
) -> None:
    template = synthesized["tenants"][slug]
    [client] = _resources(template, "AWS::Cognito::UserPoolClient")
    properties = client["Properties"]
    assert properties["ClientName"] == f"tenant-{slug}"
    assert properties["SupportedIdentityProviders"] == [f"tenant-{slug}"]  # not COGNITO, not Google
    assert properties["AllowedOAuthFlows"] == ["code"] and properties["AllowedOAuthFlowsUserPoolClient"]
    assert properties["AllowedOAuthScopes"] == ["openid", "email", "profile"]  # no admin scope
    assert properties["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]  # no password flow at all
    assert properties["GenerateSecret"] is False and properties["EnableTokenRevocation"] is True
    assert sorted(properties["WriteAttributes"]) == ["email", "name"]  # what the IdP maps, nothing more
    assert json.dumps(properties["CallbackURLs"]).endswith('/auth/callback"]]}]')
    assert client["DependsOn"]  # the IdP exists before the client names it


@pytest.mark.parametrize("slug", SLUGS)
def test_a_tenants_login_policy_is_set_up_by_the_platforms_provisioner(
    synthesized: dict[str, Any], slug: str
) -> None:
    template = synthesized["tenants"][slug]
    [policy] = _resources(template, "Custom::TenantLogin")
    properties = policy["Properties"]
    assert any("tenantprovisioner" in name for name in _imports(properties["ServiceToken"]))
    tenant = TENANTS[slug]
    assert properties["slug"] == slug and properties["provider_name"] == f"tenant-{slug}"
    assert properties["email_domains"] == list(tenant.file.email_domains)
    assert properties["admins"] == list(tenant.file.admins)
    [client_logical_id] = [
        k for k, v in template["Resources"].items() if v["Type"] == "AWS::Cognito::UserPoolClient"
    ]
    assert properties["client_id"] == {"Ref": client_logical_id}
    assert json.dumps(template["Outputs"]["LoginUrl"]["Value"]).endswith(f'/t/{slug}/login"]]}}')


@pytest.mark.parametrize("slug", SLUGS)
def test_a_tenant_stack_passes_cfn_lint(synthesized: dict[str, Any], slug: str) -> None:
    cfn_lint = str(Path(sys.executable).parent / "cfn-lint")
    # W6001: the login URL output is built from the platform's API URL, an export: meant so.
    result = subprocess.run(
        [cfn_lint, "--ignore-checks", "W6001", "--", str(synthesized["tenant_files"][slug])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdk_nag_checked_every_tenant_stack(synthesized: dict[str, Any]) -> None:
    """Synth fails on any finding (the conftest's synth passed); nothing is acknowledged stack-wide."""
    report_file = synthesized["outdir"] / "validation-report.json"
    if report_file.exists():
        report = json.loads(report_file.read_text())
        for plugin in report["pluginReports"]:
            assert plugin["conclusion"] == "success", plugin.get("violations")
    for slug in SLUGS:
        metadata = json.dumps(synthesized["tenants"][slug].get("Metadata", {}))
        assert "cdk_nag" not in metadata  # no stack-wide suppression


def test_the_platform_has_the_tenant_provisioner_with_only_what_it_needs(synthesized: dict[str, Any]) -> None:
    resources = synthesized["json"]["Resources"]
    functions = {
        v["Properties"]["FunctionName"]: v for v in resources.values() if v["Type"] == "AWS::Lambda::Function"
    }
    provisioner = functions["peppol-onboarding-dev-tenant-provisioner"]
    assert provisioner["Properties"]["Handler"] == "auth_api.provisioner.lambda_handler"
    assert provisioner["Properties"]["Timeout"] == 300
    role = provisioner["Properties"]["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for policy in (v for v in resources.values() if v["Type"] == "AWS::IAM::Policy"):
        if {"Ref": role} in policy["Properties"]["Roles"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                found = statement["Action"]
                actions |= set(found if isinstance(found, list) else [found])
    assert "cognito-idp:AdminUserGlobalSignOut" in actions
    assert not {
        a for a in actions if a.startswith("cognito-idp:") and a != "cognito-idp:AdminUserGlobalSignOut"
    }
    assert {"dynamodb:Query", "dynamodb:UpdateItem", "ses:SendRawEmail"} <= actions
    assert not {a for a in actions if a.startswith(("sqs:", "secretsmanager:"))}


def test_the_pool_refuses_password_logins_of_a_tenants_people(synthesized: dict[str, Any]) -> None:
    [pool] = [v for v in synthesized["json"]["Resources"].values() if v["Type"] == "AWS::Cognito::UserPool"]
    triggers = pool["Properties"]["LambdaConfig"]
    assert {"PreSignUp", "PreAuthentication", "PreTokenGenerationConfig"} <= set(triggers)
    assert triggers["PreAuthentication"] == triggers["PreSignUp"]  # the triggers' own function


def test_the_table_indexes_users_by_email_domain(synthesized: dict[str, Any]) -> None:
    [table] = [
        v for v in synthesized["json"]["Resources"].values() if v["Type"] == "AWS::DynamoDB::GlobalTable"
    ]
    indexes = {i["IndexName"]: i for i in table["Properties"]["GlobalSecondaryIndexes"]}
    assert indexes["by_email_domain"]["KeySchema"] == [{"AttributeName": "email_domain", "KeyType": "HASH"}]


def test_a_bad_tenant_file_stops_synth_naming_the_file_and_the_field(tmp_path: Path) -> None:
    (tmp_path / "Bad_Name.json").write_text(
        json.dumps(
            {
                "name": "Bad",
                "email_domains": ["outlook.com"],
                "admins": ["it@outlook.com"],
                "idp": {
                    "type": "oidc",
                    "issuer": "http://not-https",
                    "client_id": "x",
                    "client_secret_name": "s",
                },
            }
        )
    )
    environment = {**os.environ, "TENANTS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "infra.app"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "A tenant file is not valid" in result.stderr
    assert "Bad_Name.json: (the file name):" in result.stderr
    assert "Bad_Name.json: email_domains.0: a free-mail domain" in result.stderr
    assert "Bad_Name.json: idp.issuer: an https URL" in result.stderr
    assert "Traceback" not in result.stderr
