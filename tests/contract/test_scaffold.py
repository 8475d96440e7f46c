"""`envsecrets new-provider`: the distribution it writes passes its own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from envsecrets.scaffold import write_provider


@pytest.mark.parametrize("name", ["", "Cloud", "1cloud", "my-cloud", "my_cloud", "cloud:x", "é"])
def test_names_outside_the_prefix_grammar_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\[a-z\]\[a-z0-9\]\*"):
        write_provider(name, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["aws", "vaultkv2", "envjson"])
def test_first_party_prefixes_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="envsecrets-"):
        write_provider(name, tmp_path)


def test_an_existing_directory_is_never_overwritten(tmp_path: Path) -> None:
    existing = tmp_path / "envsecrets-cloud"
    existing.mkdir()
    (existing / "pyproject.toml").write_text("mine")
    with pytest.raises(FileExistsError):
        write_provider("cloud", tmp_path)
    assert (existing / "pyproject.toml").read_text() == "mine"
    assert [path.name for path in existing.iterdir()] == ["pyproject.toml"]


def test_writes_a_complete_distribution(tmp_path: Path) -> None:
    tomllib = pytest.importorskip("tomllib")
    root = write_provider("cloud2", tmp_path / "new")
    assert root == tmp_path / "new" / "envsecrets-cloud2"
    files = sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/envsecrets_cloud2/__init__.py",
        "src/envsecrets_cloud2/py.typed",
        "tests/conftest.py",
        "tests/test_contract.py",
    ]
    # The contract kit is opt-in: the generated suite loads it itself.
    assert 'pytest_plugins = ["envsecrets.testing"]' in (root / "tests/conftest.py").read_text()
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "envsecrets-cloud2"
    assert project["project"]["entry-points"]["envsecrets"] == {"cloud2": "envsecrets_cloud2"}
    assert project["build-system"]["build-backend"] == "hatchling.build"
    assert any(dep.startswith("envsecrets>=") for dep in project["project"]["dependencies"])
    assert "@" not in (root / "src/envsecrets_cloud2/__init__.py").read_text().replace(
        "@envsecrets.hookimpl", ""
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_provider("cloud", tmp_path_factory.mktemp("scaffold"))


def run_generated_tests(root: Path) -> subprocess.CompletedProcess[str]:
    # Not installed: the module comes from src/ on PYTHONPATH, the contract
    # registers it as a plugin directly, and the entry-point check skips.
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run(
        # -W error: the generated suite must not warn (pytest 9's deprecations included).
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rs", "-W", "error"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def contract_test_count() -> int:
    from envsecrets.testing import ProviderContract

    return sum(name.startswith("test_") for name in dir(ProviderContract))


def test_the_output_passes_its_own_contract_tests(generated: Path) -> None:
    result = run_generated_tests(generated)
    assert result.returncode == 0, result.stdout + result.stderr
    # Skipped: the entry point (not installed) and the two listing checks
    # (the list_names stub is commented out). The credential check runs.
    total = contract_test_count()
    assert f"{total - 3} passed, 3 skipped" in result.stdout, result.stdout
    assert "not installed as a distribution" in result.stdout
    assert "does not list names" in result.stdout
    assert "declares no credentials" not in result.stdout


def test_the_output_declares_settings_credentials_and_hints(
    generated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(generated / "src"))
    from envsecrets_cloud import CloudProvider  # type: ignore[import-not-found]

    import envsecrets

    assert CloudProvider.settings == {"ENVSECRETS_CLOUD_SECRETS", "CLOUD_ADDR", "CLOUD_TOKEN"}
    assert CloudProvider.credentials == {"CLOUD_TOKEN"}
    assert (CloudProvider.name_hint, CloudProvider.key_hint) == ("app/db", "password")
    assert not envsecrets.provider_can_list(CloudProvider)
    readme = (generated / "README.md").read_text()
    assert "`CLOUD_TOKEN`" in readme
    assert "`CLOUD_ADDR`" in readme


def test_the_listing_stub_works_once_uncommented(tmp_path: Path) -> None:
    root = write_provider("cloudls", tmp_path)
    module = root / "src/envsecrets_cloudls/__init__.py"
    lines = module.read_text().splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("    # def list_names("))
    for index in (start, start + 1):  # the stub: a signature and one line
        lines[index] = lines[index].replace("# ", "", 1)
    module.write_text("".join(lines))
    result = run_generated_tests(root)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{contract_test_count() - 1} passed, 1 skipped" in result.stdout, result.stdout
    assert "does not list names" not in result.stdout


def test_the_output_resolves_references(generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import envsecrets

    monkeypatch.syspath_prepend(str(generated / "src"))
    import envsecrets_cloud as module  # type: ignore[import-not-found]

    environ = {"ENVSECRETS_CLOUD_SECRETS": '{"db": {"port": 5432, "ratio": 1.50}, "t": "tok"}'}
    env = {"PORT": "_cloud:db:port", "RATIO": "_cloud:db:ratio", "T": "_cloud:t"}
    with envsecrets.Resolver(environ, plugins=[module], entry_points=False) as resolver:
        assert resolver.resolve(env) == {"PORT": "5432", "RATIO": "1.50", "T": "tok"}


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_output_is_lint_clean(generated: Path) -> None:
    # ruff's defaults, as in a fresh project of the provider's author.
    for command in (
        ["ruff", "check", "--isolated", "."],
        ["ruff", "format", "--isolated", "--check", "."],
    ):
        result = subprocess.run(command, cwd=generated, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def generated_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_provider("cloudsdk", tmp_path_factory.mktemp("scaffold-sdk"), sdk=True)


def test_the_sdk_variant_passes_its_own_contract_tests(generated_sdk: Path) -> None:
    module = (generated_sdk / "src/envsecrets_cloudsdk/__init__.py").read_text()
    assert "envsecrets.redact_logs(self, sdks=SDK)" in module
    assert "def close(self)" in module
    assert (generated_sdk / "src/envsecrets_cloudsdk/_standin.py").is_file()
    result = run_generated_tests(generated_sdk)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{contract_test_count() - 3} passed, 3 skipped" in result.stdout, result.stdout


def test_the_sdk_variant_leaks_its_token_without_the_redaction(tmp_path: Path) -> None:
    # The control: the stand-in SDK logs the token, as HTTP clients do.
    root = write_provider("cloudleak", tmp_path, sdk=True)
    module = root / "src/envsecrets_cloudleak/__init__.py"
    text = module.read_text()
    module.write_text(text.replace("envsecrets.redact_logs(self, sdks=SDK)", "pass"))
    result = run_generated_tests(root)
    assert result.returncode == 1
    assert "the value of credential CLOUDLEAK_TOKEN is in: log records of envsecrets_cloudleak" in (
        result.stdout
    )
    assert "contract-credential-" not in result.stdout


def test_the_sdk_variant_builds_its_client_on_first_fetch(
    generated_sdk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(generated_sdk / "src"))
    import envsecrets_cloudsdk as module  # type: ignore[import-not-found]

    provider = module.CloudsdkProvider({"ENVSECRETS_CLOUDSDK_SECRETS": '{"a": "tok-a1b2c3"}'})
    assert provider._client is None
    assert provider.fetch("a") == "tok-a1b2c3"
    assert provider._client is not None
    provider.close()
    provider.close()
    assert provider._client is None


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_the_sdk_variant_is_lint_clean(generated_sdk: Path) -> None:
    for command in (
        ["ruff", "check", "--isolated", "."],
        ["ruff", "format", "--isolated", "--check", "."],
    ):
        result = subprocess.run(
            command, cwd=generated_sdk, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_cli_says_what_to_do_next_with_the_test_extra(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "envsecrets", "new-provider", "nexty", "--sdk", "-d", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    where = tmp_path / "envsecrets-nexty"
    assert result.stdout == (
        f"wrote {where}\nnext: pip install -e '{where}[test]' && pytest {where}/tests\n"
    )
    assert (where / "src/envsecrets_nexty/_standin.py").is_file()
