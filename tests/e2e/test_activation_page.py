"""The activation page in a real (headless) browser."""

from __future__ import annotations

import uuid
from typing import Any

from onboarding.domain.rules import CURRENT_TERMS_VERSION
from tests.e2e.conftest import RunningPlatform


def test_a_person_activates_their_environment_in_the_browser(
    platform: RunningPlatform, page: Any, tmp_path: Any
) -> None:
    email = f"browser-{uuid.uuid4().hex[:8]}@example.nl"
    token = platform.activation_token(email)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    page.goto(f"{platform.url}/activate#token={token}")
    page.get_by_text(f"Voor {email}").wait_for()
    assert "#token" not in page.url  # the fragment is dropped from the address bar at once
    submit = page.locator("#submit")
    page.fill("#username", f"browser.{uuid.uuid4().hex[:6]}")
    page.fill("#password", "een lang en ongewoon wachtwoord")
    assert submit.is_disabled()  # terms not accepted yet
    page.check("#accept-terms")
    with page.expect_response("**/auth/activation/complete") as completed:
        submit.click()
    assert completed.value.status == 201
    page.get_by_text("Je registratie is voltooid").wait_for()
    page.screenshot(path=str(tmp_path / "activated.png"))

    # The token only ever travelled in POST bodies, never in a URL the server saw.
    assert requests and not any(token in url for url in requests)
    assert token not in platform.log.read_text().split("activation link:")[-1].split("\n", 1)[-1]
    assert platform.mails_to(email)[-1]["subject"] == "Je omgeving is klaar"


def test_a_used_link_says_so_and_offers_a_new_one(platform: RunningPlatform, page: Any) -> None:
    email = f"used-{uuid.uuid4().hex[:8]}@example.nl"
    token = platform.activation_token(email, "en")
    platform.http.post(
        "/auth/activation/complete",
        json={
            "token": token,
            "username": f"used.{uuid.uuid4().hex[:6]}",
            "password": "a long and unusual passphrase",
            "accept_terms": True,
            "terms_version": CURRENT_TERMS_VERSION,
        },
    )
    page.goto(f"{platform.url}/activate#token={token}")
    page.get_by_text("Deze link is al gebruikt").wait_for()
    assert page.locator("#activation-form").is_hidden()
    assert page.locator("#resend-form").is_visible()


def test_without_a_token_the_page_explains_and_offers_a_new_link(
    platform: RunningPlatform, page: Any
) -> None:
    page.goto(f"{platform.url}/activate")
    page.get_by_text("Deze pagina opent via de link in je activatiemail").wait_for()
    page.fill("#resend-email", f"resend-{uuid.uuid4().hex[:8]}@example.nl")
    page.click("#resend-submit")
    page.get_by_text("Als dit adres gebruikt kan worden").wait_for()


def test_the_page_speaks_english_on_request(platform: RunningPlatform, page: Any) -> None:
    page.goto(f"{platform.url}/activate")
    page.click("#switch-language")
    page.get_by_text("Open this page through the link in your activation mail.").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"


# --- Issue 8: what a Dutch (or English) user sees ---------------------------------------------------
def test_the_page_speaks_the_language_chosen_at_sign_up_not_the_browsers(
    platform: RunningPlatform, page: Any
) -> None:
    email = f"english-{uuid.uuid4().hex[:8]}@example.nl"
    token = platform.activation_token(email, "en")  # the browser (page fixture) is nl-NL
    page.goto(f"{platform.url}/activate#token={token}")
    page.get_by_text(f"For {email}").wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.locator("#title").inner_text() == "Activate your environment"


def test_a_too_short_password_is_explained_while_typing(platform: RunningPlatform, page: Any) -> None:
    email = f"short-{uuid.uuid4().hex[:8]}@example.nl"
    page.goto(f"{platform.url}/activate#token={platform.activation_token(email)}")
    page.get_by_text(f"Voor {email}").wait_for()
    page.fill("#password", "kort")
    page.get_by_text("Te kort: nog 8 teken(s) nodig (minstens 12).").wait_for()
    page.fill("#password", "lang genoeg nu")
    assert page.locator("#password-error").inner_text() == ""


def test_the_dutch_page_shows_the_apis_errors_in_dutch(platform: RunningPlatform, page: Any) -> None:
    email = f"nlerror-{uuid.uuid4().hex[:8]}@example.nl"
    page.goto(f"{platform.url}/activate#token={platform.activation_token(email)}")
    page.get_by_text(f"Voor {email}").wait_for()
    page.fill("#username", f"nl.{uuid.uuid4().hex[:6]}")
    page.fill("#password", "password1234")  # long enough, but far too common
    page.check("#accept-terms")
    with page.expect_response("**/auth/activation/complete") as refused:
        page.click("#submit")
    assert refused.value.status == 422
    page.get_by_text("Dit wachtwoord komt te vaak voor. Kies een ander.").wait_for()


def test_the_activation_mail_fits_a_375_pixel_phone(platform: RunningPlatform, browser: Any) -> None:
    email = f"phone-{uuid.uuid4().hex[:8]}@example.nl"
    platform.activation_token(email)
    html = platform.mails_to(email)[-1]["html"]
    context = browser.new_context(viewport={"width": 375, "height": 700}, java_script_enabled=False)
    try:
        phone = context.new_page()
        phone.set_content(html)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    finally:
        context.close()
