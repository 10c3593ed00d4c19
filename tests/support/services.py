"""The services wired to in-memory fakes, with a clock the test moves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from onboarding.domain.ports import KvkProfile, ViesResult
from onboarding.settings import Settings
from tests.support.fakes import (
    FakeHostedLogin,
    FakeIdentity,
    FakeKvk,
    FakeLinks,
    FakeMailer,
    FakeQueue,
    FakeSml,
    FakeSmp,
    FakeVies,
    InMemoryEnvironments,
    InMemoryIdentities,
    InMemoryJobs,
    InMemoryLogins,
    InMemoryOrganisations,
    InMemorySignups,
    InMemoryTenants,
    InMemoryUsers,
    Memory,
)

SETTINGS = Settings.model_validate(
    {
        "public_url": "https://app.example",
        "table": {"name": "unused"},
        "identity": {
            "user_pool_id": "pool",
            "api_client_id": "client",
            "operators_group": "operators",
            "web_client_id": "web-client",
            "hosted_domain": "https://login.example",
        },
        "mail": {"sender": "no-reply@example.org"},
        "peppol": {"queue_url": "unused", "max_receive_count": 5, "watchdog_seconds": 600},
        "smp": {"base_url": "https://smp.example"},
        "access_point": {
            "url": "https://ap.example/as4",
            "certificate": "Y2VydGlmaWNhdGU=",
            "service_description": "Example access point",
        },
        "federation": {"providers": ["google", "microsoft", "apple"]},
    }
)


KVK_PROFILES = {
    "68750110": KvkProfile(
        "68750110",
        "Test BV Donald",
        "857587973",
        "Besloten Vennootschap",
        "Hizzaarderlaan 3",
        "8823SJ",
        "Lollum",
        "NL",
        True,
    ),
    "55505201": KvkProfile("55505201", "Opgeheven BV", None, None, None, None, None, "NL", False),
}
VIES_RESULTS = {
    "NL000099998B57": ViesResult("valid", name="Test BV Donald", address="Lollum"),
    "NL002455799B11": ViesResult("valid", name="Other BV"),
    "BE0123456749": ViesResult("inconclusive", error="MS_UNAVAILABLE"),
}


@dataclass
class Clock:
    moment: datetime = field(default_factory=lambda: datetime(2026, 6, 1, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        self.moment += timedelta(milliseconds=1)  # every call a later moment, as in life
        return self.moment

    def advance(self, **delta: Any) -> None:
        self.moment += timedelta(**delta)


@dataclass
class World:
    """Everything a service test needs: the shared memory, the fakes and the clock."""

    memory: Memory = field(default_factory=Memory)
    clock: Clock = field(default_factory=Clock)
    identity: FakeIdentity = field(default_factory=FakeIdentity)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    kvk: FakeKvk = field(default_factory=lambda: FakeKvk(KVK_PROFILES))
    vies: FakeVies = field(default_factory=lambda: FakeVies(VIES_RESULTS))
    queue: FakeQueue = field(default_factory=FakeQueue)
    links: FakeLinks = field(default_factory=FakeLinks)
    hosted: FakeHostedLogin = field(default_factory=FakeHostedLogin)
    identities: InMemoryIdentities = field(init=False)
    smp: FakeSmp = field(default_factory=FakeSmp)
    sml: FakeSml = field(init=False)  # the SML's DNS, over the fake SMP's register
    sml_off: bool = False  # the worker does not ask the SML (settings.sml.lookup off)

    def __post_init__(self) -> None:
        self.identities = InMemoryIdentities(self.memory)
        self.sml = FakeSml(self.smp)

    @property
    def users(self) -> InMemoryUsers:
        return InMemoryUsers(self.memory)

    @property
    def environments(self) -> InMemoryEnvironments:
        return InMemoryEnvironments(self.memory)

    @property
    def organisations(self) -> InMemoryOrganisations:
        return InMemoryOrganisations(self.memory)

    @property
    def jobs(self) -> InMemoryJobs:
        return InMemoryJobs(self.memory)

    @property
    def tenants(self) -> InMemoryTenants:
        return InMemoryTenants(self.memory)

    @property
    def logins(self) -> InMemoryLogins:
        return InMemoryLogins(self.memory)

    def auth_service(self, settings: Settings = SETTINGS) -> Any:
        from auth_api.service import AuthService

        return AuthService(
            settings=settings,
            signups=InMemorySignups(self.memory),
            users=self.users,
            environments=self.environments,
            organisations=self.organisations,
            mailer=self.mailer,
            identity=self.identity,
            logins=self.logins,
            clock=self.clock,
        )

    def organisation_service(self, settings: Settings = SETTINGS) -> Any:
        from organisations_api.service import OrganisationService

        return OrganisationService(
            settings=settings,
            organisations=self.organisations,
            environments=self.environments,
            jobs=self.jobs,
            kvk=self.kvk,
            vies=self.vies,
            queue=self.queue,
            clock=self.clock,
        )

    def federated_login(self, settings: Settings = SETTINGS) -> Any:
        from auth_api.login import FederatedLogin

        return FederatedLogin(
            settings=settings,
            logins=self.logins,
            hosted=lambda: self.hosted,
            tenants=self.tenants,
            clock=self.clock,
        )

    def sign_ins(self) -> Any:
        from auth_api.signin import FederatedSignIns
        from onboarding.domain.linking import BUILT_IN

        return FederatedSignIns(
            identities=self.identities,
            links=self.links,
            users=self.users,
            providers=BUILT_IN,
            clock=self.clock,
        )

    def tenant_provisioning(self) -> Any:
        from auth_api.tenants import TenantProvisioning

        return TenantProvisioning(
            tenants=self.tenants,
            users=self.users,
            environments=self.environments,
            identity=self.identity,
            mailer=self.mailer,
            public_url=SETTINGS.public_url,
            clock=self.clock,
        )

    def restrict(
        self,
        slug: str = "acme",
        *,
        domains: tuple[str, ...] = ("acme.example",),
        admins: tuple[str, ...] = ("it@acme.example",),
        environment_id: str | None = None,
        client_id: str | None = None,
    ) -> Any:
        """A tenant restricted to its own IdP, set up as its stack sets it up: its record, its
        domains, its environment (``environment_id``'s, else a new one) and its people."""
        from onboarding.domain.tenancy import TenantDefinition, provider_name

        definition = TenantDefinition(
            slug=slug,
            name=slug.title(),
            environment_id=environment_id,
            provider_name=provider_name(slug),
            client_id=client_id or f"{slug}-client",
            email_domains=domains,
            admins=admins,
        )
        return self.tenant_provisioning().set_up(definition).tenant

    def peppol_service(self, settings: Settings = SETTINGS) -> Any:
        from peppol_api.service import PeppolService

        return PeppolService(
            settings=settings,
            organisations=self.organisations,
            jobs=self.jobs,
            queue=self.queue,
            smp=lambda: self.smp,
            clock=self.clock,
        )

    def registrar(self, settings: Settings = SETTINGS) -> Any:
        from onboarding.domain.peppol import AccessPointEndpoint
        from peppol_api.registrar import Registrar

        access_point = settings.access_point

        def endpoint() -> AccessPointEndpoint:
            assert access_point.url and access_point.certificate
            return AccessPointEndpoint(
                url=access_point.url,
                certificate=access_point.certificate,
                service_description=access_point.service_description,
                technical_contact_url=access_point.technical_contact,
            )

        return Registrar(
            settings=settings,
            jobs=self.jobs,
            organisations=self.organisations,
            smp=self.smp,
            sml=None if self.sml_off else self.sml,
            endpoint=endpoint,
            clock=self.clock,
        )

    def outbox(self, settings: Settings = SETTINGS) -> Any:
        from peppol_api.outbox import Outbox

        return Outbox(
            settings=settings,
            jobs=self.jobs,
            organisations=self.organisations,
            queue=self.queue,
            clock=self.clock,
        )

    # --- data through the code ---
    def user(self, role: str = "admin", environment_id: str | None = None) -> Any:
        """A user (with an environment) who accepted the current terms."""
        import uuid

        from onboarding.domain.models import Environment, Role, TermsAcceptance, User
        from onboarding.domain.rules import CURRENT_TERMS_VERSION

        moment = self.clock()
        environment_id = environment_id or str(uuid.uuid4())
        if environment_id not in self.memory.environments:
            self.memory.environments[environment_id] = Environment(
                id=environment_id, name="Omgeving", created_at=moment, updated_at=moment
            )
        user = User(
            id=str(uuid.uuid4()),
            username=f"u{uuid.uuid4().hex[:8]}",
            email="a@example.nl",
            email_canonical="a@example.nl",
            environment_id=environment_id,
            role=Role(role),
            terms=TermsAcceptance(version=CURRENT_TERMS_VERSION, accepted_at=moment),
            created_at=moment,
            updated_at=moment,
        )
        self.memory.users[user.id] = user
        return user

    def active_organisation(self, user: Any, *identifiers: tuple[str, str], receiving: bool = False) -> Any:
        """An organisation made by hand with ``identifiers`` (the first primary), approved by an
        operator (its primary's send registration queued), with credit and receiving if asked."""
        from organisations_api.service import IdentifierInput

        service = self.organisation_service()
        created = service.create_by_hand(
            user,
            name="Handwerk BV",
            country="NL",
            address={"street": "Hoofdstraat 1", "postal_code": "1234AB", "city": "Utrecht"},
            identifiers=[IdentifierInput(s, v) for s, v in identifiers or (("0106", "68750110"),)],
            contact=None,
        )
        service.request_activation(user, created.id, "manual_review")
        active = service.decide("operator-1", created.id, "approve", None)
        if receiving:
            service.add_credit("operator-1", user.environment_id, 1000)
            active = service.set_receiving(user, created.id, enabled=True, accept_costs=True)
        return active

    def organisation(self, organisation_id: str) -> Any:
        return self.memory.organisations[organisation_id]

    def work(self, *, receive_count: int = 1) -> list[Any]:
        """Hand every queued message to the worker once (as a delivery would)."""
        registrar = self.registrar()
        return [registrar.carry_out(message, receive_count) for message in self.queue.take()]
