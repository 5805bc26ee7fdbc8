"""PNG, PDF and PPTX through one headless Chromium for the whole module; the CLI commands."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

import klantreis
from klantreis.cli import cli
from klantreis.model import list_templates, load_template
from klantreis.render import Browser, render_map, render_report
from klantreis.render.raster import chromium_path
from test_render_map import MEASURED, big_journey

pytestmark = pytest.mark.skipif(
    not Path("/usr/bin/chromium").is_file(), reason="Debian chromium not installed"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def _not_blank(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 20, "the image is (nearly) one colour"


def test_every_template_png_and_pdf(browser: Browser) -> None:
    for t in list_templates():
        j = load_template(t.name, t.lang)
        png = render_map(j, fmt="png", browser=browser, scale=1)
        assert isinstance(png, bytes)
        width, height = _png_size(png)
        svg = render_map(j, fmt="svg")
        assert isinstance(svg, str)
        svg_w = int(float(svg.split('width="')[1].split('"')[0]))
        assert width == svg_w, t.name
        assert height > 600
        _not_blank(png)
        pdf = render_map(j, fmt="pdf", browser=browser, lang="nl")
        assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
        assert (
            pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") + pdf.count(b"/Type/Page") >= 1
        )


def test_big_journey_png_is_large_and_not_blank(browser: Browser, tmp_path: Path) -> None:
    png = render_map(big_journey(), fmt="png", browser=browser, scale=1)
    assert isinstance(png, bytes)
    width, height = _png_size(png)
    assert width > 2000 and height > 1000
    _not_blank(png)


def test_reports_in_every_format(browser: Browser, tmp_path: Path) -> None:
    j = load_template("five-phases", "nl")
    html = render_report(j, fmt="html")
    assert isinstance(html, str)
    assert "Hypothese: geen gemeten data" in html and "Verantwoording" in html
    measured = render_report(load_template("five-phases", "en"), fmt="html", measured=MEASURED)
    assert isinstance(measured, str)
    assert (
        "Scores with 95% intervals" in measured and "Hypothesis: no measured data" not in measured
    )
    pdf = render_report(j, fmt="pdf", browser=browser)
    assert isinstance(pdf, bytes) and pdf.startswith(b"%PDF-")
    pptx = render_report(j, fmt="pptx", browser=browser, measured=MEASURED)
    assert isinstance(pptx, bytes)
    from pptx import Presentation

    prs = Presentation(io.BytesIO(pptx))
    shapes = [s for slide in prs.slides for s in slide.shapes]
    assert any(s.shape_type == 13 for s in shapes), "the map is a picture"  # PICTURE
    texts = " ".join(s.text_frame.text for s in shapes if s.has_text_frame)
    assert "Kerncijfers" in texts


def test_cli_map_and_report(tmp_path: Path, browser: Browser) -> None:
    ws = klantreis.init(tmp_path / "ws", template="five-phases")
    runner = CliRunner()
    measured = tmp_path / "measured.json"
    measured.write_text(json.dumps(MEASURED), encoding="utf-8")
    out = tmp_path / "map.svg"
    result = runner.invoke(
        cli,
        ["-w", str(ws.root), "map", "-o", str(out), "--lang", "nl", "--measured", str(measured)],
    )
    assert result.exit_code == 0, result.output
    assert "Bereik 1.234 klanten" in out.read_text(encoding="utf-8")
    yaml_path = ws.journey_path("five-phases")
    out_html = tmp_path / "report.html"
    result = runner.invoke(cli, ["report", str(yaml_path), "-o", str(out_html)])
    assert result.exit_code == 0, result.output
    assert "Hypothesis: no measured data" in out_html.read_text(encoding="utf-8")
    result = runner.invoke(cli, ["-w", str(ws.root), "map", "-o", str(tmp_path / "map.docx")])
    assert result.exit_code == 2 and "suffix" in result.output
    result = runner.invoke(cli, ["-w", str(ws.root), "map", "nope", "-o", str(tmp_path / "m.svg")])
    assert result.exit_code == 1 and "No journey 'nope'" in result.output


def test_missing_chromium_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLANTREIS_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(klantreis.KlantreisError, match=r"setup-system\.sh"):
        chromium_path()
