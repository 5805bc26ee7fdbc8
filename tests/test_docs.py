"""The docs are tested: every public name, CLI command, journey field and link is documented.

These tests fail when something is added to the code and not to the docs — on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from pydantic import BaseModel

import klantreis
from klantreis.cli import cli
from klantreis.model import journey as journey_module

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _without_fenced_code(text: str) -> str:
    return re.sub(r"^```.*?^```[^\n]*$", "", text, flags=re.S | re.M)


def _code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", _without_fenced_code(text))


def _headings(text: str) -> list[str]:
    return [
        line.lstrip("#").strip()
        for line in _without_fenced_code(text).splitlines()
        if re.match(r"#{1,6} ", line)
    ]


# -- (a) the public API -----------------------------------------------------------------------


def undocumented_names(api_text: str, names: list[str]) -> list[str]:
    """Names that do not appear as `name`, `klantreis.name` or `name(...)` in backticks."""
    spans = set(_code_spans(api_text))
    missing = []
    for name in names:
        pattern = re.compile(rf"(?:klantreis\.)?{re.escape(name)}(?:\(.*\))?")
        if not any(pattern.fullmatch(span) for span in spans):
            missing.append(name)
    return missing


def test_every_public_name_is_in_api_md():
    missing = undocumented_names(_read(DOCS / "api.md"), list(klantreis.__all__))
    assert not missing, f"add these names of klantreis.__all__ to docs/api.md: {missing}"


def test_the_api_check_can_fail():
    text = "## Workspaces\n\n### `klantreis.init(path)`\n\nUse `Workspace` and `open`.\n"
    assert undocumented_names(text, ["init", "Workspace", "open", "Journey"]) == ["Journey"]
    # A name inside a longer span or only in a code block does not count.
    assert undocumented_names("`Journeys`\n```\nJourney\n```\n", ["Journey"]) == ["Journey"]


# -- (b) the CLI ------------------------------------------------------------------------------


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[str]:
    """Every visible command and subcommand as 'name' or 'group name'."""
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if cmd is None or cmd.hidden:
            continue
        path = (*prefix, name)
        yield " ".join(path)
        if isinstance(cmd, click.Group):
            yield from command_paths(cmd, path)


def undocumented_commands(cli_text: str, paths: list[str]) -> list[str]:
    """Commands that appear neither in a heading nor in backticks as `klantreis PATH`."""
    places = _headings(cli_text) + _code_spans(cli_text)
    missing = []
    for path in paths:
        words = r"\s+".join(re.escape(w) for w in path.split())
        pattern = re.compile(rf"\bklantreis\s+{words}(?![\w-])")
        if not any(pattern.search(place) for place in places):
            missing.append(path)
    return missing


def test_every_cli_command_is_in_cli_md():
    paths = list(command_paths(cli))
    assert {"init", "templates", "journeys", "validate"} <= set(paths)
    missing = undocumented_commands(_read(DOCS / "cli.md"), paths)
    assert not missing, f"add a section for these commands to docs/cli.md: {missing}"


def test_the_cli_check_can_fail():
    text = "## `klantreis init`\n\nRun `klantreis ingest events FILE`.\n\nklantreis map\n"
    paths = ["init", "ingest", "ingest events", "ingest feedback", "map", "mapping"]
    # 'ingest' counts through 'klantreis ingest events'; 'map' only in plain text does not.
    assert undocumented_commands(text, paths) == ["ingest feedback", "map", "mapping"]
    assert undocumented_commands("`klantreis mapping`", ["map"]) == ["map"]


def test_command_paths_walk_subcommands():
    @click.group()
    def top() -> None: ...

    @top.group()
    def ingest() -> None: ...

    @ingest.command()
    def events() -> None: ...

    @top.command(hidden=True)
    def secret() -> None: ...

    assert list(command_paths(top)) == ["ingest", "ingest events"]


# -- (c) the journey format -------------------------------------------------------------------


def model_classes() -> list[type[BaseModel]]:
    out = []
    for name in journey_module.__all__:
        obj = getattr(journey_module, name)
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            out.append(obj)
    return out


def _sections(text: str) -> dict[str, str]:
    """Level-2 sections: heading -> body."""
    out: dict[str, str] = {}
    heading = ""
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            out[heading] = ""
        elif heading:
            out[heading] += line + "\n"
    return out


def undocumented_fields(format_text: str, classes: list[type[BaseModel]]) -> list[str]:
    """``Class.field`` for every field without a table row in the section of its class."""
    sections = _sections(format_text)
    missing = []
    for cls in classes:
        body = next((b for h, b in sections.items() if f"`{cls.__name__}`" in h), None)
        for field in cls.model_fields:
            if body is None or not re.search(rf"^\| `{re.escape(field)}` \|", body, re.M):
                missing.append(f"{cls.__name__}.{field}")
    return missing


def test_every_model_field_is_in_journey_format_md():
    classes = model_classes()
    names = {c.__name__ for c in classes}
    assert {"Journey", "Stage", "Touchpoint", "MatchRule", "Lanes", "Persona"} <= names
    missing = undocumented_fields(_read(DOCS / "journey-format.md"), classes)
    assert not missing, f"describe these fields in docs/journey-format.md: {missing}"


def test_the_field_check_can_fail():
    text = "## Lanes (`Lanes`)\n\n| `actions` | list |\n\n## Other\n\n| `timeline` | text |\n"
    missing = undocumented_fields(text, [journey_module.Lanes])
    assert "Lanes.actions" not in missing
    assert "Lanes.timeline" in missing  # documented, but in another section
    assert "Lanes.pain_points" in missing


def test_every_channel_and_validation_code_is_in_journey_format_md():
    text = _read(DOCS / "journey-format.md")
    spans = set(_code_spans(text))
    missing = [c for c in journey_module.CHANNELS if c not in spans]
    model_dir = ROOT / "src" / "klantreis" / "model"
    codes = set()
    for source in ("checks.py", "yamlio.py"):
        codes |= set(re.findall(r'code="([a-z_]+)"', _read(model_dir / source)))
    assert {"unknown_stage", "duplicate_id", "bad_regex", "yaml_syntax"} <= codes
    missing += sorted(c for c in codes if c not in spans)
    assert not missing, f"add these channels / problem codes to docs/journey-format.md: {missing}"


# -- (d) links --------------------------------------------------------------------------------


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*_]", lambda m: "_" if m.group(0) == "_" else "", heading.strip())
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in _headings(_read(path)):
        slug = github_anchor(heading)
        n = seen.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return out


def broken_links(path: Path) -> list[str]:
    text = re.sub(r"`[^`\n]*`", "", _without_fenced_code(_read(path)))
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target} (no heading #{anchor})")
    return broken


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_existing_files(path: Path):
    broken = broken_links(path)
    assert not broken, f"broken links in {path.relative_to(ROOT)}: {broken}"


def test_the_link_check_can_fail(tmp_path: Path):
    (tmp_path / "b.md").write_text("# Title\n\n## Match rules (`MatchRule`)\n")
    page = tmp_path / "a.md"
    page.write_text(
        "[ok](b.md) [ok](b.md#match-rules-matchrule) [web](https://example.org)\n"
        "[gone](c.md) [bad anchor](b.md#nope) `[in code](x.md)`\n"
        "```\n[in a block](y.md)\n```\n"
    )
    assert broken_links(page) == ["c.md (no such file)", "b.md#nope (no heading #nope)"]


def test_docs_pages_exist():
    for name in ("concepts", "journey-format", "glossary", "templates", "cli", "api"):
        assert (DOCS / f"{name}.md").is_file(), name
    adrs = sorted(p.name[:4] for p in (DOCS / "adr").glob("0*.md"))
    assert adrs[:4] == ["0001", "0002", "0003", "0004"]
