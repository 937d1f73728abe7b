"""Only AWS's own endpoints report real addresses; the role and the package judge alike."""

from __future__ import annotations

import pytest

from mocha_ansible import endpoint


@pytest.mark.parametrize(
    ("url", "own"),
    [
        (None, True),
        ("https://ec2.us-east-1.amazonaws.com", True),
        ("https://ec2.cn-north-1.amazonaws.com.cn", True),
        ("https://ec2.us-east-1.api.aws", True),
        ("http://127.0.0.1:5000", False),
        ("http://localhost:4566", False),
        ("https://amazonaws.com.evil.example", False),
        ("https://evilamazonaws.com", False),
    ],
)
def test_is_aws_own(url: str | None, own: bool) -> None:
    assert endpoint.is_aws_own(url) is own


def test_the_ec2_specific_variable_wins() -> None:
    env = {"AWS_ENDPOINT_URL": "https://ec2.us-east-1.amazonaws.com", "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:1"}
    assert endpoint.endpoint_url(env) == "http://127.0.0.1:1"
    assert endpoint.endpoint_url({"AWS_ENDPOINT_URL": "  "}) is None


def test_invented_by_names_only_an_endpoint_that_is_not_awss_own() -> None:
    assert endpoint.invented_by({}) is None
    assert endpoint.invented_by({"AWS_ENDPOINT_URL": "https://ec2.us-east-1.amazonaws.com"}) is None
    assert endpoint.invented_by({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}) == "http://127.0.0.1:5000"
    mixed = {"AWS_ENDPOINT_URL": "https://ec2.us-east-1.amazonaws.com", "AWS_ENDPOINT_URL_EC2": "http://127.0.0.1:1"}
    assert endpoint.invented_by(mixed) == "http://127.0.0.1:1"
