"""The whole story over HTTP against `make dev`: sign up, find the mail, activate, log in,
GET /me; and API Gateway's own answers as the local runner renders them."""

from __future__ import annotations

import re
import uuid

from tests.e2e.conftest import RunningPlatform

PASSWORD = "a long and unusual passphrase"


def test_a_newcomer_signs_up_activates_and_logs_in(platform: RunningPlatform) -> None:
    http = platform.http
    email = f"Newcomer-{uuid.uuid4().hex[:8]}@Example.nl"
    assert http.post("/auth/signup", json={"email": email}).status_code == 202

    [mail] = platform.mails_to(email)
    assert mail["subject"] == "Activeer je omgeving" and mail["to"] == [email]
    link = re.search(r"(http://\S+/activate)#token=([A-Za-z0-9_-]{43})", mail["text"])
    assert link and link.group(1) == f"{platform.url}/activate"
    token = link.group(2)
    assert f"activation link: {platform.url}/activate#token={token}" in platform.log.read_text()

    page = http.get("/activate")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert http.post("/auth/activation/check", json={"token": token}).json()["email"] == email

    username = f"newcomer.{uuid.uuid4().hex[:6]}"
    created = http.post(
        "/auth/activation/complete",
        json={
            "token": token,
            "username": username,
            "password": PASSWORD,
            "accept_terms": True,
            "terms_version": http.get("/auth/terms").json()["version"],
            "environment_name": "Newcomer BV",
        },
    )
    assert created.status_code == 201, created.text
    assert platform.mails_to(email)[-1]["subject"] == "Je omgeving is klaar"

    tokens = http.post("/auth/token", json={"username": email.upper(), "password": PASSWORD}).json()
    me = http.get("/me", headers={"Authorization": f"Bearer {tokens['id_token']}"})
    assert me.status_code == 200
    assert me.json()["environment"] == {
        "id": created.json()["environment"]["id"],
        "name": "Newcomer BV",
        "role": "admin",
    }
    # The ID token is what the authorizer accepts; an access token is not.
    assert http.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    refreshed = http.post("/auth/token/refresh", json={"refresh_token": tokens["refresh_token"]}).json()
    assert (
        http.get("/environment", headers={"Authorization": f"Bearer {refreshed['id_token']}"}).status_code
        == 200
    )


def test_gateway_answers_in_the_error_shape(platform: RunningPlatform) -> None:
    http = platform.http
    unknown = http.get("/no/such/route")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    wrong = http.delete("/auth/signup")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    for authorization in (None, "Bearer nonsense", "Basic abc"):
        headers = {"Authorization": authorization} if authorization else {}
        refused = http.get("/me", headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    large = http.post(
        "/auth/signup",
        content=b'{"email": "' + b"a" * 70_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert large.status_code == 413 and large.json()["error"]["code"] == "payload_too_large"
    broken = http.post("/auth/signup", content=b'{"email":', headers={"Content-Type": "application/json"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "invalid_json"


def test_documentation_is_served(platform: RunningPlatform) -> None:
    document = platform.http.get("/openapi.json")
    assert document.status_code == 200 and "/auth/signup" in document.json()["paths"]
    docs = platform.http.get("/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text and "openapi.json" in docs.text
