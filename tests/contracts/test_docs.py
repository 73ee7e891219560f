"""The rules live in the repository (issue 10 item 9): every rule ID cited anywhere is defined in docs/rules.md,
no file points outside the repository, and each service README's rule table cites defined rules and real tests."""

from __future__ import annotations

import ast
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "docs" / "rules.md"
SERVICES = ("gateway", "members", "loyalty", "credit", "notify")
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".json", ".sql", ".sh", ".cfg", ".ini", ".txt", ".xml",
                 ".html", ".js", ".css", ".env", ".example", ".mako", ""}
SKIPPED_DIRS = {".git", ".venv", ".cache", ".run", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
                ".pytest_cache"}
OUTSIDE = "../" + "shared/"  # spelt in two parts so this file does not contain what it looks for
HEADING = re.compile(r"^#{2,4} .*?\b([A-Z]-\d{2})\b", re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
TEST_REF = re.compile(r"`([\w./-]+\.py)::([\w:]+)(?:\[[^\]`]*\])?`")


@cache
def defined_rules() -> frozenset[str]:
    """Rule IDs that docs/rules.md defines: one heading per rule."""
    return frozenset(HEADING.findall(RULES.read_text(encoding="utf-8")))


@cache
def families() -> str:
    """The rule families (O, M, L, C, N, R...) as a regex alternation, so other tokens (SKUs, store ids) are not IDs."""
    return "|".join(sorted({r.split("-")[0] for r in defined_rules()}))


def cited_in(text: str) -> set[str]:
    """Rule IDs in a text: `L-07` as written, or `l07` in a test name (`test_l07_same_day_points`)."""
    ids = set(re.findall(rf"\b(?:{families()})-\d{{2}}\b", text))
    for letter, digits in re.findall(rf"\bdef test_\w*?(?<![a-z0-9])({families().lower()})(\d{{2}})(?=_|\()", text):
        ids.add(f"{letter.upper()}-{digits}")
    return ids


@cache
def repository_files() -> tuple[Path, ...]:
    """Files of the repository (tracked or new, not ignored); a plain walk when git is not available."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             capture_output=True, check=True, timeout=60).stdout.decode()
        files = [ROOT / p for p in out.split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        files = [p for p in ROOT.rglob("*") if not SKIPPED_DIRS & set(p.relative_to(ROOT).parts)]
    return tuple(p for p in files if p.is_file() and p.suffix in TEXT_SUFFIXES)


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return ""


def test_rules_md_defines_every_family_rule_once() -> None:
    text = RULES.read_text(encoding="utf-8")
    headings = HEADING.findall(text)
    assert len(headings) == len(set(headings)), "a rule is defined twice in docs/rules.md"
    assert {r[0] for r in headings} >= {"O", "M", "L", "C", "N", "R"}
    for rule in headings:
        assert f'<a id="{rule.lower()}"></a>' in text, f"{rule} has no anchor (docs/rules.md#{rule.lower()})"


def test_every_cited_rule_is_defined_in_docs_rules_md() -> None:
    undefined: dict[str, list[str]] = {}
    for path in repository_files():  # code, tests, bench, deploy, programs, compose files, docs
        for rule in cited_in(read(path)) - defined_rules():
            undefined.setdefault(rule, []).append(str(path.relative_to(ROOT)))
    assert not undefined, f"rule IDs cited but not defined in docs/rules.md: {undefined}"


def test_nothing_points_outside_the_repository() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in repository_files() if OUTSIDE in read(p)]
    assert not offenders, f"files pointing at {OUTSIDE} (use docs/ instead): {offenders}"


def test_markdown_links_stay_inside_the_repository_and_resolve() -> None:
    """Relative links in every markdown file point at files that exist; anchors into docs/rules.md exist."""
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', RULES.read_text(encoding="utf-8")))
    broken = []
    for md in (p for p in repository_files() if p.suffix == ".md"):
        for target in LINK.findall(read(md)):
            if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # http(s), mailto, in-page anchors
            path, _, anchor = target.partition("#")
            resolved = (md.parent / path).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{md.relative_to(ROOT)}: {target}")
            elif anchor and resolved == RULES and anchor not in anchors:
                broken.append(f"{md.relative_to(ROOT)}: {target} (no such rule anchor)")
    assert not broken, f"links that leave the repository or lead nowhere: {broken}"


def test_docs_exist_and_link_each_other() -> None:
    for name in ("rules.md", "pos-api.md", "architecture.md"):
        assert (ROOT / "docs" / name).is_file(), f"docs/{name} is missing"
    readme = read(ROOT / "README.md")
    for name in ("docs/rules.md", "docs/pos-api.md", "docs/architecture.md"):
        assert name in readme, f"README.md does not point at {name}"


def table_rows(readme: str) -> list[list[str]]:
    """Body rows of the markdown tables in a README (header and separator rows left out)."""
    rows: list[list[str]] = []
    lines = readme.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or re.fullmatch(r"\|[\s:|-]+\|?", line):
            continue
        if i + 1 < len(lines) and re.fullmatch(r"\|[\s:|-]+\|?", lines[i + 1]):
            continue  # a header row
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


@cache
def defined_test_names(path: Path) -> frozenset[str]:
    """`name` and `Class::name` for every function and method defined in a test module."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            names.add(node.name)
            names.update(f"{node.name}::{m.name}" for m in node.body
                         if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef))
    return frozenset(names)


@pytest.mark.parametrize("service", SERVICES)
def test_service_readme_tables_cite_defined_rules_and_real_tests(service: str) -> None:
    readme_path = ROOT / "services" / service / "README.md"
    assert readme_path.is_file(), f"services/{service}/README.md is missing"
    readme = read(readme_path)
    assert "docs/rules.md" in readme, f"services/{service}/README.md does not point at docs/rules.md"
    rows = table_rows(readme)
    in_tables = set()
    for row in rows:
        in_tables |= cited_in(row[0])
    assert in_tables, f"services/{service}/README.md has no rule table"
    assert not in_tables - defined_rules(), f"{service} README cites undefined rules {in_tables - defined_rules()}"
    missing_tests = []
    for ref in TEST_REF.finditer(readme):
        path, name = ROOT / ref.group(1), ref.group(2)
        if not path.is_file() or name not in defined_test_names(path):
            missing_tests.append(f"{ref.group(1)}::{name}")
    assert not missing_tests, f"{service} README cites tests that do not exist: {missing_tests}"
    package = ROOT / "services" / service / service
    moved = sorted({m for row in rows if len(row) >= 4 for m in re.findall(r"`([\w/]+\.py)`", row[2])
                    if not (package / m).is_file()})
    assert not moved, f"{service} README's `where` column names modules that are not in {service}/: {moved}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_rule_a_service_enforces_is_in_its_readme_table(service: str) -> None:
    code = ROOT / "services" / service / service
    cited: set[str] = set()
    for path in repository_files():
        if path.is_relative_to(code) and path.suffix == ".py":
            cited |= cited_in(read(path))
    in_tables = set()
    for row in table_rows(read(ROOT / "services" / service / "README.md")):
        in_tables |= cited_in(row[0])
    assert not cited - in_tables, (f"rules cited in services/{service}/{service} but missing from the table in "
                                   f"services/{service}/README.md: {sorted(cited - in_tables)}")
