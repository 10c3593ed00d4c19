"""Tenant files (``infra.tenants``): what a valid one gives, and a clear line per problem,
naming the file and the field, for every rule a file or a set of files can break."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from infra.platform import ROOT
from infra.tenants import SAML_EMAIL, TenantFileError, load_tenants, tenants_dir

OIDC = {
    "type": "oidc",
    "issuer": "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
    "client_id": "app",
    "client_secret_name": "peppol-onboarding/tenants/acme",
}


def _write(folder: Path, name: str, **fields: Any) -> Path:
    values = {"name": "Acme", "email_domains": ["acme.example"], "admins": ["it@acme.example"], "idp": OIDC}
    path = folder / name
    path.write_text(json.dumps({**values, **fields}))
    return path


def _problems(folder: Path) -> str:
    with pytest.raises(TenantFileError) as problem:
        load_tenants(folder)
    return str(problem.value)


def test_the_example_files_are_valid() -> None:
    tenants = load_tenants(ROOT / "examples" / "tenants")
    acme, globex = tenants
    assert (acme.slug, acme.provider_name, acme.attribute_mapping()) == (
        "acme",
        "tenant-acme",
        {"email": "email", "name": "name"},
    )
    assert globex.file.idp.type == "saml" and globex.saml_metadata is not None
    assert globex.attribute_mapping()["email"] == SAML_EMAIL
    definition = acme.definition("client-id")
    assert definition.client_id == "client-id" and definition.email_domains == (
        "acme.example",
        "acme-group.example",
    )


def test_no_folder_means_no_tenants(tmp_path: Path) -> None:
    assert load_tenants(tmp_path / "missing") == []
    assert tenants_dir({"TENANTS_DIR": str(tmp_path)}) == tmp_path.resolve()
    assert tenants_dir({}) == ROOT / "tenants"


@pytest.mark.parametrize(
    ("name", "fields", "line"),
    [
        ("Acme_BV.json", {}, "Acme_BV.json: (the file name): 1-25 lower-case letters"),
        ("google.json", {}, "google.json: (the file name): 'google' is reserved"),
        (
            "acme.json",
            {"email_domains": ["gmail.com"], "admins": ["it@gmail.com"]},
            "email_domains.0: a free-mail",
        ),
        (
            "acme.json",
            {"email_domains": ["co.uk"], "admins": ["it@co.uk"]},
            "email_domains.0: a public suffix",
        ),
        (
            "acme.json",
            {"admins": ["boss@elsewhere.example"]},
            "acme.json: admins: boss@elsewhere.example not in",
        ),
        ("acme.json", {"admins": []}, "acme.json: admins: Tuple should have at least 1 item"),
        ("acme.json", {"idp": {**OIDC, "issuer": "http://x"}}, "acme.json: idp.issuer: an https URL"),
        (
            "acme.json",
            {"idp": {**OIDC, "scopes": ["profile"]}},
            "acme.json: idp.scopes: must include openid and email",
        ),
        ("acme.json", {"idp": {"type": "ldap"}}, "acme.json: idp: Input tag 'ldap'"),
        ("acme.json", {"idp": {"type": "saml"}}, "acme.json: idp: give metadata_url or metadata_file"),
        (
            "acme.json",
            {"idp": {"type": "saml", "metadata_file": "gone.xml"}},
            "idp.metadata_file: gone.xml is not",
        ),
        ("acme.json", {"colour": "blue"}, "acme.json: colour: Extra inputs are not permitted"),
        ("acme.json", {"environment_id": "not-a-uuid"}, "acme.json: environment_id: String should match"),
    ],
)
def test_a_bad_file_names_itself_and_the_field(
    tmp_path: Path, name: str, fields: dict[str, Any], line: str
) -> None:
    _write(tmp_path, name, **fields)
    assert line in _problems(tmp_path)


def test_a_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "acme.json").write_text("{not json")
    assert "acme.json: not a JSON file" in _problems(tmp_path)


def test_saml_metadata_must_be_metadata(tmp_path: Path) -> None:
    (tmp_path / "meta.xml").write_text("<html/>")
    _write(tmp_path, "acme.json", idp={"type": "saml", "metadata_file": "meta.xml"})
    assert "idp.metadata_file: not SAML metadata" in _problems(tmp_path)


def test_files_together_never_share_a_domain_or_an_environment(tmp_path: Path) -> None:
    environment = "6d0932b3-67f1-45e2-87cb-487f6b21e43b"
    _write(tmp_path, "acme.json", environment_id=environment)
    _write(tmp_path, "globex.json", environment_id=environment)
    problems = _problems(tmp_path)
    assert "globex.json: email_domains: acme.example is also in" in problems
    assert f"globex.json: environment_id: {environment} is also in" in problems


def test_every_problem_of_every_file_is_told_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "acme.json", admins=[])
    _write(tmp_path, "Bad.json", email_domains=["globex.example"], admins=["it@globex.example"])
    problems = _problems(tmp_path).splitlines()
    assert any("acme.json" in p for p in problems) and any("Bad.json" in p for p in problems)
