"""Failures of outside services leave nothing half-done; races leave one winner; routes stay
within their AWS-call budgets and never Scan."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from auth_api.service import RequestInfo
from infra.local.aws_calls import count_aws_calls
from onboarding.domain.errors import IdentityUnavailable, MailNotSent
from onboarding.domain.rules import CURRENT_TERMS_VERSION
from tests.support.events import body_of, header
from tests.support.flows import PASSWORD, call, claims_of, complete, login, mails_to, new_account, sign_up
from tests.support.races import race


class BrokenMailer:
    def send(self, mail: Any) -> str:
        raise MailNotSent("Throttling")


def test_mail_outage_is_503_with_retry_after_and_the_previous_link_keeps_working(
    local_aws: Any, email: str, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    working = sign_up(local_aws, email)
    monkeypatch.setattr(service, "mailer", BrokenMailer())
    for path in ("/auth/signup", "/auth/activation/resend"):
        response = call("POST", path, body={"email": email})
        assert response["statusCode"] == 503
        assert body_of(response)["error"]["code"] == "mail_unavailable"
        assert int(header(response, "Retry-After") or 0) > 0
    monkeypatch.undo()
    assert call("POST", "/auth/activation/check", body={"token": working})["statusCode"] == 200
    # The failed attempts did not use up the address's mail allowance (5 an hour).
    for _ in range(4):
        sign_up(local_aws, email)
    assert len(mails_to(local_aws, email)) == 5


def test_mail_outage_for_a_first_signup_leaves_no_token(
    local_aws: Any, email: str, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "mailer", BrokenMailer())
    assert call("POST", "/auth/signup", body={"email": email})["statusCode"] == 503
    signup, account, _ = service.signups.load(email)
    assert signup is None and account is None


def test_mail_outage_for_a_known_address_is_503_too(
    local_aws: Any, email: str, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    new_account(local_aws, email)
    monkeypatch.setattr(service, "mailer", BrokenMailer())
    assert call("POST", "/auth/signup", body={"email": email})["statusCode"] == 503


def test_identity_outage_undoes_the_activation_so_the_link_can_be_used_again(
    local_aws: Any, email: str, service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sign_up(local_aws, email)

    def unavailable(*args: Any, **kwargs: Any) -> None:
        raise IdentityUnavailable("TooManyRequestsException")

    monkeypatch.setattr(service.identity, "create_login", unavailable)
    failed = complete(token, username="retry-" + email[5:17])
    assert failed["statusCode"] == 503 and body_of(failed)["error"]["code"] == "identity_unavailable"
    signup, account, _ = service.signups.load(email)
    assert account is None and signup.status.value == "pending"
    monkeypatch.undo()
    assert complete(token, username="retry-" + email[5:17])["statusCode"] == 201


def test_twenty_parallel_completions_with_one_token_create_exactly_one_user(
    local_aws: Any, email: str, service: Any
) -> None:
    token = sign_up(local_aws, email)

    def create(i: int) -> None:
        service.complete_activation(
            token=token,
            username=f"racer{i}-{uuid.uuid4().hex[:6]}",
            password=PASSWORD,
            terms_version=CURRENT_TERMS_VERSION,
            environment_name=None,
            request=RequestInfo(ip="127.0.0.1"),
        )

    outcomes = race(create)
    assert outcomes.count("created") == 1, outcomes
    assert set(outcomes) <= {"created", "activation_used"}
    _, account, _ = service.signups.load(email)
    assert account is not None
    user = service.users.get(account.user_id)
    assert user is not None and login(user.username)["id_token"]


def test_twenty_parallel_signups_of_one_email_leave_exactly_one_working_token(
    local_aws: Any, email: str, service: Any
) -> None:
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(
            pool.map(lambda i: service.sign_up(email, "nl", RequestInfo(ip=f"10.9.{i}.1")), range(20))
        )
    assert len(set(answers)) == 1
    tokens = [t for t in (_token(m) for m in mails_to(local_aws, email)) if t]
    assert 1 <= len(tokens) <= 5
    working = [
        t for t in tokens if call("POST", "/auth/activation/check", body={"token": t})["statusCode"] == 200
    ]
    assert len(working) == 1


def _token(mail: dict[str, Any]) -> str | None:
    import re

    found = re.search(r"#token=([A-Za-z0-9_-]{43})", mail["text"])
    return found.group(1) if found else None


# --- AWS calls per route -----------------------------------------------------------------------
def test_signup_makes_at_most_three_aws_calls_known_or_not(local_aws: Any, email: str) -> None:
    new_account(local_aws, "known-" + email)
    counts = []
    for address in (email, "known-" + email):
        with count_aws_calls() as log:
            assert call("POST", "/auth/signup", body={"email": address})["statusCode"] == 202
        counts.append(log.count)
    assert counts[0] == counts[1] <= 3, counts


def test_get_me_makes_at_most_two_aws_calls(local_aws: Any, email: str) -> None:
    created = new_account(local_aws, email)
    claims = claims_of(login(created["user"]["username"])["id_token"])
    with count_aws_calls() as log:
        assert call("GET", "/me", claims=claims)["statusCode"] == 200
    assert log.count <= 2, log.calls


def test_no_route_scans(local_aws: Any, email: str) -> None:
    with count_aws_calls() as log:
        token = sign_up(local_aws, email)
        call("POST", "/auth/activation/check", body={"token": token})
        created = body_of(complete(token))
        tokens = login(created["user"]["username"])
        claims = claims_of(tokens["id_token"])
        for method, path, body in (
            ("GET", "/me", None),
            ("PATCH", "/me", {"name": "x"}),
            ("GET", "/environment", None),
            ("POST", "/me/terms", {"version": CURRENT_TERMS_VERSION}),
        ):
            call(method, path, claims=claims, body=body)
        call("POST", "/auth/token/refresh", body={"refresh_token": tokens["refresh_token"]})
    operations = set(log.by_operation())
    assert operations and not any(op.endswith(".Scan") for op in operations), operations
