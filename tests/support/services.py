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
    FakeVies,
    InMemoryEnvironments,
    InMemoryIdentities,
    InMemoryJobs,
    InMemoryLogins,
    InMemoryOrganisations,
    InMemorySignups,
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
        "peppol": {"queue_url": "unused"},
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

    def __post_init__(self) -> None:
        self.identities = InMemoryIdentities(self.memory)

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
            logins=InMemoryLogins(self.memory),
            hosted=lambda: self.hosted,
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
