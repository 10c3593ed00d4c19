"""The local runner's event adapter and router: the same shape API Gateway produces."""

from __future__ import annotations

import base64

from infra.local.events import api_event, path_parameters
from infra.platform import Route


def test_proxy_event_has_the_rest_v1_shape() -> None:
    event = api_event(
        "POST",
        "/auth/signup?x=1&x=2",
        headers=[("Content-Type", "application/json")],
        body=b'{"email": "a@b.nl"}',
        resource="/auth/signup",
        source_ip="127.0.0.1",
    )
    assert event["httpMethod"] == "POST" and event["path"] == "/auth/signup"
    assert event["queryStringParameters"] == {"x": "2"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"]}
    assert event["requestContext"]["identity"]["sourceIp"] == "127.0.0.1"
    assert "authorizer" not in event["requestContext"]
    assert event["body"] == '{"email": "a@b.nl"}' and event["isBase64Encoded"] is False


def test_binary_bodies_travel_base64_encoded() -> None:
    event = api_event("POST", "/x", headers=[], body=b"\xff\x00", resource="/x", claims={"sub": "1"})
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == b"\xff\x00"
    assert event["requestContext"]["authorizer"]["claims"] == {"sub": "1"}


def test_percent_encoding_stays_in_the_path_and_its_parameters_like_api_gateway_rest() -> None:
    """As in live captures of REST proxy events: path and pathParameters as sent, once encoded
    or twice; the query string decoded."""
    for sent in ("0106%3A12345678", "0106%253A12345678"):
        event = api_event(
            "GET",
            f"/organisations/1/peppol/{sent}?name=a%20b",
            headers=[],
            resource="/organisations/{id}/peppol/{participant_id}",
        )
        assert event["path"] == f"/organisations/1/peppol/{sent}"
        assert event["requestContext"]["path"] == f"/local/organisations/1/peppol/{sent}"
        assert event["pathParameters"] == {"id": "1", "participant_id": sent}
        assert event["queryStringParameters"] == {"name": "a b"}


def test_path_parameters_are_extracted_from_the_template() -> None:
    found = path_parameters(
        "/organisations/{id}/identifiers/{participant_id}", "/organisations/o1/identifiers/0106:1"
    )
    assert found == {"id": "o1", "participant_id": "0106:1"}
    assert Route("GET", "/organisations/{id}", "x", True).pattern.match("/organisations/o1")
    assert not Route("GET", "/organisations/{id}", "x", True).pattern.match("/organisations/o1/extra")
