from mfa_guard.model import Finding, Severity
from mfa_guard.report.github import format_finding


def make_finding(**changes):
    values = dict(
        path="iam/p.json",
        line=4,
        column=5,
        end_line=9,
        end_column=6,
        rule_id="MFA001",
        rule_name="password-change-blocked",
        severity=Severity.ERROR,
        message="denied",
        fix=None,
    )
    values.update(changes)
    return Finding(**values)


def test_error_annotation():
    line = format_finding(make_finding())
    assert (
        line
        == "::error file=iam/p.json,line=4,col=5,endLine=9,endColumn=6,title=MFA001 password-change-blocked::denied"
    )


def test_severity_commands():
    assert format_finding(make_finding(severity=Severity.WARNING)).startswith(
        "::warning "
    )
    assert format_finding(make_finding(severity=Severity.INFO)).startswith("::notice ")


def test_special_characters_escaped():
    line = format_finding(
        make_finding(path="a,b:c.json", message="50% done\nnext", fix="do it")
    )
    assert "file=a%2Cb%3Ac.json," in line
    assert line.endswith("::50%25 done%0Anext%0AFix: do it")
