"""The local runner's event adapter and router: the same shape API Gateway produces."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from infra.local.events import api_event, path_parameters, scheduled_event, sqs_event
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


# --- SQS batches and schedules --------------------------------------------------------------------
QUEUE_ARN = "arn:aws:sqs:eu-west-1:123456789012:peppol-onboarding-local-peppol-registrations.fifo"


def _received(message_id: str, body: str = '{"job_id": "j1"}', count: int = 2) -> dict[str, Any]:
    """A message as ReceiveMessage returns it (all system and message attributes asked for)."""
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "MD5OfBody": "x",
        "Body": body,
        "Attributes": {
            "ApproximateReceiveCount": str(count),
            "MessageGroupId": "0106:12345678",
            "MessageDeduplicationId": "j1.1",
            "SequenceNumber": "1",
            "SentTimestamp": "1700000000000",
        },
        "MessageAttributes": {"job_id": {"StringValue": "j1", "DataType": "String"}},
    }


def test_an_sqs_event_has_lambdas_record_shape_and_reads_as_powertools_reads_it() -> None:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSEvent

    event = sqs_event([_received("m1"), _received("m2", count=5)], QUEUE_ARN)
    assert [r["messageId"] for r in event["Records"]] == ["m1", "m2"]
    first = event["Records"][0]
    assert (first["eventSource"], first["eventSourceARN"], first["awsRegion"]) == (
        "aws:sqs",
        QUEUE_ARN,
        "eu-west-1",
    )
    assert first["messageAttributes"]["job_id"]["stringValue"] == "j1"
    records = list(SQSEvent(event).records)
    assert records[1].attributes.approximate_receive_count == "5"
    assert records[0].attributes.message_group_id == "0106:12345678"
    assert records[0].receipt_handle == "handle-m1" and records[0].json_body == {"job_id": "j1"}


def test_a_scheduled_event_names_its_rule() -> None:
    event = scheduled_event("arn:aws:events:eu-west-1:123456789012:rule/peppol-sweeper-schedule")
    assert (event["detail-type"], event["source"], event["region"]) == (
        "Scheduled Event",
        "aws.events",
        "eu-west-1",
    )
    assert event["resources"] == ["arn:aws:events:eu-west-1:123456789012:rule/peppol-sweeper-schedule"]


class _Sqs:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self.messages = messages
        self.deleted: list[str] = []

    def receive_message(self, **asked: Any) -> dict[str, Any]:
        assert asked["WaitTimeSeconds"] == 0 and asked["MaxNumberOfMessages"] == 10
        taken, self.messages = self.messages, []
        return {"Messages": taken}

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> None:
        self.deleted += [e["ReceiptHandle"] for e in Entries]


def test_the_local_event_source_deletes_what_succeeded_and_leaves_the_failures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from infra.local import event_sources
    from infra.platform import function

    sqs = _Sqs([_received(f"m{i}") for i in range(12)])
    invoked: list[dict[str, Any]] = []

    def worker(spec: Any, event: dict[str, Any]) -> dict[str, Any]:
        invoked.append(event)
        return {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m7"}]}

    monkeypatch.setattr(event_sources, "_invoke", worker)
    source = event_sources.QueueEventSource(function("peppol-worker"), sqs, "url", QUEUE_ARN)
    outcome = source.poll()
    assert outcome is not None and outcome.failed == ["m3", "m7"] and len(invoked) == 1
    assert sorted(sqs.deleted) == sorted(f"handle-m{i}" for i in range(12) if i not in (3, 7))
    assert source.poll() is None

    def crashing(spec: Any, event: dict[str, Any]) -> dict[str, Any]:
        raise TimeoutError("Task timed out")

    monkeypatch.setattr(event_sources, "_invoke", crashing)
    sqs.messages, sqs.deleted = [_received("n1"), _received("n2")], []
    failed = source.poll()
    assert failed is not None and failed.failed == ["n1", "n2"] and sqs.deleted == []  # all come back
    assert failed.error == "TimeoutError: Task timed out"


def test_the_job_console_prints_each_new_state_once(capsys: pytest.CaptureFixture[str]) -> None:
    from datetime import UTC, datetime

    from infra.local.event_sources import JobConsole
    from onboarding.domain.registration import JobEvent, JobStatus

    class Job:
        id, participant_id = "6e7ac5b9-0000", "0106:12345678"
        history = [JobEvent(status=JobStatus.QUEUED, at=datetime.now(UTC), note="asked (approval)")]

    console = JobConsole(lambda job_id: Job if job_id == Job.id else None)
    console.show([Job.id, Job.id, "unknown"])
    Job.history = [*Job.history, JobEvent(status=JobStatus.RUNNING, at=datetime.now(UTC), attempt=1)]
    console.show([Job.id])
    assert capsys.readouterr().out.splitlines() == [
        "[peppol] job 6e7ac5b9 0106:12345678: queued - asked (approval)",
        "[peppol] job 6e7ac5b9 0106:12345678: running (attempt 1)",
    ]
