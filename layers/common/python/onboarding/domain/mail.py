"""The platform's mails, in Dutch and English, as text and HTML. Pure: composing a mail
needs no I/O; the mailer adapter sends what this returns."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from string import Template

from onboarding.domain.models import Language


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    kind: str  # for logs and metrics; never the content


_LAYOUT = Template("""<!doctype html>
<html lang="$lang"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>$title</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;color:#1b1b1b;max-width:560px;margin:0 auto;padding:24px">
$body
<p style="color:#666;font-size:12px;margin-top:32px">$footer</p>
</body></html>""")

# The fallback link is one long unbroken word (a 43-character token after the address): it
# must wrap anywhere, or a 375 px phone scrolls the whole mail sideways.
_WRAP = "word-break:break-all;overflow-wrap:anywhere"
_BUTTON = Template(
    '<p><a href="$url" style="display:inline-block;background:#e9600c;color:#fff;'
    'padding:12px 20px;border-radius:4px;text-decoration:none">$label</a></p>'
    f'<p style="font-size:12px;color:#666;{_WRAP}">$fallback<br><a href="$url" style="{_WRAP}">$url</a></p>'
)

_TEXTS: dict[str, dict[Language, dict[str, str]]] = {
    "activation": {
        "nl": {
            "subject": "Activeer je omgeving",
            "intro": "Welkom! Je hebt een account aangevraagd met dit e-mailadres.",
            "action": "Activeer je omgeving: kies een gebruikersnaam en wachtwoord en accepteer de"
            " voorwaarden.",
            "label": "Activeer je omgeving",
            "validity": "Deze link is 24 uur geldig en werkt één keer.",
            "ignore": "Heb je dit niet aangevraagd? Dan kun je deze e-mail negeren.",
        },
        "en": {
            "subject": "Activate your environment",
            "intro": "Welcome! An account was requested with this email address.",
            "action": "Activate your environment: choose a username and password and accept the terms.",
            "label": "Activate your environment",
            "validity": "This link is valid for 24 hours and works once.",
            "ignore": "Didn't ask for this? Then you can ignore this email.",
        },
    },
    "account_exists": {
        "nl": {
            "subject": "Activeer je omgeving",
            "intro": "Er is een nieuw account aangevraagd met dit e-mailadres, maar je hebt al een account.",
            "action": "Log in met je bestaande account. Wachtwoord vergeten? Stel het opnieuw in via het"
            " inlogscherm.",
            "label": "Inloggen",
            "validity": "",
            "ignore": "Heb je dit niet aangevraagd? Dan kun je deze e-mail negeren.",
        },
        "en": {
            "subject": "Activate your environment",
            "intro": "A new account was requested with this email address, but you already have one.",
            "action": "Log in with your existing account. Forgot your password? Reset it from the login"
            " screen.",
            "label": "Log in",
            "validity": "",
            "ignore": "Didn't ask for this? Then you can ignore this email.",
        },
    },
    "confirmation": {
        "nl": {
            "subject": "Je omgeving is klaar",
            "intro": "Je registratie is voltooid. Je gebruikersnaam is: $username.",
            "action": "Ga verder in je omgeving om je organisatie toe te voegen en te activeren.",
            "label": "Ga verder",
            "validity": "",
            "ignore": "Heb je dit niet zelf gedaan? Neem dan direct contact met ons op.",
        },
        "en": {
            "subject": "Your environment is ready",
            "intro": "Your registration is complete. Your username is: $username.",
            "action": "Continue in your environment to add and activate your organisation.",
            "label": "Continue",
            "validity": "",
            "ignore": "Didn't do this yourself? Contact us right away.",
        },
    },
    "tenant_login": {
        "nl": {
            "subject": "Activeer je omgeving",
            "intro": "Er is een account aangevraagd met dit e-mailadres. Je organisatie laat je alleen"
            " inloggen via haar eigen inlogdienst: je hebt geen apart account nodig.",
            "action": "Log in via je organisatie; de eerste keer maken we je account aan.",
            "label": "Inloggen via je organisatie",
            "validity": "",
            "ignore": "Heb je dit niet aangevraagd? Dan kun je deze e-mail negeren.",
        },
        "en": {
            "subject": "Activate your environment",
            "intro": "An account was requested with this email address. Your organisation lets you log"
            " in only through its own login service: you need no separate account.",
            "action": "Log in through your organisation; the first time, we create your account.",
            "label": "Log in through your organisation",
            "validity": "",
            "ignore": "Didn't ask for this? Then you can ignore this email.",
        },
    },
    "tenant_ready": {
        "nl": {
            "subject": "Je omgeving $tenant is klaar",
            "intro": "Je organisatie $tenant logt voortaan in via haar eigen inlogdienst. Je bent een van"
            " de beheerders van haar omgeving.",
            "action": "Log in via je organisatie om organisaties toe te voegen en te activeren.",
            "label": "Inloggen via je organisatie",
            "validity": "",
            "ignore": "Verwachtte je dit niet? Neem dan contact met ons op.",
        },
        "en": {
            "subject": "Your environment $tenant is ready",
            "intro": "Your organisation $tenant now logs in through its own login service. You are one of"
            " the admins of its environment.",
            "action": "Log in through your organisation to add and activate organisations.",
            "label": "Log in through your organisation",
            "validity": "",
            "ignore": "Didn't expect this? Contact us.",
        },
    },
}

_FALLBACK: dict[Language, str] = {
    "nl": "Werkt de knop niet? Open deze link:",
    "en": "Button not working? Open this link:",
}
_FOOTER: dict[Language, str] = {
    "nl": "Dit is een automatisch bericht van het Peppol-onboardingplatform.",
    "en": "This is an automatic message from the Peppol onboarding platform.",
}


def _compose(kind: str, to: str, language: Language, url: str, **values: str) -> Mail:
    texts = {k: Template(v).safe_substitute(values) for k, v in _TEXTS[kind][language].items()}
    paragraphs = [texts["intro"], texts["action"]]
    text = "\n\n".join([*paragraphs, f"{texts['label']}: {url}", texts["validity"], texts["ignore"]])
    html_body = "\n".join(
        [
            *(f"<p>{escape(p)}</p>" for p in paragraphs),
            _BUTTON.substitute(
                url=escape(url, quote=True),
                label=escape(texts["label"]),
                fallback=escape(_FALLBACK[language]),
            ),
            *(f"<p>{escape(p)}</p>" for p in (texts["validity"], texts["ignore"]) if p),
        ]
    )
    html = _LAYOUT.substitute(
        lang=language, title=escape(texts["subject"]), body=html_body, footer=escape(_FOOTER[language])
    )
    return Mail(
        to=to, subject=texts["subject"], text=text.replace("\n\n\n\n", "\n\n") + "\n", html=html, kind=kind
    )


def activation_mail(to: str, language: Language, public_url: str, token: str) -> Mail:
    # The token travels in the fragment: it never reaches a server, a log or a Referer.
    return _compose("activation", to, language, f"{public_url}/activate#token={token}")


def account_exists_mail(to: str, language: Language, public_url: str) -> Mail:
    return _compose("account_exists", to, language, f"{public_url}/login")


def confirmation_mail(to: str, language: Language, public_url: str, username: str) -> Mail:
    return _compose("confirmation", to, language, f"{public_url}/", username=username)


def tenant_login_mail(to: str, language: Language, login_url: str) -> Mail:
    """To a sign-up of an address whose domain a tenant restricts to its own IdP."""
    return _compose("tenant_login", to, language, login_url)


def tenant_ready_mail(to: str, language: Language, login_url: str, tenant: str) -> Mail:
    """To a restricted tenant's first admins when its login is set up."""
    return _compose("tenant_ready", to, language, login_url, tenant=tenant)
