import codecs
import os

import pytest

from mfa_guard.loaders.dispatch import UnreadableFile, load_file, read_text
from mfa_guard.model import DiagnosticKind, PolicyKind

POLICY = '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}'


def test_read_text_utf8_bom(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(codecs.BOM_UTF8 + POLICY.encode())
    assert read_text(path) == POLICY


def test_read_text_utf16_bom(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(codecs.BOM_UTF16_LE + POLICY.encode("utf-16-le"))
    assert read_text(path) == POLICY


def test_read_text_invalid_utf8(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b'{"Statement": "\xff"}')
    with pytest.raises(UnreadableFile, match="invalid UTF-8 at byte 15"):
        read_text(path)


def test_read_text_binary(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    with pytest.raises(UnreadableFile, match="binary"):
        read_text(path)


def test_read_text_size_limit(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(POLICY)
    with pytest.raises(UnreadableFile, match="larger than the 10-byte limit"):
        read_text(path, max_bytes=10)


@pytest.mark.skipif(
    os.geteuid() == 0, reason="root can read files without read permission"
)
def test_read_text_unreadable(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(POLICY)
    path.chmod(0)
    with pytest.raises(UnreadableFile, match="could not be read"):
        read_text(path)


def test_load_file_policy(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(POLICY)
    result = load_file(path)
    assert result.relevant
    assert len(result.documents) == 1
    assert result.documents[0].kind is PolicyKind.IDENTITY
    assert result.documents[0].path == str(path)


def test_load_file_list_of_policies(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(f'[{POLICY}, {{"other": 1}}, {POLICY}]')
    result = load_file(path)
    assert [document.name for document in result.documents] == ["[0]", "[2]"]


def test_load_file_trust_policy_kind(tmp_path):
    path = tmp_path / "trust.json"
    path.write_text(
        '{"Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    assert load_file(path).documents[0].kind is PolicyKind.TRUST


def test_broken_policy_json_is_parse_error(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        '{\n  "Statement": [\n    {"Effect": "Deny",, "Action": "*"}\n  ]\n}\n'
    )
    result = load_file(path)
    assert len(result.diagnostics) == 1
    diagnostic = result.diagnostics[0]
    assert diagnostic.kind is DiagnosticKind.PARSE_ERROR
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 23)
    assert diagnostic.message.startswith("invalid JSON")


def test_unrelated_broken_json_skipped_quietly(tmp_path):
    path = tmp_path / "tsconfig.json"
    path.write_text('{\n  // comments are not JSON\n  "compilerOptions": {}\n}\n')
    result = load_file(path)
    assert not result.relevant
    assert result.diagnostics == []
    assert "not JSON" in result.note


def test_duplicate_key_in_policy_reported(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(
        '{"Statement": [{"Effect": "Allow",\n  "Effect": "Deny", "Action": "*"}]}'
    )
    result = load_file(path)
    assert result.documents[0].statements[0].effect == "Deny"
    assert [(d.span.line, d.span.column) for d in result.diagnostics] == [(2, 3)]
    assert "duplicate key 'Effect' (first at line 1)" in result.diagnostics[0].message


def test_plain_json_not_relevant(tmp_path):
    path = tmp_path / "package.json"
    path.write_text('{"name": "web", "version": "1.0.0"}')
    assert not load_file(path).relevant


def test_device_not_read(tmp_path):
    link = tmp_path / "zero.json"
    link.symlink_to("/dev/zero")
    with pytest.raises(UnreadableFile, match="not a regular file"):
        read_text(link)


def test_large_policy_reported_as_unchecked(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(POLICY + " " * 100)
    result = load_file(path, max_bytes=50)
    assert [d.kind for d in result.diagnostics] == [DiagnosticKind.UNRESOLVED]
    assert "it was not checked" in result.diagnostics[0].message


def test_large_unrelated_file_skipped(tmp_path):
    path = tmp_path / "package-lock.json"
    path.write_text('{"lockfileVersion": 3}' + " " * 100)
    result = load_file(path, max_bytes=50)
    assert not result.relevant
    assert result.diagnostics == []


def test_policy_with_invalid_utf8_reported(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_bytes(
        b"AWSTemplateFormatVersion: '2010-09-09'\nResources: {}\n# caf\xe9\n"
    )
    result = load_file(path)
    assert [d.kind for d in result.diagnostics] == [DiagnosticKind.PARSE_ERROR]
    assert "invalid UTF-8 at byte" in result.diagnostics[0].message


def test_unreadable_file_reported(tmp_path, monkeypatch):
    path = tmp_path / "p.json"
    path.write_text(POLICY)

    def raise_permission_error(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(type(path), "open", raise_permission_error)
    result = load_file(path)
    assert [d.kind for d in result.diagnostics] == [DiagnosticKind.PARSE_ERROR]
    assert "could not be read: Permission denied" in result.diagnostics[0].message
