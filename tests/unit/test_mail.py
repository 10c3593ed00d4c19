"""The platform's mails, in both languages."""

from __future__ import annotations

import pytest

from onboarding.domain.mail import account_exists_mail, activation_mail, confirmation_mail

TOKEN = "A" * 43


@pytest.mark.parametrize(
    ("language", "subject"), [("nl", "Activeer je omgeving"), ("en", "Activate your environment")]
)
def test_activation_mail_links_to_the_page_with_the_token_in_the_fragment(
    language: str, subject: str
) -> None:
    mail = activation_mail("a@example.nl", language, "https://app.example", TOKEN)  # type: ignore[arg-type]
    assert mail.subject == subject
    link = f"https://app.example/activate#token={TOKEN}"
    assert link in mail.text and f'href="{link}"' in mail.html
    assert "?token" not in mail.text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_account_exists_mail_points_to_login_and_carries_no_token(language: str) -> None:
    mail = account_exists_mail("a@example.nl", language, "https://app.example")  # type: ignore[arg-type]
    assert "https://app.example/login" in mail.text
    assert "token" not in mail.text and "token" not in mail.html
    # The same subject as the activation mail: the inbox shows the same as for a new address.
    assert mail.subject == activation_mail("a@example.nl", language, "x", TOKEN).subject  # type: ignore[arg-type]


def test_html_escapes_what_users_choose() -> None:
    mail = confirmation_mail("a@example.nl", "en", "https://app.example", "<script>x</script>")
    assert "<script>x</script>" not in mail.html
    assert "&lt;script&gt;" in mail.html
    assert "<script>x</script>" in mail.text  # plain text needs no escaping


def test_dutch_is_the_default_language_of_the_confirmation() -> None:
    mail = confirmation_mail("a@example.nl", "nl", "https://app.example", "bob")
    assert mail.subject == "Je omgeving is klaar" and "bob" in mail.text


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_confirmation_leads_to_the_apps_landing_page(language: str) -> None:
    """``GET /``: it shows who is signed in, or leads to the login page (issue 8, item 17)."""
    mail = confirmation_mail("a@example.nl", language, "https://app.example", "bob")  # type: ignore[arg-type]
    assert "https://app.example/\n" in mail.text and 'href="https://app.example/"' in mail.html


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_fallback_link_may_wrap_anywhere_on_a_narrow_screen(language: str) -> None:
    """The link is one long unbroken word; without these a 375 px phone scrolls sideways (the
    e2e test renders the mail at that width in Chromium)."""
    import re

    html = activation_mail("a@example.nl", language, "https://app.example.org", "T" * 43).html  # type: ignore[arg-type]
    [link] = re.findall(r'<a href="[^"]*" style="([^"]*)">https://', html)
    assert "overflow-wrap:anywhere" in link and "word-break:break-all" in link
