"""The roles' documentation and interface stay in step with their code."""

from __future__ import annotations

import json
import re
from importlib.metadata import distribution
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def _yaml(path: Path):
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_in_the_argument_spec_and_back(role):
    path = ROOT / "roles" / role
    defaults = _yaml(path / "defaults/main.yml")
    spec = _yaml(path / "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
    commented = set(re.findall(r"^# ?(\w+):", (path / "defaults/main.yml").read_text(), re.M))
    assert set(defaults) <= set(spec), f"defaults not in the spec: {set(defaults) - set(spec)}"
    undocumented = set(spec) - set(defaults) - commented - {"ecis_environment"}
    assert not undocumented, f"spec options with no default or commented example: {undocumented}"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_readme_naming_its_variables(role):
    readme = (ROOT / "roles" / role / "README.md").read_text()
    defaults = _yaml(ROOT / "roles" / role / "defaults/main.yml")
    missing = [name for name in defaults if name not in readme]
    assert not missing, f"README of {role} does not mention {missing}"


def test_every_template_starts_with_ansible_managed():
    for template in (ROOT / "roles").glob("*/templates/*.j2"):
        first = template.read_text().splitlines()[0]
        assert "ansible_managed" in first or template.name == "users.acl.j2", template


def test_pinned_collections_are_the_installed_ones():
    pins = _yaml(ROOT / "collections/requirements.yml")["collections"]
    root = Path(distribution("ansible").locate_file("ansible_collections"))
    for pin in pins:
        namespace, name = pin["name"].split(".")
        manifest = json.loads((root / namespace / name / "MANIFEST.json").read_text())
        assert manifest["collection_info"]["version"] == pin["version"], pin["name"]


def test_the_benchmark_report_is_the_committed_results_rendered():
    from bench.report import REPORT, render

    assert REPORT.read_text() == render(charts=False), "run python -m bench.report"


@pytest.mark.parametrize("path", sorted((ROOT / "bench/results").glob("*.json")), ids=str)
def test_every_benchmark_figure_names_the_machine_and_is_a_median_of_three(path):
    result = json.loads(path.read_text())
    assert {"cores", "memory_gb"} <= set(result["machine"])

    def medians(node):
        if isinstance(node, dict):
            if "median" in node and "runs" in node:
                yield node
            for value in node.values():
                yield from medians(value)

    found = list(medians(result))
    assert found, "no median in the result"
    for figure in found:
        assert len(figure["runs"]) >= 3, figure
