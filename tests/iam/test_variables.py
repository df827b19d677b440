from __future__ import annotations

from types import MappingProxyType

import pytest

from mfa_guard.iam.variables import (
    Substituted,
    Variable,
    resolve,
    split_variables,
    substitute,
)
from mfa_guard.records import replace
from tests.iam.policies import scenario

V2012 = "2012-10-17"


def test_split_plain_text() -> None:
    assert split_variables("arn:aws:s3:::bucket/*") == ("arn:aws:s3:::bucket/*",)


def test_split_variable_and_text() -> None:
    pieces = split_variables("user/${aws:username}/x")

    assert pieces == (
        "user/",
        Variable(text="${aws:username}", key="aws:username"),
        "/x",
    )


def test_split_default_value() -> None:
    pieces = split_variables("${aws:PrincipalTag/team, 'none'}")

    assert pieces == (
        Variable(
            text="${aws:PrincipalTag/team, 'none'}",
            key="aws:PrincipalTag/team",
            default="none",
        ),
    )


def test_split_unclosed_brace_literal() -> None:
    assert split_variables("user/${aws:username") == ("user/${aws:username",)


def test_substitute_username() -> None:
    text = substitute("user/${aws:username}", scenario("access-key"), V2012)

    assert text == "user/alice"


def test_substitute_name_case_insensitive() -> None:
    text = substitute("user/${AWS:UserName}", scenario("access-key"), V2012)

    assert text == "user/alice"


@pytest.mark.parametrize("version", [None, "2008-10-17", "2012-10-18"])
def test_substitute_literal_without_version(version: str | None) -> None:
    text = substitute("user/${aws:username}", scenario("access-key"), version)

    assert text == "user/${aws:username}"


def test_substitute_absent_key_none() -> None:
    built = scenario("role-session-without-mfa")

    assert substitute("user/${aws:username}", built, V2012) is None


def test_substitute_unknown_key_none() -> None:
    built = scenario("access-key")

    assert substitute("${aws:PrincipalTag/team}", built, V2012) is None


def test_substitute_default_for_absent_key() -> None:
    built = scenario("role-session-without-mfa")

    assert substitute("u/${aws:username, 'nobody'}", built, V2012) == "u/nobody"


def test_substitute_default_ignored_when_present() -> None:
    built = scenario("access-key")

    assert substitute("u/${aws:username, 'nobody'}", built, V2012) == "u/alice"


def test_substitute_default_unknown_key_none() -> None:
    built = scenario("access-key")

    assert substitute("${aws:PrincipalTag/team, 'x'}", built, V2012) is None


@pytest.mark.parametrize(
    ("escape", "char"), [("${*}", "*"), ("${?}", "?"), ("${$}", "$")]
)
def test_substitute_escapes(escape: str, char: str) -> None:
    text = substitute(f"a{escape}b", scenario("access-key"), V2012)

    assert text == f"a{char}b"


def test_substitute_multivalued_key_none() -> None:
    built = scenario("access-key")
    values = dict(built.values)
    values["aws:tagkeys"] = ("a", "b")
    multi = replace(built, values=MappingProxyType(values))

    assert substitute("${aws:TagKeys}", multi, V2012) is None


def test_resolve_marks_substituted_parts() -> None:
    resolution = resolve("a*/${aws:username}", scenario("access-key"), V2012)

    assert resolution.parts == ("a*/", Substituted("alice"))


def test_resolve_escape_substituted() -> None:
    resolution = resolve("a${*}", scenario("access-key"), V2012)

    assert resolution.parts == ("a", Substituted("*"))


def test_resolve_names_missing_key() -> None:
    built = scenario("role-session-without-mfa")
    resolution = resolve("${aws:username}", built, V2012)

    assert resolution.parts is None
    assert resolution.missing_keys == frozenset({"aws:username"})
    assert resolution.unknown_keys == frozenset()


def test_resolve_names_unknown_key() -> None:
    resolution = resolve("${aws:PrincipalTag/team}", scenario("access-key"), V2012)

    assert resolution.parts is None
    assert resolution.unknown_keys == frozenset({"aws:PrincipalTag/team"})


def test_resolve_missing_wins_over_unknown() -> None:
    built = scenario("role-session-without-mfa")
    resolution = resolve("${aws:PrincipalTag/x}/${aws:username}", built, V2012)

    assert resolution.parts is None
    assert resolution.missing_keys == frozenset({"aws:username"})


def test_resolve_without_version_keeps_text() -> None:
    resolution = resolve("${aws:username}", scenario("access-key"), None)

    assert resolution.parts == ("${aws:username}",)
