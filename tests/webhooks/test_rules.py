"""The pure parts: signatures, payload bytes, retry delays and which URLs are accepted."""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from service.codes import EventType
from service.webhooks import (
    RetryPolicy,
    check_url,
    new_secret,
    signature,
    signed_headers,
    succeeded,
    webhook_body,
)

# The example of the Standard Webhooks reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_the_signature_matches_the_specification_example() -> None:
    assert signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


def test_signed_headers_verify_with_the_reference_library() -> None:
    secret = new_secret()
    body = webhook_body("intake.created", datetime.now(UTC), {"id": "abc"})
    headers = signed_headers(secret, "evt-1", int(datetime.now(UTC).timestamp()), body)
    assert set(headers) == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert Webhook(secret).verify(body, headers)["data"] == {"id": "abc"}


def test_each_secret_is_new_and_long_enough() -> None:
    secrets = {new_secret() for _ in range(20)}
    assert len(secrets) == 20
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64


def test_the_body_is_the_same_bytes_on_every_attempt() -> None:
    at = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    data = {"status": "new", "id": "x"}
    first = webhook_body("intake.created", at, data)
    assert first == webhook_body("intake.created", at, dict(reversed(data.items())))
    assert json.loads(first) == {
        "type": "intake.created",
        "timestamp": "2026-11-25T10:00:00+00:00",
        "data": data,
    }


def test_retries_back_off_exponentially_with_jitter_then_stop() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_seconds=10)
    rng = random.Random(7)
    for attempts, full in [(1, 10), (2, 20), (3, 40), (4, 80)]:
        delays = [policy.delay_after(attempts, rng) for _ in range(200)]
        assert all(d is not None and full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 100  # jittered, so failures do not retry in step
    assert policy.delay_after(5) is None
    assert RetryPolicy(max_attempts=1, backoff_seconds=10).delay_after(1) is None
    # However many attempts are allowed, no single wait is longer than a day.
    late = RetryPolicy(max_attempts=100, backoff_seconds=30).delay_after(60)
    assert late is not None
    assert late <= 24 * 3600


def test_only_a_2xx_answer_counts_as_delivered() -> None:
    assert [code for code in (200, 201, 204, 299, 301, 302, 400, 410, 500) if succeeded(code)] == [
        200,
        201,
        204,
        299,
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://ehr.clinic.test/hooks",
        "http://127.0.0.1:8080/in?x=1",
        "http://localhost/relay",
        " https://a.b/ ",
    ],
)
def test_https_urls_and_http_to_this_machine_are_accepted(url: str) -> None:
    assert check_url(url) == url.strip()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://ehr.clinic.test/hooks", "not an http(s) URL"),
        ("ehr.clinic.test/hooks", "not an http(s) URL"),
        ("https:///hooks", "not an http(s) URL"),
        ("javascript:alert(1)", "not an http(s) URL"),
        ("https://user:pw@ehr.clinic.test/hooks", "user name or password"),
        ("http://ehr.clinic.test/hooks", "use https"),
        ("http://10.0.0.5/hooks", "use https"),
        ("https://ehr.clinic.test/" + "x" * 2000, "longer than"),
    ],
)
def test_other_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        check_url(url)


def test_event_types_are_the_three_of_the_contract() -> None:
    assert [kind.value for kind in EventType] == [
        "intake.created",
        "intake.priority_changed",
        "intake.status_changed",
    ]
    with pytest.raises(ValueError, match=re.escape("unknown event type 'intake.deleted'")):
        EventType.parse("intake.deleted")
