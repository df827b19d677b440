from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from mfa_guard.loaders.base import LoadResult
from mfa_guard.loaders.hcl_source import SourceFile
from mfa_guard.loaders.positions import Unresolved, item_position, key_position
from mfa_guard.loaders.terraform import load_terraform_module
from mfa_guard.loaders.terraform_templatefile import (
    RenderedPolicy,
    render_policy_template,
)
from mfa_guard.model import DiagnosticKind, PolicyDocument

FIXTURE = Path(__file__).parent.parent / "fixtures" / "terraform" / "templatefile"
TEMPLATE = FIXTURE / "policies" / "require_mfa.json.tpl"


@functools.cache
def load_fixture() -> LoadResult:
    return load_terraform_module(FIXTURE, sorted(FIXTURE.glob("*.tf")))


def document_named(name: str) -> PolicyDocument:
    matches = [d for d in load_fixture().documents if d.name == name]
    assert len(matches) == 1, [d.name for d in load_fixture().documents]
    return matches[0]


def render(text: str, variables: dict[str, Any] | None = None) -> RenderedPolicy:
    source = SourceFile("t.tpl", "t.tpl", text, text.encode("utf-8"))
    return render_policy_template(source, variables or {})


def write_module(directory: Path, files: dict[str, str]) -> LoadResult:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_terraform_module(directory, sorted(directory.glob("*.tf")))


def templatefile_policy(path: str, variables: str) -> str:
    return (
        'resource "aws_iam_policy" "p" {\n'
        f'  policy = templatefile("{path}", {variables})\n'
        "}\n"
    )


# The documented self-service policy in a template file


def test_deny_statement_in_template() -> None:
    document = document_named("aws_iam_policy.require_mfa")
    deny = document.statements[1]

    assert document.path == str(TEMPLATE)
    assert deny.sid == "DenyAllExceptListedIfNoMFA"
    assert deny.span.path == str(TEMPLATE)
    assert (deny.span.line, deny.span.column) == (19, 5)


def test_condition_in_template() -> None:
    condition = document_named("aws_iam_policy.require_mfa").statements[1].conditions[0]

    assert condition.operator == "BoolIfExists"
    assert condition.values == ("false",)
    assert (condition.span.line, condition.span.column) == (33, 9)
    assert (condition.key_span.line, condition.key_span.column) == (34, 11)


def test_template_variables_rendered() -> None:
    allow = document_named("aws_iam_policy.require_mfa").statements[0]

    assert allow.resources == (
        "arn:aws:iam::123456789012:mfa/*",
        "arn:aws:iam::123456789012:user/${aws:username}",
    )
    assert allow.item_span("Resource", 1).line == 16


def test_fixed_template_exempts_change_password() -> None:
    deny = document_named("aws_iam_policy.fixed").statements[1]

    assert deny.not_actions is not None
    assert deny.not_actions[0] == "iam:ChangePassword"


def test_fixture_loads_cleanly() -> None:
    assert load_fixture().diagnostics == []
    assert [d.unresolved for d in load_fixture().documents] == [(), ()]


# Rendering


def test_render_escapes() -> None:
    rendered = render('{"a": "$${aws:username}", "b": "%%{x}"}')

    assert rendered.value == {"a": "${aws:username}", "b": "%{x}"}


def test_render_interpolation_positions() -> None:
    rendered = render('{"a": "${long}", "b": "x"}', {"long": "1234567890"})

    assert rendered.value == {"a": "1234567890", "b": "x"}
    assert key_position(rendered.value, "b") == (1, 18, 1, 21)


def test_render_jsonencode_outside_string() -> None:
    text = '{"Statement": [\n  {"Effect": "Deny", "NotAction": ${jsonencode(actions)}}\n]}\n'
    rendered = render(text, {"actions": ["iam:GetUser", "sts:GetSessionToken"]})

    assert rendered.value["Statement"][0]["NotAction"] == [
        "iam:GetUser",
        "sts:GetSessionToken",
    ]
    assert item_position(rendered.value["Statement"], 0) == (2, 3, 2, 58)


def test_render_for_directive() -> None:
    text = (
        '{"NotAction": [\n'
        "%{ for action in actions ~}\n"
        '  "${action}",\n'
        "%{ endfor ~}\n"
        '  "sts:GetSessionToken"\n'
        "]}\n"
    )
    rendered = render(text, {"actions": ["iam:GetUser", "iam:ListMFADevices"]})
    actions = rendered.value["NotAction"]

    assert actions == ["iam:GetUser", "iam:ListMFADevices", "sts:GetSessionToken"]
    assert item_position(actions, 0)[:2] == (3, 3)
    assert item_position(actions, 1)[:2] == (3, 3)
    assert item_position(actions, 2)[:2] == (5, 3)


def test_render_for_over_map_in_key_order() -> None:
    text = '{%{ for key, value in tags ~}"${key}": "${value}",%{ endfor ~}"z": "1"}'
    rendered = render(text, {"tags": {"b": "2", "a": "1"}})

    assert list(rendered.value) == ["a", "b", "z"]


@pytest.mark.parametrize(
    ("strict", "operator"), [(True, "Bool"), (False, "BoolIfExists"), ("true", "Bool")]
)
def test_render_if_directive(strict: object, operator: str) -> None:
    text = '{"Operator": "%{ if strict }Bool%{ else }BoolIfExists%{ endif }"}'
    rendered = render(text, {"strict": strict})

    assert rendered.value == {"Operator": operator}


def test_render_if_without_else() -> None:
    text = '["a"%{ if extra }, "b"%{ endif }]'

    assert render(text, {"extra": False}).value == ["a"]
    assert render(text, {"extra": True}).value == ["a", "b"]


def test_render_strip_markers() -> None:
    text = '["a",\n  ${~ "\\"b\\"" ~}  \n]'
    rendered = render(text)

    assert rendered.value == ["a", "b"]


def test_render_conditional_expression() -> None:
    text = '{"Operator": "${strict ? "Bool" : "BoolIfExists"}"}'

    assert render(text, {"strict": False}).value == {"Operator": "BoolIfExists"}


def test_unknown_variable_in_string_unresolved() -> None:
    rendered = render('{"Resource": "arn:aws:iam::${account}:root"}')
    resource = rendered.value["Resource"]

    assert isinstance(resource, Unresolved)
    assert resource == "arn:aws:iam::${account}:root"
    assert rendered.unresolved == ["${account}"]


def test_unknown_variable_outside_string() -> None:
    rendered = render('{"NotAction": ${jsonencode(actions)}}')

    assert rendered.value is None
    assert rendered.unresolved == ["${jsonencode(actions)}"]
    assert rendered.error is not None


def test_if_on_unknown_value_unresolved() -> None:
    rendered = render('["a"%{ if extra }, "b"%{ endif }]')

    assert rendered.value is None
    assert rendered.unresolved == ['%{ if extra }, "b"%{ endif }']


def test_unsupported_function_unresolved() -> None:
    rendered = render('{"a": "${title(name)}"}', {"name": "x"})

    assert isinstance(rendered.value["a"], Unresolved)
    assert rendered.unresolved == ["${title(name)}"]


def test_template_syntax_error_position() -> None:
    rendered = render('{\n  "a": "${name"\n}\n', {"name": "x"})

    assert rendered.value is None
    assert rendered.error == (
        (2, 11, 2, 15),
        "invalid template syntax: unexpected 'name'",
    )


def test_unclosed_directive_position() -> None:
    rendered = render('{\n  "a": "%{ if x }"\n}\n', {"x": True})

    assert rendered.error == (
        (2, 9, 2, 11),
        "invalid template syntax: an interpolation or directive is not closed",
    )


def test_invalid_json_position() -> None:
    rendered = render('{\n  "a": ${name}\n}\n', {"name": "x"})

    assert rendered.value is None
    assert rendered.error is not None
    pos, message = rendered.error
    assert pos[:2] == (2, 8)
    assert message.startswith("invalid JSON in rendered template")


def test_template_line_equal_to_marker() -> None:
    # A line equal to the wrapper's heredoc marker would end the heredoc early.
    rendered = render('["a"%{ if false }\nMFA_GUARD_TEMPLATE\n%{ endif }]')

    assert rendered.value == ["a"]


# templatefile() in a module


def test_template_outside_repository_refused(tmp_path: Path) -> None:
    module = tmp_path / "module"
    module.mkdir()
    (tmp_path / "outside.tpl").write_text('{"Statement": []}', encoding="utf-8")
    result = write_module(
        module, {"main.tf": templatefile_policy("../outside.tpl", "{}")}
    )
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert diagnostic.message == (
        "policy of aws_iam_policy.p could not be resolved: "
        "template ../outside.tpl is outside the repository"
    )
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 3)


def test_template_missing_reported(tmp_path: Path) -> None:
    result = write_module(tmp_path, {"main.tf": templatefile_policy("none.tpl", "{}")})
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert "template none.tpl could not be read" in diagnostic.message


def test_template_unknown_variable_reported(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {
            "main.tf": 'variable "actions" {}\n'
            + templatefile_policy("p.tpl", "{ actions = var.actions }"),
            "p.tpl": '{"Statement": [{"Effect": "Deny", "NotAction": ${jsonencode(actions)}, "Resource": "*"}]}',
        },
    )
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.UNRESOLVED
    assert diagnostic.message.endswith("could not be rendered: ${jsonencode(actions)}")
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 3)


def test_template_json_error_in_template(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {
            "main.tf": templatefile_policy("p.tpl", "{}"),
            "p.tpl": '{\n  "Statement": [\n}\n',
        },
    )
    (diagnostic,) = result.diagnostics

    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert diagnostic.span.path == str(tmp_path / "p.tpl")
    assert diagnostic.span.line == 3
    assert diagnostic.message.endswith("(policy of aws_iam_policy.p)")


def test_template_path_from_variable(tmp_path: Path) -> None:
    result = write_module(
        tmp_path,
        {
            "main.tf": 'variable "name" {\n  default = "p.tpl"\n}\n'
            + templatefile_policy(
                "${path.module}/${var.name}", '{ a = "s3:GetObject" }'
            ),
            "p.tpl": '{"Statement": [{"Effect": "Deny", "Action": "${a}", "Resource": "*"}]}',
        },
    )

    assert result.diagnostics == []
    assert result.documents[0].statements[0].actions == ("s3:GetObject",)
    assert result.documents[0].path == str(tmp_path / "p.tpl")
