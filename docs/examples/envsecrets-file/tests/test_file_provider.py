"""What is particular to the _file provider: paths, links, text, listing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import envsecrets
import pytest

from envsecrets_file import MAX_BYTES, FileProvider


@pytest.fixture
def secrets_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "secrets"
    directory.mkdir()
    return directory


@pytest.fixture
def provider(secrets_dir: Path) -> FileProvider:
    return FileProvider({"ENVSECRETS_FILE_DIR": str(secrets_dir)})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("s3cr3t", "s3cr3t"),
        ("s3cr3t\n", "s3cr3t"),
        ("s3cr3t\r\n", "s3cr3t"),
        ("s3cr3t\n\n", "s3cr3t\n"),
        ("  spaced  ", "  spaced  "),
        ("", ""),
    ],
)
def test_one_trailing_newline_is_dropped(
    provider: FileProvider, secrets_dir: Path, content: str, expected: str
) -> None:
    (secrets_dir / "s").write_bytes(content.encode())
    assert provider.fetch("s") == expected


@pytest.mark.parametrize(
    "name", ["../outside", "a/../../outside", "/etc/passwd", "a//b", "a/", "..", "C:\\x"]
)
def test_names_leaving_the_directory_are_refused(provider: FileProvider, name: str) -> None:
    with pytest.raises(envsecrets.ReferenceSyntaxError):
        provider.fetch(name)


def test_a_link_out_of_the_directory_is_refused(
    provider: FileProvider, secrets_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside").write_text("not-yours")
    (secrets_dir / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(envsecrets.ProviderError, match="leads out") as caught:
        provider.fetch("link")
    assert "not-yours" not in str(caught.value)


def test_a_link_inside_the_directory_is_followed(provider: FileProvider, secrets_dir: Path) -> None:
    (secrets_dir / "real").write_text("inside-value")
    (secrets_dir / "alias").symlink_to("real")
    assert provider.fetch("alias") == "inside-value"


def test_the_directory_itself_may_be_a_link(tmp_path: Path, secrets_dir: Path) -> None:
    (secrets_dir / "s").write_text("via-link")
    (tmp_path / "mounted").symlink_to(secrets_dir)
    provider = FileProvider({"ENVSECRETS_FILE_DIR": str(tmp_path / "mounted")})
    assert provider.fetch("s") == "via-link"


def test_missing_file_is_secret_not_found(provider: FileProvider) -> None:
    with pytest.raises(envsecrets.SecretNotFound, match="'nope'"):
        provider.fetch("nope")


def test_a_directory_is_not_a_secret(provider: FileProvider, secrets_dir: Path) -> None:
    (secrets_dir / "folder").mkdir()
    with pytest.raises(envsecrets.ProviderError, match="directory"):
        provider.fetch("folder")


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True, reason="root reads all")
def test_an_unreadable_file_is_a_provider_error(provider: FileProvider, secrets_dir: Path) -> None:
    (secrets_dir / "locked").write_text("locked-value")
    (secrets_dir / "locked").chmod(0)
    with pytest.raises(envsecrets.ProviderError, match="cannot read"):
        provider.fetch("locked")


@pytest.mark.parametrize("environ", [{}, {"ENVSECRETS_FILE_DIR": ""}])
def test_the_directory_must_be_configured(environ: dict[str, str]) -> None:
    with pytest.raises(envsecrets.ProviderError, match="ENVSECRETS_FILE_DIR is not set"):
        FileProvider(environ).fetch("s")


def test_the_directory_must_exist(tmp_path: Path) -> None:
    provider = FileProvider({"ENVSECRETS_FILE_DIR": str(tmp_path / "absent")})
    with pytest.raises(envsecrets.ProviderError, match="not a directory"):
        provider.fetch("s")


def test_binary_files_are_refused_without_quoting_them(
    provider: FileProvider, secrets_dir: Path
) -> None:
    (secrets_dir / "bin").write_bytes(b"\xff\xfebinary-secret")
    with pytest.raises(envsecrets.DocumentError, match="not UTF-8") as caught:
        provider.fetch("bin")
    assert "binary-secret" not in str(caught.value)


def test_huge_files_are_refused(provider: FileProvider, secrets_dir: Path) -> None:
    (secrets_dir / "huge").write_bytes(b"x" * (MAX_BYTES + 1))
    with pytest.raises(envsecrets.DocumentError, match="larger than"):
        provider.fetch("huge")


def test_resolves_through_the_installed_entry_point(secrets_dir: Path) -> None:
    (secrets_dir / "db.json").write_text('{"port": 5432, "tls": {"mode": "verify-full"}}')
    (secrets_dir / "password").write_text("pw-installed\n")
    env = {
        "PG_PORT": "_file:db.json:port",
        "PG_MODE": "_file:db.json:/tls/mode",
        "PG_PASS": "_file:password",
        "PLAIN": "hello",
    }
    resolved = envsecrets.resolve_env(env, environ={"ENVSECRETS_FILE_DIR": str(secrets_dir)})
    assert resolved == {
        "PG_PORT": "5432",
        "PG_MODE": "verify-full",
        "PG_PASS": "pw-installed",
        "PLAIN": "hello",
    }


# -- listing --------------------------------------------------------------------


@pytest.fixture
def tree(secrets_dir: Path) -> Path:
    (secrets_dir / "app").mkdir()
    (secrets_dir / "app" / "db.json").write_text("{}")
    (secrets_dir / "app" / "api_key").write_text("k")
    (secrets_dir / "apple").write_text("a")
    (secrets_dir / "token").write_text("t")
    return secrets_dir


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", ["app/api_key", "app/db.json", "apple", "token"]),
        ("app", ["app/api_key", "app/db.json", "apple"]),
        ("app/", ["app/api_key", "app/db.json"]),
        ("app/d", ["app/db.json"]),
        ("nothing", []),
        ("nothing/here", []),
    ],
)
def test_lists_the_files_whose_names_start_with_the_prefix(
    provider: FileProvider, tree: Path, prefix: str, expected: list[str]
) -> None:
    assert sorted(provider.list_names(prefix)) == expected


@pytest.mark.parametrize("prefix", ["../", "../x", "a/../../", "/etc/", "a//b/", "C:\\x/"])
def test_listing_outside_the_directory_is_refused(provider: FileProvider, prefix: str) -> None:
    with pytest.raises(envsecrets.ReferenceSyntaxError):
        provider.list_names(prefix)


def test_links_out_of_the_directory_are_not_listed(
    provider: FileProvider, secrets_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "outside").write_text("not-yours")
    (secrets_dir / "real").write_text("inside-value")
    (secrets_dir / "escape").symlink_to(tmp_path / "outside")
    (secrets_dir / "alias").symlink_to("real")
    (secrets_dir / "dangling").symlink_to(secrets_dir / "gone")
    assert sorted(provider.list_names("")) == ["alias", "real"]


def test_a_linked_folder_out_of_the_directory_is_refused(
    provider: FileProvider, secrets_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "s").write_text("not-yours")
    (secrets_dir / "mounted").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(envsecrets.ProviderError, match="leads out"):
        provider.list_names("mounted/")
    assert list(provider.list_names("")) == []


def test_kubernetes_version_folders_are_not_listed(
    provider: FileProvider, secrets_dir: Path
) -> None:
    # What a Kubernetes secret volume holds: the visible names link through
    # "..data" to a timestamped folder.
    version = secrets_dir / "..2024_01_01_00_00_00.123"
    version.mkdir()
    (version / "password").write_text("pw")
    (secrets_dir / "..data").symlink_to(version.name)
    (secrets_dir / "password").symlink_to("..data/password")
    assert list(provider.list_names("")) == ["password"]


def test_listing_needs_the_directory_at_once() -> None:
    # Raised by the call, not when the names are first read.
    with pytest.raises(envsecrets.ProviderError, match="ENVSECRETS_FILE_DIR is not set"):
        FileProvider({}).list_names("")


def test_lists_through_the_installed_entry_point(tree: Path) -> None:
    with envsecrets.Resolver({"ENVSECRETS_FILE_DIR": str(tree)}) as resolver:
        assert resolver.can_list("file")
        listing = resolver.list_names("file", "app/", limit=1)
        assert (listing.names, listing.truncated) == (["app/api_key"], True)
        (tree / "app" / "db.json").write_text('{"port": 5432, "tls": {"mode": "full"}}')
        keys = resolver.list_keys("file", "app/db.json")
        assert [(info.key, info.json_type) for info in keys] == [
            ("port", "number"),
            ("tls", "object"),
        ]


def test_ls_at_debug_prints_names_and_types_never_values(tree: Path) -> None:
    (tree / "app" / "db.json").write_text('{"password": "pw-ls-sentinel-7e1d"}')
    (tree / "token").write_text("tok-ls-sentinel-93ab")
    env = {**os.environ, "ENVSECRETS_FILE_DIR": str(tree)}
    outputs = []
    for reference in ("_file:", "_file:app/", "_file:app/db.json:"):
        result = subprocess.run(
            [sys.executable, "-m", "envsecrets", "ls", "-vv", reference],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    assert "DEBUG envsecrets_file: listing secret files" in outputs[0]  # -vv logs
    assert "app/db.json" in outputs[1]
    assert "password" in outputs[2]
    assert "string" in outputs[2]
    for output in outputs:
        assert "sentinel" not in output
