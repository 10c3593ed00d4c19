"""The login page and the app's landing page in a real (headless) browser: a login through a
provider via the local identity provider, landing on `/`, accepting the terms; a password
login; and the activation page's way on."""

from __future__ import annotations

import uuid
from typing import Any

from onboarding.domain.rules import CURRENT_TERMS_VERSION
from tests.e2e.conftest import PASSWORD, RunningPlatform
from tests.e2e.federation import manual_account, register


def test_a_person_logs_in_with_google_lands_in_the_app_and_accepts_the_terms(
    platform: RunningPlatform, page: Any, tmp_path: Any
) -> None:
    sub = register(
        platform, "google", f"anna-{uuid.uuid4().hex[:8]}@gmail.com", email_verified=True, name="Anna Jansen"
    )
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{platform.url}/login")
    page.get_by_role("link", name="Inloggen met Google").click()
    page.get_by_text(sub).click()  # the local identity provider's page: pick the identity
    page.get_by_text("Ingelogd als Anna Jansen").wait_for()
    assert page.url == f"{platform.url}/"  # the session code is dropped from the address bar
    assert page.locator("#environment").text_content() == "Omgeving van Anna Jansen"
    assert page.locator("#identities").text_content() == "Google"
    terms = page.locator("#terms")
    assert terms.is_visible() and page.locator("#accept").is_disabled()
    page.check("#accept-terms")
    with page.expect_response("**/me/terms") as accepted:
        page.click("#accept")
    assert accepted.value.status == 200
    page.get_by_text(f"Je hebt de voorwaarden geaccepteerd (versie {CURRENT_TERMS_VERSION})").wait_for()
    assert terms.is_hidden()
    page.screenshot(path=str(tmp_path / "landed.png"))
    # The session code travelled in a fragment and a POST body only.
    session_requests = [url for url in requests if "session=" in url]
    assert not session_requests


def test_a_person_logs_in_with_username_and_password(platform: RunningPlatform, page: Any) -> None:
    email = f"pw-{uuid.uuid4().hex[:8]}@example.nl"
    account = manual_account(platform, email)
    page.goto(f"{platform.url}/login")
    page.fill("#username", email)
    page.fill("#password", "not the password at all")
    page.click("#submit")
    page.get_by_text("Gebruikersnaam of wachtwoord klopt niet.").wait_for()
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.get_by_text(f"Ingelogd als {email}").wait_for()
    assert page.locator("#environment").text_content() == account["environment"]["name"]
    assert page.locator("#terms").is_hidden()  # accepted at activation


def test_the_login_page_speaks_english_and_offers_sign_up(platform: RunningPlatform, page: Any) -> None:
    page.goto(f"{platform.url}/login")
    page.get_by_role("link", name="Inloggen met Microsoft").wait_for()
    page.click("#switch-language")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("link", name="Log in with Apple").wait_for()
    page.click("#show-signup")
    page.fill("#signup-email", f"new-{uuid.uuid4().hex[:8]}@example.nl")
    page.click("#signup-submit")
    page.get_by_text("If this address can be used, we have sent it an activation link.").wait_for()


def test_a_cancelled_login_lands_in_the_app_with_a_clear_message(
    platform: RunningPlatform, page: Any
) -> None:
    page.goto(f"{platform.url}/auth/login/apple")
    page.click("#cancel")
    page.get_by_text("Het inloggen is afgebroken.").wait_for()
    assert page.get_by_role("link", name="Inloggen").is_visible()


def test_after_activation_continue_leads_to_the_app(platform: RunningPlatform, page: Any) -> None:
    email = f"continue-{uuid.uuid4().hex[:8]}@example.nl"
    page.goto(f"{platform.url}/activate#token={platform.activation_token(email)}")
    page.fill("#username", f"continue.{uuid.uuid4().hex[:6]}")
    page.fill("#password", "een lang en ongewoon wachtwoord")
    page.check("#accept-terms")
    page.click("#submit")
    page.click("#continue")
    page.get_by_text("Je bent niet ingelogd.").wait_for()
    assert page.url == f"{platform.url}/"
    page.get_by_role("link", name="Inloggen").click()
    assert page.url == f"{platform.url}/login"
