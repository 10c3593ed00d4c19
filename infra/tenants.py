"""Tenant files: one per tenant restricted to its own identity provider, ``tenants/<slug>.json``
(or the folder ``TENANTS_DIR`` names). The slug is the file's name and the tenant's URL
(``/t/<slug>/login``). Both renderings read them: the CDK app makes a stack per file, ``make dev``
sets each up on the emulator, with the local identity provider in place of the tenant's IdP.

    {
      "name": "Acme B.V.",
      "email_domains": ["acme.example"],
      "admins": ["it@acme.example"],
      "environment_id": "...",      (optional: restrict an existing environment; else a new one)
      "idp": {"type": "oidc", "issuer": "https://login.microsoftonline.com/<tenant id>/v2.0",
              "client_id": "...", "client_secret_name": "<a secret in Secrets Manager>"}
          or {"type": "saml", "metadata_url": "https://..."}
          or {"type": "saml", "metadata_file": "acme-metadata.xml"}   (next to the tenant file)
    }

A file that breaks a rule stops ``make synth``, ``make deploy`` and ``make dev`` with one line
per problem, naming the file and the field (``TenantFileError``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from infra.platform import ROOT
from onboarding.domain.tenancy import (
    Admins,
    EmailDomains,
    EnvironmentId,
    Slug,
    TenantDefinition,
    TenantName,
    check_domains_and_admins,
    provider_name,
)

DEFAULT_DIR = ROOT / "tenants"


def _https(value: str) -> str:
    if not re.fullmatch(r"https://[^\s/?#]+(/\S*)?", value) or len(value) > 2048:
        raise ValueError("an https URL")
    return value


HttpsUrl = Annotated[str, AfterValidator(_https)]
SAML_EMAIL = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
SAML_NAME = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"


class TenantFileError(ValueError):
    """A tenant file (or the set of them) breaks a rule; the message names file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OidcIdp(_Strict):
    type: Literal["oidc"]
    issuer: HttpsUrl = Field(description="The IdP's issuer; its discovery document is at .well-known")
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    client_secret_name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9/_+=.@-]{1,512}$")] = Field(
        description="The name of the secret in Secrets Manager that holds the client secret (ops create it)"
    )
    scopes: tuple[Annotated[str, StringConstraints(pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+$")], ...] = (
        "openid",
        "email",
        "profile",
    )
    email_claim: str = "email"
    name_claim: str = "name"

    @field_validator("scopes")
    @classmethod
    def _openid(cls, scopes: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in scopes or "email" not in scopes:
            raise ValueError("must include openid and email")
        return scopes


class SamlIdp(_Strict):
    type: Literal["saml"]
    metadata_url: HttpsUrl | None = None
    metadata_file: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]+\.xml$")] | None = Field(
        default=None, description="A metadata document next to the tenant file"
    )
    email_attribute: str = SAML_EMAIL
    name_attribute: str = SAML_NAME

    @field_validator("metadata_file")
    @classmethod
    def _no_parent(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("."):
            raise ValueError("a file name next to the tenant file")
        return value


class TenantFile(_Strict):
    name: TenantName
    email_domains: EmailDomains
    admins: Admins
    environment_id: EnvironmentId | None = None
    idp: OidcIdp | SamlIdp = Field(discriminator="type")

    @model_validator(mode="after")
    def _admins_in_domains(self) -> TenantFile:
        try:
            check_domains_and_admins(self.admins, self.email_domains)
        except ValueError as exc:
            raise ValueError(str(exc)) from exc
        return self


@dataclass(frozen=True)
class Tenant:
    """A valid tenant file: its slug, what it says, and (SAML) the metadata it points at."""

    slug: str
    path: Path
    file: TenantFile
    saml_metadata: str | None = None  # the document of ``metadata_file``

    @property
    def provider_name(self) -> str:
        return provider_name(self.slug)

    def attribute_mapping(self) -> dict[str, str]:
        """User pool attribute -> the IdP's claim (OIDC) or attribute (SAML)."""
        idp = self.file.idp
        if isinstance(idp, OidcIdp):
            return {"email": idp.email_claim, "name": idp.name_claim}
        return {"email": idp.email_attribute, "name": idp.name_attribute}

    def definition(self, client_id: str) -> TenantDefinition:
        """What the tenant provisioner gets (``client_id``: the tenant's app client)."""
        return TenantDefinition(
            slug=self.slug,
            name=self.file.name,
            environment_id=self.file.environment_id,
            provider_name=self.provider_name,
            client_id=client_id,
            email_domains=self.file.email_domains,
            admins=self.file.admins,
        )


def tenants_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``TENANTS_DIR`` if set, else ``tenants/`` at the repository's root."""
    folder = (environ if environ is not None else os.environ).get("TENANTS_DIR")
    return Path(folder).resolve() if folder else DEFAULT_DIR


def _where(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _problems(where: str, error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors(include_url=False):
        location = ".".join(str(part) for part in problem["loc"] if part not in ("oidc", "saml"))
        message = str(problem["msg"]).removeprefix("Value error, ")
        # A rule across fields names its field in its message.
        lines.append(f"{where}: {location}: {message}" if location else f"{where}: {message}")
    return lines


def load_tenant(path: Path) -> Tenant:
    """One tenant file; ``TenantFileError`` naming the file and each bad field."""
    where = _where(path)
    problems: list[str] = []
    slug = path.stem
    try:
        TypeAdapter(Slug).validate_python(slug)  # the one slug rule (onboarding.domain.tenancy)
    except ValidationError as exc:
        message = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: (the file name): {message}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TenantFileError(f"{where}: not a JSON file: {exc}") from exc
    try:
        file = TenantFile.model_validate(data)
    except ValidationError as exc:
        raise TenantFileError("\n".join([*problems, *_problems(where, exc)])) from exc
    metadata = None
    idp = file.idp
    if isinstance(idp, SamlIdp):
        if (idp.metadata_url is None) == (idp.metadata_file is None):
            problems.append(f"{where}: idp: give metadata_url or metadata_file (one of them)")
        elif idp.metadata_file is not None:
            metadata_path = path.parent / idp.metadata_file
            try:
                metadata = metadata_path.read_text(encoding="utf-8")
            except OSError:
                problems.append(f"{where}: idp.metadata_file: {idp.metadata_file} is not next to the file")
            else:
                if "EntityDescriptor" not in metadata:
                    problems.append(f"{where}: idp.metadata_file: not SAML metadata (no EntityDescriptor)")
    if problems:
        raise TenantFileError("\n".join(problems))
    return Tenant(slug=slug, path=path, file=file, saml_metadata=metadata)


def load_tenants(folder: Path | None = None) -> list[Tenant]:
    """Every ``*.json`` in ``folder`` (default: ``tenants_dir()``), checked one by one and
    together (no email domain may belong to two tenants). A missing folder has no tenants."""
    folder = folder or tenants_dir()
    if not folder.is_dir():
        return []
    problems: list[str] = []
    tenants: list[Tenant] = []
    for path in sorted(folder.glob("*.json")):
        try:
            tenants.append(load_tenant(path))
        except TenantFileError as exc:
            problems.append(str(exc))
    owners: dict[str, Tenant] = {}
    restricting: dict[str, Tenant] = {}
    for tenant in tenants:
        for domain in tenant.file.email_domains:
            if domain in owners:
                problems.append(
                    f"{_where(tenant.path)}: email_domains: {domain} is also in {_where(owners[domain].path)}"
                )
            owners.setdefault(domain, tenant)
        environment = tenant.file.environment_id
        if environment and environment in restricting:
            other = _where(restricting[environment].path)
            problems.append(f"{_where(tenant.path)}: environment_id: {environment} is also in {other}")
        if environment:
            restricting.setdefault(environment, tenant)
    if problems:
        raise TenantFileError("\n".join(problems))
    return tenants
