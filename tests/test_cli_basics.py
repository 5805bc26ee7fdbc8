from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from klantreis import __version__
from klantreis.cli import cli


def run(*args: str, cwd: Path | None = None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(cli, list(args), catch_exceptions=False)
    import os

    old = os.getcwd()
    os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_version_and_help():
    assert run("--version").output.strip() == f"klantreis, version {__version__}"
    out = run("--help").output
    for command in ("init", "templates", "validate", "journeys"):
        assert command in out


def test_python_dash_m_works():
    done = subprocess.run(
        [sys.executable, "-m", "klantreis", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert __version__ in done.stdout


def test_init_then_journeys_as_json(tmp_path: Path):
    r = run("init", str(tmp_path / "ws"), "--template", "five-phases")
    assert r.exit_code == 0, r.output
    assert "journey five-phases" in r.output
    r = run("--workspace", str(tmp_path / "ws"), "journeys", "--format", "json")
    rows = json.loads(r.output)
    assert rows == [
        {
            "journey": "five-phases",
            "name": "Webshop customer journey (five phases)",
            "kind": "full",
            "lang": "en",
            "stages": 5,
            "touchpoints": 12,
            "personas": 2,
        }
    ]


def test_templates_csv_has_header_and_rows():
    r = run("templates", "--format", "csv", "--lang", "en")
    lines = r.output.strip().splitlines()
    assert lines[0] == "template,lang,title,stages,touchpoints,description"
    assert any(line.startswith("five-phases,en,") for line in lines[1:])


def test_validate_reports_problems_and_exits_1(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: X\nstages:\n  - id: a\n    name: {en: A, nl: A}\n    order: 2\n")
    r = run("validate", str(bad), "--format", "json")
    assert r.exit_code == 1
    problems = json.loads(r.output)
    assert problems[0]["code"] == "stage_order"
    assert problems[0]["line"] == 6
    assert problems[0]["file"] == str(bad)


def test_data_error_exits_1_usage_error_exits_2(tmp_path: Path):
    r = run("--workspace", str(tmp_path / "missing"), "journeys")
    assert r.exit_code == 1
    assert r.output.startswith("Error: ")
    assert "Traceback" not in r.output
    r = run("journeys", "--format", "xml")
    assert r.exit_code == 2


def test_every_command_module_is_listed_and_loads():
    import importlib

    import click

    from klantreis.cli import COMMANDS

    registered: set[str] = set()
    for module in {m for modules in COMMANDS.values() for m in modules}:
        group = click.Group()
        importlib.import_module(module).register(group)
        registered |= set(group.commands)
    assert registered == set(COMMANDS)
    for name in COMMANDS:
        assert cli.get_command(None, name).name == name  # type: ignore[arg-type]


def _imported_by(argv: list[str], modules: str) -> subprocess.CompletedProcess[str]:
    """``klantreis ARGV`` in a new process; its output ends with the list of the modules that
    match the expression ``modules`` (over ``m``) and were imported."""
    code = (
        "import sys; from klantreis.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"print([m for m in sorted(sys.modules) if {modules}])"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_version_does_not_import_the_engine():
    done = _imported_by(["--version"], "m in ('pandas', 'ibis', 'duckdb')")
    assert done.stdout.strip().endswith("[]"), done.stdout + done.stderr


def test_help_lists_the_commands_as_click_would_without_importing_them():
    import inspect

    import click

    from klantreis.cli import COMMANDS, SUMMARIES, _load

    done = _imported_by(["--help"], "m.startswith('klantreis.cli.') or m == 'pandas'")
    assert done.stdout.strip().endswith("[]"), done.stdout + done.stderr
    assert "survey-link  Print a signed survey link" in done.stdout

    assert set(SUMMARIES) == set(COMMANDS)
    for name in COMMANDS:  # each summary is the first paragraph of the command's own help
        own = inspect.cleandoc(_load(name).help or "").split("\n\n")[0].replace("\n", " ")
        assert SUMMARIES[name] == own, name
    real = click.Group(commands=[_load(name) for name in COMMANDS])
    with click.Context(cli) as ctx:
        want, got = click.HelpFormatter(), click.HelpFormatter()
        real.format_commands(ctx, want)
        cli.format_commands(ctx, got)
    assert got.getvalue() == want.getvalue()


def test_table_cells_read_as_a_person_reads_them():
    from klantreis.cli.output import _cell

    assert _cell(50_660.0, "median_seconds_to_convert") == "14.1 h"
    assert _cell(90.0, "median_seconds") == "1.5 min"
    assert _cell(12.0, "median_seconds") == "12 s"
    assert _cell(0.683, "conversion_from_previous") == "68.3%"
    assert _cell(2732, "customers") == "2,732"
    assert _cell(True, "small_n") == "yes"
    assert _cell(["a", "b"], "path") == "a → b"
    assert _cell(None, "value") == ""
    assert _cell(float("nan"), "value") == ""
