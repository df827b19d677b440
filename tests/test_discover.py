import os
import subprocess

from mfa_guard.discover import (
    _inside_git_checkout,
    anchor_patterns,
    discover,
    path_matcher,
)


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


def test_files_listed_before_subfolders(tmp_path):
    for name in ["b.json", "c.json", "a/z.json", "a/b/c.json", "d/e.json"]:
        write(tmp_path / name)
    relative = [
        os.path.relpath(path, tmp_path) for path in discover([str(tmp_path)]).paths
    ]
    assert relative == [
        "b.json",
        "c.json",
        os.path.join("a", "z.json"),
        os.path.join("a", "b", "c.json"),
        os.path.join("d", "e.json"),
    ]


def test_dot_root_display_forms(tmp_path, monkeypatch):
    write(tmp_path / "a.json")
    write(tmp_path / "sub" / "b.json")
    write(tmp_path / "node_modules" / "c.json")
    monkeypatch.chdir(tmp_path)
    discovery = discover(["."])
    assert discovery.paths == ["a.json", os.path.join("sub", "b.json")]
    assert discovery.skipped == [(os.path.join(".", "node_modules"), "skipped folder")]


def test_explicit_file_normalized(tmp_path, monkeypatch):
    write(tmp_path / "x.json")
    monkeypatch.chdir(tmp_path)
    assert discover(["./x.json"]).paths == ["x.json"]


def test_relative_and_absolute_listed_once(tmp_path, monkeypatch):
    write(tmp_path / "x.json")
    monkeypatch.chdir(tmp_path)
    assert discover(["x.json", str(tmp_path / "x.json")]).paths == ["x.json"]


def test_overlapping_arguments_listed_once(tmp_path):
    write(tmp_path / "a.json")
    write(tmp_path / "sub" / "b.json")
    discovery = discover(
        [str(tmp_path), str(tmp_path / "sub"), str(tmp_path / "sub" / ".." / "a.json")]
    )
    assert discovery.paths == [
        str(tmp_path / "a.json"),
        str(tmp_path / "sub" / "b.json"),
    ]


def test_excludes_match_name_or_path(tmp_path):
    write(tmp_path / "keep.json")
    write(tmp_path / "stack.yaml")
    write(tmp_path / "skip" / "p.json")
    discovery = discover([str(tmp_path)], excludes=["*.yaml", "*/skip/*"])
    assert names(discovery, tmp_path) == ["keep.json"]
    assert discovery.skipped == [
        (str(tmp_path / "stack.yaml"), "excluded by configuration"),
        (str(tmp_path / "skip" / "p.json"), "excluded by configuration"),
    ]


def test_no_git_outside_checkout(tmp_path, monkeypatch):
    write(tmp_path / "p.json")
    monkeypatch.delenv("GIT_DIR", raising=False)

    def fail(*args, **kwargs):
        raise AssertionError("git was started outside a checkout")

    monkeypatch.setattr(subprocess, "run", fail)
    assert not _inside_git_checkout(str(tmp_path))
    assert names(discover([str(tmp_path)]), tmp_path) == ["p.json"]


def test_git_checkout_found_from_subfolder(tmp_path, monkeypatch):
    monkeypatch.delenv("GIT_DIR", raising=False)
    (tmp_path / ".git").mkdir()
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert _inside_git_checkout(str(tmp_path / "a" / "b"))


def test_git_dir_variable_counts_as_checkout(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere.git"))
    assert _inside_git_checkout(str(tmp_path))


def test_anchor_patterns_forms():
    patterns = ["legacy/*.json", "*.yaml", "./a/../b/*.json", "/abs/*.json"]
    assert anchor_patterns(patterns, "/repo") == [
        "/repo/legacy/*.json",
        "/repo/b/*.json",
        "/abs/*.json",
    ]


def test_anchor_patterns_escape_folder():
    assert anchor_patterns(["x/*.json"], "/tmp/[a]*?") == ["/tmp/[[]a][*][?]/x/*.json"]


def test_anchor_patterns_parent_reference():
    assert anchor_patterns(["../shared/*.json"], "/repo/config") == [
        "/repo/shared/*.json"
    ]


def test_path_matcher_without_patterns():
    assert path_matcher([]) is None


def test_path_matcher_relative_pattern():
    matches = path_matcher(["legacy/*.json"])
    assert matches("legacy/a.json")
    assert matches("legacy/deep/a.json")
    assert not matches("sub/legacy/a.json")
    assert not matches("/repo/legacy/a.json")


def test_path_matcher_name_pattern():
    matches = path_matcher(["old-*.json"])
    assert matches("old-a.json")
    assert matches("/repo/deep/old-a.json")
    assert not matches("/repo/old-a/b.json")


def test_path_matcher_absolute_pattern(tmp_path, monkeypatch):
    folder = tmp_path / "[odd] name"
    (folder / "legacy").mkdir(parents=True)
    matches = path_matcher(anchor_patterns(["legacy/*.json"], folder))
    monkeypatch.chdir(folder / "legacy")
    assert matches("a.json")
    assert matches(os.path.join("..", "legacy", "a.json"))
    assert matches(str(folder / "legacy" / "a.json"))
    assert not matches(str(tmp_path / "legacy" / "a.json"))
    assert not matches(str(folder / "a.json"))


def test_excludes_anchored_from_subfolder(tmp_path, monkeypatch):
    write(tmp_path / "keep.json")
    write(tmp_path / "legacy" / "old.json")
    write(tmp_path / "legacy" / "nested" / "older.json")
    monkeypatch.chdir(tmp_path / "legacy")
    excludes = anchor_patterns(["legacy/*.json"], tmp_path)
    discovery = discover([".", str(tmp_path / "keep.json")], excludes)
    assert discovery.paths == [str(tmp_path / "keep.json")]
    assert discovery.skipped == [
        ("old.json", "excluded by configuration"),
        (os.path.join("nested", "older.json"), "excluded by configuration"),
    ]
