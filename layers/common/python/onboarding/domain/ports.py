"""The ports: what the services need from the outside world, as small Protocols, and the
values that cross them. The adapters (DynamoDB, Cognito, SES, SQS, KvK, VIES, the SMP and the
SML's DNS) implement them;
the unit tests use in-memory fakes (``tests/support/fakes.py``).

Each method says which errors of ``onboarding.domain.errors`` it raises: the contract the
fakes keep as well as the adapters.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from onboarding.domain.linking import DomainPolicy, ExistingAccount, Provider
from onboarding.domain.mail import Mail
from onboarding.domain.models import (
    CreditEntry,
    Environment,
    FederatedIdentity,
    LoginAttempt,
    NewAccount,
    Signup,
    User,
)
from onboarding.domain.organisations import Organisation
from onboarding.domain.peppol import AccessPointEndpoint, BusinessEntity, DocumentType
from onboarding.domain.registration import RegistrationJob, RegistrationMessage
from onboarding.domain.tenancy import LoginRestriction, TenantLogin


# --- Values that cross the ports ----------------------------------------------------------------
@dataclass(frozen=True)
class AccountRef:
    """Whose an email or username is."""

    user_id: str
    environment_id: str


@dataclass(frozen=True)
class SignInFacts:
    """What a first federated sign-in decides on, read together: the identity's own record
    (a retry), the account that holds the address, the owner of the address's domain, and the
    tenant whose IdP this is (for a tenant's IdP)."""

    identity: FederatedIdentity | None = None
    existing: ExistingAccount | None = None
    policy: DomainPolicy | None = None
    tenant: TenantLogin | None = None


@dataclass(frozen=True)
class SigningIn:
    """An account at a login check (see ``Users.signing_in`` and ``tenancy.login_allowed``)."""

    user: User | None
    domain_owner: DomainPolicy | None = None
    client_tenant: str | None = None  # the client is this tenant's own


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` events an hour for one ``key`` of one ``kind`` (a fixed window)."""

    kind: str
    key: str
    limit: int


@dataclass(frozen=True)
class Tokens:
    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int

    def claims(self) -> dict[str, Any]:
        """The ID token's claims. Only for tokens that came straight from Cognito over TLS:
        nothing is verified here."""
        payload = self.id_token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class KvkSearchResult:
    kvk_number: str
    name: str
    city: str | None
    type: str
    active: bool


@dataclass(frozen=True)
class KvkProfile:
    kvk_number: str
    name: str
    rsin: str | None
    legal_form: str | None
    street: str | None
    postal_code: str | None
    city: str | None
    country: str
    active: bool


@dataclass(frozen=True)
class ViesResult:
    outcome: Literal["valid", "invalid", "inconclusive"]
    name: str | None = None
    address: str | None = None
    request_date: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class OutboundMigration:
    """A started move away from this SMP: hand ``migration_key`` to the new provider."""

    participant_id: str
    migration_key: str = field(repr=False)
    expires_at: datetime | None = None  # phoss-smp (8.x) does not report one


@dataclass(frozen=True)
class InboundMigration:
    """The outcome of claiming a participant with a migration key.

    ``already_here``: the SMP already had the service group and did not call the SML.
    ``service_group_created`` False (with the SML migrated): repair with
    ``put_service_group(..., create_in_sml=False)``; a retry of the migration would fail,
    the key is used up.
    """

    service_group_created: bool
    migration_recorded: bool
    already_here: bool = False

    @property
    def complete(self) -> bool:
        return self.already_here or (self.service_group_created and self.migration_recorded)


@dataclass(frozen=True)
class IdempotencyRecord:
    fingerprint: str
    completed: bool
    status_code: int = 0
    body: str = ""
    content_type: str = ""


# --- Persistence ----------------------------------------------------------------------------------
class Users(Protocol):
    def get(self, user_id: str) -> User | None: ...
    def find_login(self, login: str, *, is_email: bool) -> AccountRef | None:
        """``login`` is a canonical email (``is_email``) or a username in any case."""
        ...

    def update_profile(self, user_id: str, changes: dict[str, Any], moment: datetime) -> User:
        """``NotFound`` if the user is gone."""
        ...

    def accept_terms(self, user: User, evidence: dict[str, Any]) -> User:
        """Store ``user.terms`` with the evidence of where the acceptance came from."""
        ...

    def with_email_domain(self, domain: str) -> list[User]:
        """Every user whose address is in ``domain``."""
        ...

    def restrict_login(self, user_id: str, restriction: LoginRestriction | None, moment: datetime) -> User:
        """Set (or, with None, lift) the account's login restriction; ``UserNotFound``."""
        ...

    def signing_in(self, user_id: str, email_canonical: str, client_id: str | None) -> SigningIn:
        """What a login check decides on, in one round trip: the account, the owner of its
        address's domain (``email_canonical``'s, and the account's own if that differs), and
        the tenant whose own client ``client_id`` is, if any."""
        ...


class Signups(Protocol):
    def load(self, email_canonical: str) -> tuple[Signup | None, AccountRef | None, DomainPolicy | None]:
        """The open sign-up and the account of an email, and the owner of its domain (a
        tenant restricted to its own IdP), read together."""
        ...

    def find_by_token_hash(self, token_hash: str) -> Signup | None: ...
    def count(self, limits: list[RateLimit], moment: datetime) -> None:
        """Count one event against each limit, all or none; ``RateLimited`` if one is full."""
        ...

    def uncount(self, limits: list[RateLimit], moment: datetime) -> None: ...
    def replace(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        """Store ``signup`` in place of ``previous`` and count the limits, at once.
        ``RateLimited``; ``SignupRace`` if ``previous`` is no longer current or the email got
        an account meanwhile."""
        ...

    def restore(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        """Undo ``replace`` (the mail could not be sent)."""
        ...

    def complete(self, account: NewAccount, *, evidence: dict[str, Any]) -> None:
        """Use the sign-up's token and create user, environment and the sentinels at once.
        ``UsernameTaken``, ``ActivationUsed``, ``ActivationExpired`` or ``ActivationNotFound``."""
        ...

    def undo_complete(self, account: NewAccount) -> None:
        """Take ``complete`` back, so that the same link can be used again."""
        ...


class Environments(Protocol):
    def get(self, environment_id: str) -> Environment | None: ...
    def add_credit(self, environment_id: str, entry: CreditEntry) -> Environment:
        """Add ``entry`` to the balance and the ledger at once; ``NotFound``."""
        ...

    def credit_entries(self, environment_id: str) -> list[CreditEntry]:
        """The ledger, newest first."""
        ...

    def member_ids(self, environment_id: str) -> list[str]:
        """The user ids of the environment's members."""
        ...


class Tenants(Protocol):
    """Tenants restricted to their own IdP (``adapters.repositories.tenants``)."""

    def get(self, slug: str) -> TenantLogin | None: ...
    def save(
        self,
        tenant: TenantLogin,
        *,
        stored: TenantLogin | None,
        new_environment: Environment | None,
        environment_owner: str | None,
        moment: datetime,
    ) -> None:
        """The tenant, its domains and client (what ``stored`` had and it no longer has given
        back) and its environment (restricted to it; ``new_environment`` created; an existing
        one only if no tenant but ``environment_owner`` restricts it) at once. ``DomainTaken``,
        ``EnvironmentTaken``, ``TenantMoved``."""
        ...

    def remove(self, tenant: TenantLogin) -> None:
        """The tenant and the domains it still owns; its environment stays as it is."""
        ...


class Organisations(Protocol):
    def get(self, environment_id: str, organisation_id: str) -> Organisation | None: ...
    def in_environment(self, environment_id: str) -> list[Organisation]: ...
    def environment_with_organisations(
        self, environment_id: str
    ) -> tuple[Environment | None, list[Organisation]]: ...
    def environment_of(self, organisation_id: str) -> str | None: ...
    def pending_review(self) -> list[Organisation]: ...
    def create(self, organisation: Organisation, *, plan_limit: int) -> None:
        """``OrganisationExists`` (an identifier is claimed) before ``PlanLimitReached``."""
        ...

    def save(
        self,
        organisation: Organisation,
        *,
        previous_version: int,
        claim: str | None = None,
        release: str | None = None,
        jobs: tuple[RegistrationJob, ...] = (),
        require_credit: bool = False,
    ) -> Organisation:
        """Write if nobody changed it since ``previous_version``, at once with a new claim
        (``OrganisationExists``), a released one, the jobs it starts and, if asked, a check
        that its environment has credit (``InsufficientCredit``). ``OrganisationChanged``."""
        ...

    def delete(self, organisation: Organisation) -> None:
        """``OrganisationChanged`` if it changed meanwhile."""
        ...


class RegistrationJobs(Protocol):
    """Registration jobs (new ones are written with the organisation change that starts
    them: ``Organisations.save(jobs=...)``). A job not yet final is in the outbox: due to be
    sent when it is asked for, and due again as a watchdog once it was sent."""

    def get(self, job_id: str) -> RegistrationJob | None: ...
    def get_with_organisations(
        self, refs: list[tuple[str, str, str]]
    ) -> list[tuple[RegistrationJob | None, Organisation | None]]:
        """For each ``(job id, environment id, organisation id)`` the job and the organisation,
        all read in one round trip (a batch of messages at once)."""
        ...

    def save(
        self,
        job: RegistrationJob,
        *,
        previous_version: int,
        organisation: Organisation | None = None,
        redispatch: bool = False,
    ) -> None:
        """Write a transition of ``job`` if the stored one still has ``previous_version``
        (``JobChanged`` if not), at once with the job's participant as ``organisation`` has it
        (that identifier only; the organisation's version moves on), provided the stored
        organisation still has that identifier with this job as its latest
        (``OrganisationChanged`` if not). A final job leaves the outbox; ``redispatch`` (a
        requeued job) puts it back, due at once and not dispatched."""
        ...

    def mark_dispatched(self, job_id: str, moment: datetime, *, due_again: datetime) -> None:
        """The job is on the queue; unless it is final by then, the outbox looks at it again
        at ``due_again`` (the watchdog). Does nothing for a job that is already final."""
        ...

    def due(self, moment: datetime, *, limit: int) -> list[RegistrationJob]:
        """Jobs of the outbox that are due at ``moment``, oldest first, at most ``limit``."""
        ...


class IdempotencyStore(Protocol):
    def begin(self, scope: str, key: str, fingerprint: str, moment: datetime) -> IdempotencyRecord | None:
        """Claim the key for this request: ``None`` if claimed, else the record that holds it."""
        ...

    def finish(
        self, scope: str, key: str, fingerprint: str, status_code: int, body: str, content_type: str
    ) -> None: ...
    def abandon(self, scope: str, key: str, fingerprint: str) -> None: ...


class Logins(Protocol):
    """Federated logins in progress (``adapters.repositories.logins``)."""

    def start(self, attempt: LoginAttempt) -> None: ...
    def take(self, state_hash: str, moment: datetime) -> LoginAttempt | None:
        """Use up a started login: None if unknown, used or expired."""
        ...

    def keep_session(self, code: str, tokens: Tokens, expires_at: datetime) -> None:
        """Keep a finished login's tokens for one exchange of ``code``."""
        ...

    def take_session(self, code: str, moment: datetime) -> Tokens | None:
        """Use up a session code: None if unknown, used or expired."""
        ...

    def remember_client(self, refresh_token: str, client_id: str, expires_at: datetime) -> None:
        """Which app client issued a refresh token (a tenant's: the API refreshes it there)."""
        ...

    def client_of(self, refresh_token: str) -> str | None:
        """The app client ``remember_client`` noted for a refresh token, if any."""
        ...


class FederatedIdentities(Protocol):
    """Which account a provider's identity signs in to (``adapters.repositories.identities``)."""

    def find(
        self, provider: str, subject: str, email_canonical: str, *, tenant: str | None = None
    ) -> SignInFacts:
        """The identity's item, the account holding the address, its domain's owner and (for
        a tenant's IdP) the ``tenant``: one read."""
        ...

    def create_account(
        self, identity: FederatedIdentity, user: User, environment: Environment | None, *, claim_email: bool
    ) -> None:
        """The new account at once; ``IdentityTaken`` (already done) or ``AddressTaken``."""
        ...

    def link(self, identity: FederatedIdentity, *, restriction: LoginRestriction | None = None) -> None:
        """Record a link to an existing account (a tenant's IdP: restricted to the tenant);
        ``IdentityTaken``, ``UserNotFound``."""
        ...


# --- Outside services -----------------------------------------------------------------------------
class HostedLogin(Protocol):
    """The user pool's OAuth 2.0 authorization server (hosted login)."""

    def authorize_url(
        self,
        *,
        provider: Provider,
        state: str,
        nonce: str,
        code_challenge: str,
        login_hint: str | None,
        client_id: str | None = None,
    ) -> str:
        """``client_id``: a tenant's app client; None: the hosted login's own."""
        ...

    def exchange(self, code: str, code_verifier: str, client_id: str | None = None) -> Tokens:
        """``LoginRejected`` (bad, used or expired code) or ``IdentityUnavailable``."""
        ...

    def verify(self, id_token: str, client_id: str | None = None) -> dict[str, Any]:
        """Signature, issuer, audience (``client_id``'s), expiry, token use; ``TokenInvalid``."""
        ...


class IdentityLinks(Protocol):
    def link(self, user_pool_id: str, destination_username: str, provider_name: str, subject: str) -> None:
        """Link a provider's identity to an existing user; idempotent; ``IdentityUnavailable``."""
        ...


class Identity(Protocol):
    """The user pool."""

    def create_login(self, username: str, email: str, password: str) -> None:
        """``IdentityUnavailable`` (and nothing left behind) if it cannot."""
        ...

    def authenticate(self, username: str, password: str) -> Tokens:
        """``LoginRejected``, ``LoginRefused`` (a trigger refused it) or ``IdentityUnavailable``."""
        ...

    def refresh(self, refresh_token: str, client_id: str | None = None) -> Tokens:
        """At ``client_id`` (the app client that issued it), else at the API's and the hosted
        login's clients. ``LoginRejected``, ``LoginRefused`` (a trigger refused it) or
        ``IdentityUnavailable``."""
        ...

    def sign_out(self, username: str) -> None:
        """Revoke every refresh token of the user; best effort."""
        ...


class Mailer(Protocol):
    def send(self, mail: Mail) -> str:
        """The message id; ``MailNotSent``."""
        ...


class Kvk(Protocol):
    def search(self, *, kvk_number: str | None = None, name: str | None = None) -> list[KvkSearchResult]:
        """``KvkUnavailable``."""
        ...

    def profile(self, kvk_number: str) -> KvkProfile | None:
        """None if the KvK does not know the number; ``KvkUnavailable``."""
        ...


class Vies(Protocol):
    def check(self, country_code: str, vat_number: str) -> ViesResult:
        """Never raises: an outage is an ``inconclusive`` result."""
        ...


class JobQueue(Protocol):
    def send(self, message: RegistrationMessage) -> None:
        """``QueueUnavailable``. In the participant's message group, deduplicated by
        ``message.deduplication_id``."""
        ...


class Smp(Protocol):
    """The SMP (phoss-smp REST API). Every method raises ``SmpUnavailable`` (transient,
    ``SmlWriteFailed`` among them), ``SmpRejected`` (permanent, ``SmpAuthRejected`` among
    them) or ``RegisteredElsewhere``."""

    base_url: str

    def service_group(self, participant_id: str) -> list[str] | None:
        """The document type ids registered for the participant; None if it has no group."""
        ...

    def put_service_group(self, participant_id: str, *, create_in_sml: bool = True) -> None: ...
    def delete_service_group(self, participant_id: str, *, delete_in_sml: bool = True) -> bool: ...
    def put_service_metadata(
        self, participant_id: str, document: DocumentType, endpoint: AccessPointEndpoint
    ) -> None: ...
    def delete_service_metadata(self, participant_id: str, document: DocumentType) -> bool: ...
    def put_business_card(self, participant_id: str, entity: BusinessEntity) -> None: ...
    def delete_business_card(self, participant_id: str) -> bool: ...
    def start_outbound_migration(self, participant_id: str) -> OutboundMigration: ...
    def cancel_outbound_migration(self, participant_id: str) -> bool: ...
    def finalize_outbound_migration(self, participant_id: str) -> bool: ...
    def migrate_inbound(self, participant_id: str, migration_key: str) -> InboundMigration: ...


class SmlLookup(Protocol):
    def lookup(self, participant_id: str) -> str | None:
        """The base URL of the SMP serving the participant, or None when the SML has no
        record of it; ``SmlLookupFailed`` when DNS gave no usable answer."""
        ...


__all__ = [
    "AccountRef",
    "Environments",
    "FederatedIdentities",
    "HostedLogin",
    "IdempotencyRecord",
    "IdempotencyStore",
    "Identity",
    "IdentityLinks",
    "InboundMigration",
    "JobQueue",
    "Kvk",
    "KvkProfile",
    "KvkSearchResult",
    "Logins",
    "Mailer",
    "Organisations",
    "OutboundMigration",
    "RateLimit",
    "RegistrationJobs",
    "Signups",
    "SmlLookup",
    "Smp",
    "Tokens",
    "Users",
    "Vies",
    "ViesResult",
]
