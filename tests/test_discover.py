import os
import subprocess

from mfa_guard.discover import discover


def write(path, text="{}"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def names(discovery, root):
    return sorted(os.path.relpath(path, root) for path in discovery.files)


def test_walk_picks_extensions_and_skips_folders(tmp_path):
    for name in [
        "a.json",
        "b.tf",
        "c.tf.json",
        "d.yaml",
        "e.yml",
        "f.template",
        "g.txt",
        "h.py",
    ]:
        write(tmp_path / name)
    write(tmp_path / ".terraform" / "modules" / "x.tf")
    write(tmp_path / "node_modules" / "pkg" / "package.json")
    write(tmp_path / ".git" / "config.json")
    found = names(discover([str(tmp_path)]), tmp_path)
    assert found == ["a.json", "b.tf", "c.tf.json", "d.yaml", "e.yml", "f.template"]


def test_cdk_assets_skipped(tmp_path):
    write(tmp_path / "cdk.out" / "Stack.template.json")
    write(tmp_path / "cdk.out" / "asset.1234" / "package.json")
    assert names(discover([str(tmp_path)]), tmp_path) == [
        os.path.join("cdk.out", "Stack.template.json")
    ]


def test_gitignored_files_skipped(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path / ".gitignore", "build/\nsecret.json\n")
    write(tmp_path / "policy.json")
    write(tmp_path / "secret.json")
    write(tmp_path / "build" / "out.json")
    discovery = discover([str(tmp_path)])
    assert names(discovery, tmp_path) == ["policy.json"]
    assert (str(tmp_path / "secret.json"), "ignored by git") in discovery.skipped


def test_explicit_file_always_read(tmp_path):
    path = write(tmp_path / "notes.txt")
    assert discover([str(path)]).files == [path]


def test_symlink_loop_not_followed(tmp_path):
    write(tmp_path / "a" / "p.json")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    discovery = discover([str(tmp_path)])
    assert names(discovery, tmp_path) == [os.path.join("a", "p.json")]
    assert any("symbolic link" in reason for _, reason in discovery.skipped)


def test_missing_path_reported(tmp_path):
    discovery = discover([str(tmp_path / "nope")])
    assert discovery.missing == [str(tmp_path / "nope")]


def test_excludes_by_glob(tmp_path):
    write(tmp_path / "keep.json")
    write(tmp_path / "legacy" / "old.json")
    discovery = discover([str(tmp_path)], excludes=["*/legacy/*"])
    assert names(discovery, tmp_path) == ["keep.json"]


def test_paths_with_spaces_and_unicode(tmp_path):
    write(tmp_path / "my policies" / "zürich ü.json")
    assert names(discover([str(tmp_path)]), tmp_path) == [
        os.path.join("my policies", "zürich ü.json")
    ]


def test_fifo_and_device_links_skipped(tmp_path):
    os.mkfifo(tmp_path / "pipe.yaml")
    os.symlink("/dev/zero", tmp_path / "zero.json")
    write(tmp_path / "p.json")
    discovery = discover([str(tmp_path), str(tmp_path / "pipe.yaml")])
    assert names(discovery, tmp_path) == ["p.json"]
    reasons = dict(discovery.skipped)
    assert reasons[str(tmp_path / "pipe.yaml")] == "not a regular file"
    assert reasons[str(tmp_path / "zero.json")] == "not a regular file"
