from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mfa_guard.iam.arns import (
    arn_matches,
    compile_arn_pattern,
    localize_pattern,
)
from mfa_guard.iam.scenarios import DEFAULT_ACCOUNT
from mfa_guard.iam.variables import Substituted

ALICE = "arn:aws:iam::123456789012:user/alice"


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        ("*", ALICE, True),
        ("*", "*", True),
        ("arn:aws:iam::*:user/*", "*", False),
        ("arn:aws:iam::*:user/alice", ALICE, True),
        (
            "arn:aws:iam::123456789012:user/*",
            "arn:aws:iam::123456789012:user/dev/alice",
            True,
        ),
        ("arn:aws:iam::*:user/${aws:username}", ALICE, False),
        ("arn:aws:iam::12345678901?:user/alice", ALICE, True),
        ("arn:aws:iam::1234567890?:user/alice", ALICE, False),
        ("arn:aws:iam::123456789012:user/Alice", ALICE, False),
        ("arn:aws:iam::123456789012:user/alic?", ALICE, True),
        ("arn:aws:iam::123456789012:mfa/*", ALICE, False),
        ("arn:aws-cn:iam::*:user/alice", ALICE, False),
        ("arn:*:iam::*:user/alice", ALICE, True),
        ("arn:aws:iam::*", ALICE, True),
        ("arn:aws:s3:::bucket.name", "arn:aws:s3:::bucketxname", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
    ],
)
def test_arn_matches_cases(pattern: str, arn: str, expected: bool) -> None:
    assert arn_matches(pattern, arn) is expected


def test_resource_segment_star_crosses_colon() -> None:
    pattern = "arn:aws:logs:us-east-1:123456789012:log-group:app:*"
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:web"

    assert arn_matches(pattern, arn) is True


def test_inner_star_stays_in_segment() -> None:
    pattern = "arn:aws:ec2:us-*-1:123456789012:instance/i-1"

    assert (
        arn_matches(pattern, "arn:aws:ec2:us-east-1:123456789012:instance/i-1") is True
    )
    assert (
        arn_matches(pattern, "arn:aws:ec2:us-x:y-1:123456789012:instance/i-1") is False
    )


def test_question_mark_stays_in_segment() -> None:
    arn = "arn:aws:iam:a:b:123456789012:user/x"

    assert arn_matches("arn:aws:iam:a?b:123456789012:user/x", arn) is False


def test_service_segment_literal() -> None:
    assert (
        arn_matches(
            "arn:aws:*:us-east-1:123456789012:x", "arn:aws:iam:us-east-1:123456789012:x"
        )
        is False
    )
    assert arn_matches("arn:aws:i?m::123456789012:user/alice", ALICE) is False


def test_substituted_value_literal() -> None:
    regex = compile_arn_pattern(("arn:aws:iam::*:user/", Substituted("a*")))

    assert regex.fullmatch("arn:aws:iam::123456789012:user/a*") is not None
    assert regex.fullmatch("arn:aws:iam::123456789012:user/abc") is None


def test_substituted_colon_not_segment() -> None:
    regex = compile_arn_pattern(("arn:aws:s3:::bucket/", Substituted("AROA1:ci"), "/*"))

    assert regex.fullmatch("arn:aws:s3:::bucket/AROA1:ci/key") is not None
    assert regex.fullmatch("arn:aws:s3:::bucket/AROA1:other/key") is None


@pytest.mark.parametrize(
    "reference",
    [
        "${AWS::AccountId}",
        "${data.aws_caller_identity.current.account_id}",
        "${var.account}",
    ],
)
def test_account_placeholder_replaced(reference: str) -> None:
    pattern = f"arn:aws:iam::{reference}:user/${{aws:username}}"

    result = localize_pattern(pattern, "111122223333")

    assert result == "arn:aws:iam::111122223333:user/${aws:username}"


@pytest.mark.parametrize(
    "pattern",
    [
        "arn:aws:iam::${aws:PrincipalAccount}:user/alice",
        "arn:aws:iam::123456789012:user/alice",
        "arn:aws:iam::*:user/${AWS::AccountId}",
        "*",
    ],
)
def test_account_placeholder_kept(pattern: str) -> None:
    assert localize_pattern(pattern, "111122223333") == pattern


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        # Another partition reads as the scenarios' own.
        ("arn:aws-us-gov:iam::*:user/alice", "arn:aws:iam::*:user/alice"),
        ("arn:aws-cn:iam::*:mfa/*", "arn:aws:iam::*:mfa/*"),
        # A literal account of an IAM ARN is read as the default account.
        (
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::123456789012:user/alice",
        ),
        # Other services keep their accounts, and unknown partitions stay.
        (
            "arn:aws:kms:us-east-1:111122223333:key/1",
            "arn:aws:kms:us-east-1:111122223333:key/1",
        ),
        ("arn:other:iam::*:user/alice", "arn:other:iam::*:user/alice"),
    ],
)
def test_pattern_localized_for_default_account(pattern: str, expected: str) -> None:
    assert localize_pattern(pattern, DEFAULT_ACCOUNT) == expected


def test_configured_account_compared_strictly() -> None:
    pattern = "arn:aws:iam::111122223333:user/alice"

    assert localize_pattern(pattern, "444455556666") == pattern


SEGMENT = st.text(alphabet="abc-./", max_size=6)


@given(SEGMENT, SEGMENT, SEGMENT, SEGMENT, st.text(alphabet="abc-./:", max_size=10))
def test_literal_arn_matches_itself(
    partition: str, service: str, region: str, account: str, resource: str
) -> None:
    arn = f"arn:{partition}:{service}:{region}:{account}:{resource}"

    assert arn_matches(arn, arn) is True
    assert arn_matches(arn, arn + "x") is False
