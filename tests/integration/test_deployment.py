"""Deployment files that cannot run here (no Docker engine, no systemd): linted, and held to
the commands and metrics that do exist and are tested elsewhere in this suite."""

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, check=False)


def test_the_dockerfile_passes_hadolint() -> None:
    result = _run(str(BIN / "hadolint"), "Dockerfile")
    assert result.returncode == 0, result.stdout


def test_compose_and_alert_files_pass_yamllint() -> None:
    result = _run(str(BIN / "yamllint"), "--strict", "docker-compose.yml",
                  "deploy/prometheus/alerts.yml")
    assert result.returncode == 0, result.stdout


def _commands() -> list[list[str]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    found = [s["command"] for s in compose["services"].values() if "command" in s]
    for unit in (ROOT / "deploy/systemd").glob("*.service"):
        for line in unit.read_text().splitlines():
            if line.startswith(("ExecStart=", "ExecStartPre=")):
                argv = shlex.split(line.split("=", 1)[1])
                found.append(["prepskul", *argv[1:]])
    deploy_doc = (ROOT / "docs/deploy.md").read_text()
    for block in re.findall(r"```sh\n(.*?)```", deploy_doc, re.S):
        found += [line.split() for line in re.findall(r"\bprepskul [a-z -]+", block)]
    docker_cmd = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.M)
    assert docker_cmd is not None
    found.append(yaml.safe_load(docker_cmd.group(1)))
    return found


@pytest.mark.parametrize("argv", _commands(), ids=" ".join)
def test_every_deployed_command_is_a_real_command_with_real_options(argv: list[str]) -> None:
    assert argv[0] == "prepskul"
    result = _run(sys.executable, "-m", "prepskul.cli", *argv[1:], "--help")
    assert result.returncode == 0, result.stdout + result.stderr


def _families(expr: str) -> list[tuple[str, str]]:
    """(metric as queried, its family) for every one of ours in a PromQL expression."""
    return [(name, re.sub(r"_(count|sum|bucket)$", "", name))
            for name in re.findall(r"prepskul_[a-z_]+", expr)]


async def test_every_alert_watches_a_metric_we_export(api) -> None:  # type: ignore[no-untyped-def]
    exported = (await api.get("/metrics")).text
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    for rule in rules["groups"][0]["rules"]:
        for name, family in _families(rule["expr"]):
            assert re.search(rf"^# HELP {family} ", exported, re.M), (rule["alert"], name)
        for what in re.findall(r'prepskul_attention\{what="(\w+)"', rule["expr"]):
            # what it watches is counted too (zero when nothing waits), not only the family
            assert f'prepskul_attention{{what="{what}"}}' in exported, (rule["alert"], what)


async def test_every_dashboard_panel_queries_metrics_we_export(api) -> None:  # type: ignore[no-untyped-def]
    exported = (await api.get("/metrics")).text
    dashboard = json.loads((ROOT / "deploy/grafana/prepskul-sessions.json").read_text())
    queried = 0
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            found = _families(target["expr"])
            assert found, (panel["title"], target["expr"])
            for name, family in found:
                assert re.search(rf"^# HELP {family} ", exported, re.M), (panel["title"], name)
                queried += 1
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    assert queried >= len(dashboard["panels"])


def _pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    return {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", text, re.M)}


def _declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return ([Requirement(r) for r in project["dependencies"]],
            [Requirement(r) for r in project["optional-dependencies"]["test"]])


@pytest.mark.parametrize(("lock", "with_test_tools"),
                         [("requirements.lock", False), ("requirements-dev.lock", True)])
def test_the_lock_files_pin_every_declared_dependency_within_its_range(
        lock: str, with_test_tools: bool) -> None:
    """A dependency added to pyproject.toml without `bash .ci/lock` fails here."""
    pins = _pins(lock)
    runtime, test = _declared()
    for requirement in runtime + (test if with_test_tools else []):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {lock}: run `bash .ci/lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]}, pyproject.toml asks {requirement}: "
            "run `bash .ci/lock`")


def test_the_image_runs_on_the_versions_the_tests_ran_with() -> None:
    dev = _pins("requirements-dev.lock")
    for name, version in _pins("requirements.lock").items():
        assert dev.get(name) == version, name


def test_ci_and_the_image_install_from_the_locks_with_hashes_checked() -> None:
    assert "--require-hashes -r requirements-dev.lock" in (ROOT / ".ci/run").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "COPY requirements.lock" in dockerfile
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        if "command" in service and service["command"][0] == "prepskul":
            assert service["build"] == ".", name  # the image above, nothing installed apart


# Read by something else than `Settings`: uvicorn, Caddy, and the test suite.
NOT_OURS = {"FORWARDED_ALLOW_IPS", "SITE_ADDRESS", "UPSTREAM", "TEST_DATABASE_URL",
            "SCALE_OUT_SESSIONS"}


def _named_settings(text: str) -> set[str]:
    """The settings a document names in code spans: `NAME`, `NAME=…` or `NAME/path`."""
    return set(re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?=[`=/ ])", text))


def test_the_operator_docs_name_only_real_settings_and_the_readme_lists_them_all() -> None:
    from prepskul.config import Settings

    ours = {(field.alias or name).upper() for name, field in Settings.model_fields.items()}
    readme = (ROOT / "README.md").read_text()
    for doc in ("README.md", "docs/deploy.md", "docs/security.md", "docs/supabase.md",
                "docs/scaling.md"):
        assert _named_settings((ROOT / doc).read_text()) - ours - NOT_OURS == set(), doc
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert ours - _named_settings(table) == set()
