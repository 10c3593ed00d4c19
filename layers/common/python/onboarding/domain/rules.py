"""Pure rules of sign-up and login: canonical emails, usernames, passwords, tokens."""

from __future__ import annotations

import gzip
import hashlib
import re
import secrets
import unicodedata
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

# The version of the terms users accept now; a new version makes every user accept again.
CURRENT_TERMS_VERSION = "2026-01"
USERNAME_PATTERN = r"^[A-Za-z0-9._-]{3,64}$"
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 256
# 32 bytes = 256 bits of CSPRNG output, URL-safe base64 without padding: 43 characters.
TOKEN_BYTES = 32
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{43}$"

_USERNAME_RE = re.compile(USERNAME_PATTERN)
# The longest name a user has (PATCH /me takes no more).
NAME_MAX_LENGTH = 200
# Left out of a text from outside: control (Cc) and format characters (Cf: the bidirectional
# marks, embeddings, overrides and isolates, zero-width spaces, the BOM), and lone surrogates,
# which cannot be stored as UTF-8.
_NOT_PLAIN = frozenset({"Cc", "Cf", "Cs"})
# Characters that show nothing though Unicode calls them letters, symbols or marks: the Hangul
# fillers, the braille blank, the combining grapheme joiner, Khmer's inherent vowels, and the
# variation selectors (Mongolian, standard and supplementary).
_BLANK = frozenset(
    "\u115f\u1160\u3164\uffa0\u2800\u034f\u17b4\u17b5\u180b\u180c\u180d\u180f"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def _invisible(char: str) -> bool:
    """Whether a character shows nothing: whitespace, control, format (zero-width, bidi) or
    one of the blanks above."""
    return char.isspace() or unicodedata.category(char) in _NOT_PLAIN or char in _BLANK


def now() -> datetime:
    return datetime.now(UTC)


def rfc3339(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, to the second, as the API writes times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def canonical_email(email: str) -> str:
    """One comparison policy everywhere (sign-up, resend, login, linking): trimmed, lower-cased."""
    return email.strip().lower()


def canonical_username(username: str) -> str:
    """Usernames are unique regardless of case."""
    return username.strip().lower()


def is_valid_username(username: str) -> bool:
    return bool(_USERNAME_RE.fullmatch(username))


def plain_text(text: str, max_length: int) -> str:
    """``text`` as one plain line of at most ``max_length`` characters, for a text from outside
    that cannot be refused (a provider's name claim): what the API refuses in a text field
    (``onboarding.web.schemas.TEXT_PATTERN``) is left out, and every format character with it;
    any run of whitespace becomes one space; the ends are trimmed."""
    spaced = (" " if c.isspace() else c for c in text)  # tabs, newlines and separators too
    kept = "".join(c for c in spaced if unicodedata.category(c) not in _NOT_PLAIN)
    return " ".join(kept.split())[:max_length].rstrip()


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    # Long common passwords only: shorter ones fail the length rule anyway. Derived from the
    # zxcvbn frequency list (MIT) plus suffix, doubling and Dutch variants (README, Security notes).
    data = resources.files(__package__).joinpath("common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


class Problem(NamedTuple):
    """Why something is refused, in English and in Dutch."""

    en: str
    nl: str


def password_problem(password: str, *, username: str = "", email: str = "") -> Problem | None:
    """Why a password is not acceptable, or None. Length and a deny list; no composition rules
    (ASVS v5 6.2.5). Control characters cannot be typed (they come from a broken client or an
    attack), and a password of only spaces, or of characters that show nothing (zero-width,
    bidi, fillers), is none."""
    lowered = password.lower()
    personal = {username.lower(), canonical_email(email), canonical_email(email).split("@")[0]} - {""}
    checks = (
        (
            len(password) < PASSWORD_MIN_LENGTH,
            f"The password must have at least {PASSWORD_MIN_LENGTH} characters.",
            f"Het wachtwoord moet minstens {PASSWORD_MIN_LENGTH} tekens hebben.",
        ),
        (
            len(password) > PASSWORD_MAX_LENGTH,
            f"The password must have at most {PASSWORD_MAX_LENGTH} characters.",
            f"Het wachtwoord mag hoogstens {PASSWORD_MAX_LENGTH} tekens hebben.",
        ),
        (
            any(unicodedata.category(c) == "Cc" for c in password),
            "The password must not contain control characters.",
            "Het wachtwoord mag geen stuurtekens bevatten.",
        ),
        (
            not password.strip(),
            "The password must not consist of spaces only.",
            "Het wachtwoord mag niet alleen uit spaties bestaan.",
        ),
        (
            all(_invisible(c) for c in password),
            "The password must not consist of invisible characters only.",
            "Het wachtwoord mag niet alleen uit onzichtbare tekens bestaan.",
        ),
        (
            lowered in _common_passwords(),
            "This password is too common. Choose another one.",
            "Dit wachtwoord komt te vaak voor. Kies een ander.",
        ),
        (
            lowered in personal,
            "The password must not be your username or email address.",
            "Het wachtwoord mag niet je gebruikersnaam of e-mailadres zijn.",
        ),
    )
    return next((Problem(en, nl) for failed, en, nl in checks if failed), None)


def new_token() -> str:
    """A single-use secret for a link: 256 random bits."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """Only this is stored; the token itself never is."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def pkce_challenge(verifier: str) -> str:
    """PKCE's S256 challenge of a verifier (RFC 7636): base64url(SHA-256), without padding."""
    import base64

    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def hour_bucket(moment: datetime) -> str:
    """The fixed one-hour window a rate-limit counter belongs to."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H")


def seconds_to_next_hour(moment: datetime) -> int:
    return 3600 - (moment.minute * 60 + moment.second)
