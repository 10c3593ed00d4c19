"""In-memory fakes of the ports (``onboarding.domain.ports``), for unit tests of the services'
rules that run in milliseconds with the network blocked.

Each fake keeps the contract its Protocol documents, including the errors: a claimed
identifier is ``OrganisationExists``, a stale version ``OrganisationChanged``, and so on. They
share one ``Memory``, as the repositories share one table, so that what one writes the
others see (a completed sign-up is a user *and* an environment). The DynamoDB adapters keep
the same contract; the integration tests check them against the emulator.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboarding.domain import errors
from onboarding.domain.identifiers import participant_key
from onboarding.domain.linking import DomainPolicy, ExistingAccount, Provider
from onboarding.domain.mail import Mail
from onboarding.domain.models import (
    CreditEntry,
    Environment,
    FederatedIdentity,
    LoginAttempt,
    NewAccount,
    Role,
    Signup,
    SignupStatus,
    User,
)
from onboarding.domain.organisations import PEPPOL_FIELDS, Organisation, OrganisationStatus
from onboarding.domain.peppol import (
    AccessPointEndpoint,
    BusinessEntity,
    DocumentType,
    new_migration_key,
    participant_value,
)
from onboarding.domain.ports import (
    AccountRef,
    InboundMigration,
    KvkProfile,
    KvkSearchResult,
    OutboundMigration,
    RateLimit,
    SignInFacts,
    SigningIn,
    Tokens,
    ViesResult,
)
from onboarding.domain.registration import RegistrationJob, RegistrationMessage
from onboarding.domain.rules import canonical_username, hour_bucket, seconds_to_next_hour
from onboarding.domain.tenancy import LoginRestriction, TenantLogin

API_CLIENT = "api-client"  # the app client FakeIdentity's password logins get tokens for


@dataclass
class Memory:
    """What the platform table would hold."""

    signups: dict[str, Signup] = field(default_factory=dict)  # by canonical email
    emails: dict[str, AccountRef] = field(default_factory=dict)  # canonical email -> account
    usernames: dict[str, AccountRef] = field(default_factory=dict)  # lower-case username -> account
    users: dict[str, User] = field(default_factory=dict)
    terms_evidence: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    organisation_counts: Counter[str] = field(default_factory=Counter)
    ledger: dict[str, list[CreditEntry]] = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)  # participant key -> organisation id
    jobs: dict[str, RegistrationJob] = field(default_factory=dict)
    outbox: dict[str, datetime] = field(default_factory=dict)  # job id -> when it is due
    counters: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    identities: dict[tuple[str, str], FederatedIdentity] = field(default_factory=dict)  # (provider, subject)
    domain_policies: dict[str, DomainPolicy] = field(default_factory=dict)  # email domain -> owner
    tenants: dict[str, TenantLogin] = field(default_factory=dict)  # slug -> tenant
    tenant_clients: dict[str, str] = field(default_factory=dict)  # a tenant's app client -> its slug
    refresh_clients: dict[str, str] = field(default_factory=dict)  # refresh token -> app client
    logins: dict[str, tuple[LoginAttempt, bool]] = field(
        default_factory=dict
    )  # state hash -> (attempt, used)
    sessions: dict[str, tuple[Tokens, datetime, bool]] = field(
        default_factory=dict
    )  # code -> (tokens, expiry, used)


# --- Persistence ------------------------------------------------------------------------------------
class InMemoryUsers:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.reads = 0  # signing_in's round trips

    def get(self, user_id: str) -> User | None:
        return self.memory.users.get(user_id)

    def find_login(self, login: str, *, is_email: bool) -> AccountRef | None:
        if is_email:
            return self.memory.emails.get(login)
        return self.memory.usernames.get(canonical_username(login))

    def update_profile(self, user_id: str, changes: dict[str, Any], moment: datetime) -> User:
        user = self._existing(user_id)
        updated = user.model_copy(update={**changes, "updated_at": moment})
        self.memory.users[user_id] = User.model_validate(updated.model_dump())
        return self.memory.users[user_id]

    def accept_terms(self, user: User, evidence: dict[str, Any]) -> User:
        assert user.terms is not None
        self._existing(user.id)
        self.memory.users[user.id] = user
        self.memory.terms_evidence[(user.id, user.terms.version)] = evidence
        return user

    def change_role(self, user_id: str, role: Role, moment: datetime) -> User:
        return self.update_profile(user_id, {"role": role}, moment)

    def with_email_domain(self, domain: str) -> list[User]:
        return [u for u in self.memory.users.values() if u.email_canonical.rpartition("@")[2] == domain]

    def restrict_login(self, user_id: str, restriction: LoginRestriction | None, moment: datetime) -> User:
        return self.update_profile(user_id, {"login_restriction": restriction}, moment)

    def signing_in(self, user_id: str, email_canonical: str, client_id: str | None) -> SigningIn:
        self.reads += 1
        user = self.memory.users.get(user_id)
        domain = email_canonical.rpartition("@")[2]
        if user is not None and domain and user.email_canonical.rpartition("@")[2] != domain:
            domain = user.email_canonical.rpartition("@")[2]
        return SigningIn(
            user=user,
            domain_owner=self.memory.domain_policies.get(domain) if domain else None,
            client_tenant=self.memory.tenant_clients.get(client_id or ""),
        )

    def _existing(self, user_id: str) -> User:
        user = self.memory.users.get(user_id)
        if user is None:
            raise errors.UserNotFound
        return user


class InMemorySignups:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def load(self, email_canonical: str) -> tuple[Signup | None, AccountRef | None, DomainPolicy | None]:
        return (
            self.memory.signups.get(email_canonical),
            self.memory.emails.get(email_canonical),
            self.memory.domain_policies.get(email_canonical.rpartition("@")[2]),
        )

    def find_by_token_hash(self, token_hash: str) -> Signup | None:
        return next((s for s in self.memory.signups.values() if s.token_hash == token_hash), None)

    def count(self, limits: list[RateLimit], moment: datetime) -> None:
        for limit in limits:
            if self.memory.counters[self._counter(limit, moment)] >= limit.limit:
                raise errors.RateLimited(limit.kind, seconds_to_next_hour(moment))
        for limit in limits:
            self.memory.counters[self._counter(limit, moment)] += 1

    def uncount(self, limits: list[RateLimit], moment: datetime) -> None:
        for limit in limits:
            self.memory.counters[self._counter(limit, moment)] -= 1

    def replace(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        current = self.memory.signups.get(signup.email_canonical)
        stale = (
            (current is not None)
            if previous is None
            else (current is None or current.token_hash != previous.token_hash)
        )
        if stale or signup.email_canonical in self.memory.emails:
            self.count(limits, moment)  # the limits are checked first, as in the transaction
            self.uncount(limits, moment)
            raise errors.SignupRace
        self.count(limits, moment)
        self.memory.signups[signup.email_canonical] = signup

    def restore(
        self, signup: Signup, previous: Signup | None, limits: list[RateLimit], moment: datetime
    ) -> None:
        current = self.memory.signups.get(signup.email_canonical)
        if current is None or current.token_hash != signup.token_hash:
            return
        if previous is None:
            del self.memory.signups[signup.email_canonical]
        else:
            self.memory.signups[signup.email_canonical] = previous
        self.uncount(limits, moment)

    def complete(self, account: NewAccount, *, evidence: dict[str, Any]) -> None:
        signup, user, environment = account.signup, account.user, account.environment
        current = self.memory.signups.get(signup.email_canonical)
        usable = (
            current is not None
            and current.token_hash == signup.token_hash
            and current.status is SignupStatus.PENDING
            and current.expires_at > user.created_at
        )
        if canonical_username(user.username) in self.memory.usernames:
            raise errors.UsernameTaken
        if not usable:
            if current is None or current.token_hash != signup.token_hash:
                raise errors.ActivationNotFound
            if current.status is SignupStatus.USED:
                raise errors.ActivationUsed
            raise errors.ActivationExpired
        ref = AccountRef(user.id, environment.id)
        self.memory.signups[signup.email_canonical] = signup.model_copy(
            update={"status": SignupStatus.USED, "used_at": user.created_at}
        )
        self.memory.usernames[canonical_username(user.username)] = ref
        self.memory.emails[user.email_canonical] = ref
        self.memory.users[user.id] = user
        assert user.terms is not None
        self.memory.terms_evidence[(user.id, user.terms.version)] = evidence
        self.memory.environments[environment.id] = environment

    def undo_complete(self, account: NewAccount) -> None:
        signup, user = account.signup, account.user
        self.memory.signups[signup.email_canonical] = signup
        self.memory.usernames.pop(canonical_username(user.username), None)
        self.memory.emails.pop(user.email_canonical, None)
        self.memory.users.pop(user.id, None)
        self.memory.environments.pop(account.environment.id, None)

    @staticmethod
    def _counter(limit: RateLimit, moment: datetime) -> tuple[str, str, str]:
        return limit.kind, limit.key, hour_bucket(moment)


class InMemoryEnvironments:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def get(self, environment_id: str) -> Environment | None:
        return self.memory.environments.get(environment_id)

    def add_credit(self, environment_id: str, entry: CreditEntry) -> Environment:
        environment = self.memory.environments.get(environment_id)
        if environment is None:
            raise errors.EnvironmentNotFound
        updated = environment.model_copy(
            update={
                "credit_balance_cents": environment.credit_balance_cents + entry.amount_cents,
                "updated_at": entry.at,
            }
        )
        self.memory.environments[environment_id] = updated
        self.memory.ledger.setdefault(environment_id, []).append(entry)
        return updated

    def credit_entries(self, environment_id: str) -> list[CreditEntry]:
        return sorted(self.memory.ledger.get(environment_id, []), key=lambda e: e.at, reverse=True)

    def member_ids(self, environment_id: str) -> list[str]:
        return [u.id for u in self.memory.users.values() if u.environment_id == environment_id]


class InMemoryTenants:
    """Restricted tenants and the email domains they own (``Tenants``)."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def get(self, slug: str) -> TenantLogin | None:
        return self.memory.tenants.get(slug)

    def save(
        self,
        tenant: TenantLogin,
        *,
        stored: TenantLogin | None,
        new_environment: Environment | None,
        environment_owner: str | None,
        moment: datetime,
    ) -> None:
        taken = sorted(
            d
            for d in tenant.email_domains
            if (owner := self.memory.domain_policies.get(d)) is not None and owner.provider_id != tenant.slug
        )
        if taken:
            raise errors.DomainTaken(taken)
        existing = self.memory.tenants.get(tenant.slug)
        if existing is not None and existing.environment_id != tenant.environment_id:
            raise errors.TenantMoved
        environment = new_environment or self.memory.environments.get(tenant.environment_id)
        if environment is None or (new_environment and new_environment.id in self.memory.environments):
            raise errors.EnvironmentNotFound
        if environment.restricted_to_idp not in (None, tenant.slug, environment_owner):
            raise errors.EnvironmentTaken
        self.memory.environments[environment.id] = environment.model_copy(
            update={"restricted_to_idp": tenant.slug, "updated_at": moment}
        )
        self.memory.tenants[tenant.slug] = tenant
        for domain in tenant.email_domains:
            self.memory.domain_policies[domain] = DomainPolicy(
                tenant.environment_id, tenant.slug, tenant.client_id
            )
        for domain in (stored.email_domains - tenant.email_domains) if stored else ():
            self._release(tenant.slug, domain)
        if stored is not None:
            self.memory.tenant_clients.pop(stored.client_id, None)
        self.memory.tenant_clients[tenant.client_id] = tenant.slug

    def remove(self, tenant: TenantLogin) -> None:
        self.memory.tenants.pop(tenant.slug, None)
        self.memory.tenant_clients.pop(tenant.client_id, None)
        for domain in tenant.email_domains:
            self._release(tenant.slug, domain)

    def _release(self, slug: str, domain: str) -> None:
        owner = self.memory.domain_policies.get(domain)
        if owner is not None and owner.provider_id == slug:
            del self.memory.domain_policies[domain]


class InMemoryOrganisations:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def get(self, environment_id: str, organisation_id: str) -> Organisation | None:
        found = self.memory.organisations.get(organisation_id)
        return found if found is not None and found.environment_id == environment_id else None

    def in_environment(self, environment_id: str) -> list[Organisation]:
        return sorted(
            (o for o in self.memory.organisations.values() if o.environment_id == environment_id),
            key=lambda o: o.created_at,
        )

    def environment_with_organisations(
        self, environment_id: str
    ) -> tuple[Environment | None, list[Organisation]]:
        return self.memory.environments.get(environment_id), self.in_environment(environment_id)

    def environment_of(self, organisation_id: str) -> str | None:
        found = self.memory.organisations.get(organisation_id)
        return found.environment_id if found else None

    def claimed_by(self, participant_id: str) -> str | None:
        return self.memory.claims.get(participant_key(participant_id))

    def pending_review(self) -> list[Organisation]:
        waiting = [
            o for o in self.memory.organisations.values() if o.status is OrganisationStatus.PENDING_REVIEW
        ]
        return sorted(waiting, key=lambda o: o.activation.requested_at if o.activation else o.created_at)

    def create(self, organisation: Organisation, *, plan_limit: int) -> None:
        keys = [participant_key(i.participant_id) for i in organisation.identifiers]
        if any(k in self.memory.claims for k in keys):
            raise errors.OrganisationExists
        if organisation.environment_id not in self.memory.environments:
            raise errors.OrganisationChanged
        if self.memory.organisation_counts[organisation.environment_id] >= plan_limit:
            raise errors.PlanLimitReached
        self.memory.organisation_counts[organisation.environment_id] += 1
        self.memory.organisations[organisation.id] = organisation
        self.memory.claims.update(dict.fromkeys(keys, organisation.id))

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
        if claim and participant_key(claim) in self.memory.claims:
            raise errors.OrganisationExists
        stored = self.memory.organisations.get(organisation.id)
        if stored is None or stored.version != previous_version:
            raise errors.OrganisationChanged
        environment = self.memory.environments.get(organisation.environment_id)
        if require_credit and (environment is None or environment.credit_balance_cents <= 0):
            raise errors.InsufficientCredit
        if release and self.memory.claims.get(participant_key(release)) != organisation.id:
            raise errors.OrganisationChanged
        self.memory.organisations[organisation.id] = organisation
        if claim:
            self.memory.claims[participant_key(claim)] = organisation.id
        if release:
            del self.memory.claims[participant_key(release)]
        self.memory.jobs.update({job.id: job for job in jobs})
        self.memory.outbox.update({job.id: job.created_at for job in jobs})
        return organisation

    def delete(self, organisation: Organisation) -> None:
        stored = self.memory.organisations.get(organisation.id)
        if stored is None or stored.version != organisation.version:
            raise errors.OrganisationChanged
        del self.memory.organisations[organisation.id]
        self.memory.organisation_counts[organisation.environment_id] -= 1
        for identifier in organisation.identifiers:
            self.memory.claims.pop(participant_key(identifier.participant_id), None)


class InMemoryJobs:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def get(self, job_id: str) -> RegistrationJob | None:
        return self.memory.jobs.get(job_id)

    def get_with_organisations(
        self, refs: list[tuple[str, str, str]]
    ) -> list[tuple[RegistrationJob | None, Organisation | None]]:
        organisations = InMemoryOrganisations(self.memory)
        return [
            (self.get(job), organisations.get(environment, organisation))
            for job, environment, organisation in refs
        ]

    def save(
        self,
        job: RegistrationJob,
        *,
        previous_version: int,
        organisation: Organisation | None = None,
        redispatch: bool = False,
    ) -> None:
        stored = self.memory.jobs.get(job.id)
        if stored is None or stored.version != previous_version:
            raise errors.JobChanged(f"job {job.id} changed meanwhile")
        if organisation is not None:  # the job's participant only, if this job is still its latest
            current = self.memory.organisations.get(organisation.id)
            stored_identifier = current.find(job.participant_id) if current else None
            if current is None or stored_identifier is None or stored_identifier.job_id != job.id:
                raise errors.OrganisationChanged
            changed = organisation.find(job.participant_id)
            assert changed is not None
            peppol = {name: getattr(changed, name) for name in PEPPOL_FIELDS}  # nothing else of it
            self.memory.organisations[organisation.id] = current.model_copy(
                update={
                    "identifiers": current.replacing(stored_identifier.model_copy(update=peppol)),
                    "updated_at": organisation.updated_at,
                    "version": current.version + 1,
                }
            )
        # ``dispatched_at`` is the dispatcher's, as in the repository.
        dispatched = None if redispatch else stored.dispatched_at
        self.memory.jobs[job.id] = job.model_copy(update={"dispatched_at": dispatched})
        if job.final:
            self.memory.outbox.pop(job.id, None)
        elif redispatch:
            self.memory.outbox[job.id] = job.updated_at

    def mark_dispatched(self, job_id: str, moment: datetime, *, due_again: datetime) -> None:
        if job_id not in self.memory.outbox:
            return
        self.memory.jobs[job_id] = self.memory.jobs[job_id].model_copy(update={"dispatched_at": moment})
        self.memory.outbox[job_id] = due_again

    def due(self, moment: datetime, *, limit: int) -> list[RegistrationJob]:
        due = sorted((at, job_id) for job_id, at in self.memory.outbox.items() if at <= moment)
        return [self.memory.jobs[job_id] for _, job_id in due[:limit]]


class InMemoryLogins:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory

    def start(self, attempt: LoginAttempt) -> None:
        assert attempt.state_hash not in self.memory.logins
        self.memory.logins[attempt.state_hash] = (attempt, False)

    def take(self, state_hash: str, moment: datetime) -> LoginAttempt | None:
        found = self.memory.logins.get(state_hash)
        if found is None or found[1] or found[0].expires_at <= moment:
            return None
        self.memory.logins[state_hash] = (found[0], True)
        return found[0]

    def keep_session(self, code: str, tokens: Tokens, expires_at: datetime) -> None:
        self.memory.sessions[code] = (tokens, expires_at, False)

    def take_session(self, code: str, moment: datetime) -> Tokens | None:
        found = self.memory.sessions.get(code)
        if found is None or found[2] or found[1] <= moment:
            return None
        self.memory.sessions[code] = (found[0], found[1], True)
        return found[0]

    def remember_client(self, refresh_token: str, client_id: str, expires_at: datetime) -> None:
        self.memory.refresh_clients[refresh_token] = client_id

    def client_of(self, refresh_token: str) -> str | None:
        return self.memory.refresh_clients.get(refresh_token)


class InMemoryIdentities:
    """The federated identities and the accounts first sign-ins create (``FederatedIdentities``)."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.reads = 0

    def find(
        self, provider: str, subject: str, email_canonical: str, *, tenant: str | None = None
    ) -> SignInFacts:
        self.reads += 1
        account = self.memory.emails.get(email_canonical) if email_canonical else None
        policy = (
            self.memory.domain_policies.get(email_canonical.rpartition("@")[2]) if email_canonical else None
        )
        return SignInFacts(
            identity=self.memory.identities.get((provider, subject)),
            existing=ExistingAccount(account.user_id, account.environment_id) if account else None,
            policy=policy,
            tenant=self.memory.tenants.get(tenant) if tenant else None,
        )

    def create_account(
        self, identity: FederatedIdentity, user: User, environment: Environment | None, *, claim_email: bool
    ) -> None:
        if (identity.provider, identity.subject) in self.memory.identities or user.id in self.memory.users:
            raise errors.IdentityTaken
        if claim_email and user.email_canonical in self.memory.emails:
            raise errors.AddressTaken
        self.memory.identities[(identity.provider, identity.subject)] = identity
        self.memory.users[user.id] = user
        if claim_email:
            self.memory.emails[user.email_canonical] = AccountRef(user.id, user.environment_id)
        if environment is not None:
            self.memory.environments[environment.id] = environment

    def link(self, identity: FederatedIdentity, *, restriction: LoginRestriction | None = None) -> None:
        if (identity.provider, identity.subject) in self.memory.identities:
            raise errors.IdentityTaken
        user = self.memory.users.get(identity.user_id)
        if user is None:
            raise errors.UserNotFound
        self.memory.identities[(identity.provider, identity.subject)] = identity
        changes: dict[str, Any] = {}
        if identity.provider not in user.identities:
            changes["identities"] = [*user.identities, identity.provider]
        if restriction is not None:
            changes["login_restriction"] = restriction
        self.memory.users[user.id] = user.model_copy(update=changes)


# --- Outside services ---------------------------------------------------------------------------
class FakeLinks:
    """The user pool's AdminLinkProviderForUser: links made, and a switch to make it fail."""

    def __init__(self) -> None:
        self.links: dict[tuple[str, str], str] = {}  # (provider name, subject) -> destination user
        self.calls = 0
        self.unavailable = False

    def link(self, user_pool_id: str, destination_username: str, provider_name: str, subject: str) -> None:
        self.calls += 1
        if self.unavailable:
            raise errors.IdentityUnavailable("TooManyRequestsException")
        self.links[(provider_name, subject)] = destination_username


class FakeHostedLogin:
    """The user pool's hosted login: the authorize URL it would send the browser to, and a code
    exchange that answers what a test set (tokens, or a refusal)."""

    def __init__(self) -> None:
        self.tokens: Tokens | None = None
        self.claims: dict[str, Any] = {}
        self.exchange_fails: Exception | None = None
        self.verify_fails: Exception | None = None
        self.exchanged: list[tuple[str, str]] = []

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
        self.last = {
            "provider": provider.cognito_name,
            "state": state,
            "nonce": nonce,
            "code_challenge": code_challenge,
            "login_hint": login_hint,
            "client_id": client_id,
        }
        return f"https://login.example/oauth2/authorize?state={state}"

    def exchange(self, code: str, code_verifier: str, client_id: str | None = None) -> Tokens:
        self.exchanged.append((code, code_verifier))
        self.exchanged_at = client_id
        if self.exchange_fails is not None:
            raise self.exchange_fails
        assert self.tokens is not None
        return self.tokens

    def verify(self, id_token: str, client_id: str | None = None) -> dict[str, Any]:
        self.verified_for = client_id
        if self.verify_fails is not None:
            raise self.verify_fails
        return dict(self.claims)


def _unsigned_token(claims: dict[str, Any]) -> str:
    """A JWT-shaped string whose payload ``Tokens.claims`` can read (nothing verifies it)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part(claims)}.signature"


class FakeIdentity:
    """A user pool: logins with passwords, refresh tokens, and a switch to make it fail."""

    def __init__(self) -> None:
        self.logins: dict[str, tuple[str, str]] = {}  # username -> (email, password)
        self.refresh_tokens: dict[str, tuple[str, str]] = {}  # refresh token -> (username, client)
        self.signed_out: list[str] = []
        self.asked: list[str] = []  # usernames authenticate was asked about
        self.unavailable = False

    def create_login(self, username: str, email: str, password: str) -> None:
        self._available()
        self.logins[username] = (email, password)

    def authenticate(self, username: str, password: str) -> Tokens:
        self.asked.append(username)
        self._available()
        login = self.logins.get(username)
        if login is None or login[1] != password:
            raise errors.LoginRejected("NotAuthorizedException")
        return self.issue(username, API_CLIENT)

    def issue(self, username: str, client_id: str) -> Tokens:
        """Tokens (with a refresh token) of ``client_id``, as a login through it gives them."""
        refresh_token = f"refresh-{len(self.refresh_tokens)}-{username}"
        self.refresh_tokens[refresh_token] = (username, client_id)
        return self._tokens(username, refresh_token, client_id)

    def refresh(self, refresh_token: str, client_id: str | None = None) -> Tokens:
        self._available()
        found = self.refresh_tokens.get(refresh_token)
        # A refresh token works only at the client that issued it (the API's or the web
        # client's, tried in turn, when none is named).
        if found is None or (client_id is not None and found[1] != client_id):
            raise errors.LoginRejected("NotAuthorizedException")
        return self._tokens(found[0], None, found[1])

    def sign_out(self, username: str) -> None:
        self.signed_out.append(username)
        self.refresh_tokens = {t: u for t, u in self.refresh_tokens.items() if u[0] != username}

    def _tokens(self, username: str, refresh_token: str | None, client_id: str) -> Tokens:
        email = self.logins[username][0] if username in self.logins else f"{username}@example.org"
        claims = {"cognito:username": username, "token_use": "id", "email": email, "aud": client_id}
        return Tokens(
            id_token=_unsigned_token(claims),
            access_token=_unsigned_token({"username": username, "token_use": "access"}),
            refresh_token=refresh_token,
            expires_in=3600,
        )

    def _available(self) -> None:
        if self.unavailable:
            raise errors.IdentityUnavailable("TooManyRequestsException")


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[Mail] = []
        self.failing = False

    def send(self, mail: Mail) -> str:
        if self.failing:
            raise errors.MailNotSent("Throttling")
        self.sent.append(mail)
        return f"message-{len(self.sent)}"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.sent if m.to.strip().lower() == address.strip().lower()]


class FakeKvk:
    def __init__(self, profiles: dict[str, KvkProfile] | None = None) -> None:
        self.profiles = dict(profiles or {})
        self.unavailable = False

    def search(self, *, kvk_number: str | None = None, name: str | None = None) -> list[KvkSearchResult]:
        self._available()
        return [
            KvkSearchResult(p.kvk_number, p.name, p.city, "hoofdvestiging", p.active)
            for p in self.profiles.values()
            if p.kvk_number == kvk_number or (name and name.lower() in p.name.lower())
        ]

    def profile(self, kvk_number: str) -> KvkProfile | None:
        self._available()
        return self.profiles.get(kvk_number)

    def _available(self) -> None:
        if self.unavailable:
            raise errors.KvkUnavailable("HTTP 503")


class FakeVies:
    def __init__(self, results: dict[str, ViesResult] | None = None) -> None:
        self.results = dict(results or {})  # "NL000099998B57" -> result
        self.asked: list[tuple[str, str]] = []

    def check(self, country_code: str, vat_number: str) -> ViesResult:
        self.asked.append((country_code, vat_number))
        return self.results.get(f"{country_code}{vat_number}", ViesResult("invalid", error="INVALID_INPUT"))


class FakeQueue:
    """A FIFO queue: a message whose deduplication id was sent before is dropped."""

    def __init__(self) -> None:
        self.messages: list[RegistrationMessage] = []
        self.unavailable = False
        self.sends = 0

    def send(self, message: RegistrationMessage) -> None:
        if self.unavailable:
            raise errors.QueueUnavailable("AWS.SimpleQueueService.NonExistentQueue")
        self.sends += 1
        if all(m.deduplication_id != message.deduplication_id for m in self.messages):
            self.messages.append(message)

    def take(self) -> list[RegistrationMessage]:
        """Every message sent so far (removed)."""
        taken, self.messages = self.messages, []
        return taken


def _key(participant_id: str) -> str:
    return participant_value(participant_id).lower()


@dataclass
class _Group:
    documents: dict[str, DocumentType] = field(default_factory=dict)  # url id -> document type
    endpoints: dict[str, AccessPointEndpoint] = field(default_factory=dict)
    card: BusinessEntity | None = None


class FakeSmp:
    """An SMP with its SML (participant -> SMP URL), keeping the ``Smp`` port's contract:
    phoss-smp's answers turned into the port's errors. ``fail_next`` errors are raised, one per
    call, before anything happens; ``calls`` records what was asked."""

    ELSEWHERE = "https://smp.elsewhere.example"

    def __init__(self, base_url: str = "https://smp.example") -> None:
        self.base_url = base_url
        self.groups: dict[str, _Group] = {}
        self.sml: dict[str, str] = {}
        self.prepared: dict[str, str] = {}  # participant -> migration key prepared in the SML
        self.outbound: dict[str, str] = {}  # participant -> key of a move away in progress
        self.fail_next: list[Exception] = []
        self.calls: list[tuple[str, str]] = []

    def register_elsewhere(self, participant_id: str, migration_key: str | None = None) -> str:
        """Another SMP holds the participant (and prepared a key to move it, if asked)."""
        self.sml[_key(participant_id)] = self.ELSEWHERE
        key = migration_key or new_migration_key()
        self.prepared[_key(participant_id)] = key
        return key

    def _call(self, operation: str, participant_id: str) -> str:
        self.calls.append((operation, participant_value(participant_id)))
        if self.fail_next:
            raise self.fail_next.pop(0)
        return _key(participant_id)

    def _group(self, key: str, operation: str) -> _Group:
        if key not in self.groups:
            raise errors.SmpRejected(f"{operation}: HTTP 404 Service Group is not registered", 404)
        return self.groups[key]

    def service_group(self, participant_id: str) -> list[str] | None:
        key = self._call("get service group", participant_id)
        group = self.groups.get(key)
        return sorted(group.documents) if group else None

    def put_service_group(self, participant_id: str, *, create_in_sml: bool = True) -> None:
        key = self._call("put service group", participant_id)
        if key in self.groups:
            return
        if create_in_sml:
            if self.sml.get(key, self.base_url) != self.base_url:
                raise errors.SmlWriteFailed("put service group: the SMP could not update the SML", "put")
            self.sml[key] = self.base_url
        self.groups[key] = _Group()

    def delete_service_group(self, participant_id: str, *, delete_in_sml: bool = True) -> bool:
        key = self._call("delete service group", participant_id)
        if key not in self.groups:
            return False
        if delete_in_sml:
            if self.sml.get(key) not in (None, self.base_url):
                raise errors.SmlWriteFailed(
                    "delete service group: the SMP could not update the SML", "delete"
                )
            self.sml.pop(key, None)
        del self.groups[key]
        return True

    def put_service_metadata(
        self, participant_id: str, document: DocumentType, endpoint: AccessPointEndpoint
    ) -> None:
        key = self._call("put service metadata", participant_id)
        group = self._group(key, "put service metadata")
        group.documents[document.url_id] = document
        group.endpoints[document.url_id] = endpoint

    def delete_service_metadata(self, participant_id: str, document: DocumentType) -> bool:
        key = self._call("delete service metadata", participant_id)
        group = self.groups.get(key)
        return bool(group and group.documents.pop(document.url_id, None))

    def put_business_card(self, participant_id: str, entity: BusinessEntity) -> None:
        key = self._call("put business card", participant_id)
        self._group(key, "put business card").card = entity

    def delete_business_card(self, participant_id: str) -> bool:
        key = self._call("delete business card", participant_id)
        group = self.groups.get(key)
        if group is None or group.card is None:
            return False
        group.card = None
        return True

    def start_outbound_migration(self, participant_id: str) -> OutboundMigration:
        key = self._call("start outbound migration", participant_id)
        self._group(key, "start outbound migration")
        self.outbound[key] = self.prepared[key] = new_migration_key()
        return OutboundMigration(
            participant_id=participant_value(participant_id), migration_key=self.outbound[key]
        )

    def cancel_outbound_migration(self, participant_id: str) -> bool:
        key = self._call("cancel outbound migration", participant_id)
        return self.outbound.pop(key, None) is not None

    def finalize_outbound_migration(self, participant_id: str) -> bool:
        key = self._call("finalize outbound migration", participant_id)
        if self.outbound.pop(key, None) is None:
            return False
        self.groups.pop(key, None)
        return True

    def migrate_inbound(self, participant_id: str, migration_key: str) -> InboundMigration:
        key = self._call("inbound migration", participant_id)
        if key in self.groups:
            return InboundMigration(service_group_created=False, migration_recorded=False, already_here=True)
        if self.prepared.get(key) != migration_key:
            raise errors.SmlWriteFailed("inbound migration: the SMP could not update the SML", "migrate")
        del self.prepared[key]
        self.sml[key] = self.base_url
        self.groups[key] = _Group()
        return InboundMigration(service_group_created=True, migration_recorded=True)


class FakeSml:
    """The SML's DNS, reading the fake SMP's register; ``failing`` makes every lookup fail."""

    def __init__(self, smp: FakeSmp) -> None:
        self.smp = smp
        self.failing = False
        self.asked: list[str] = []

    def lookup(self, participant_id: str) -> str | None:
        self.asked.append(participant_id)
        if self.failing:
            raise errors.SmlLookupFailed("DNS timeout")
        return self.smp.sml.get(_key(participant_id))
