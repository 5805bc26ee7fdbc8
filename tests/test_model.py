from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import klantreis
from klantreis import JourneyValidationError, Touchpoint
from klantreis.model import dump_journey, list_templates, load_journey, parse_journey

TEMPLATES = list_templates()

MINIMAL = """\
id: shop
name: Shop
stages:
  - id: see
    name: {en: See, nl: Zien}
    order: 1
  - id: buy
    name: {en: Buy, nl: Kopen}
    order: 2
touchpoints:
  - id: ad
    name: Ad
    stage: see
    channel: ads
    match:
      - event: ad_click
"""


@pytest.mark.parametrize("tpl", TEMPLATES, ids=lambda t: f"{t.name}.{t.lang}")
def test_template_round_trips_byte_for_byte(tpl):
    original = tpl.path.read_text(encoding="utf-8")
    journey = load_journey(tpl.path)
    assert dump_journey(journey) == original


@pytest.mark.parametrize("tpl", TEMPLATES, ids=lambda t: f"{t.name}.{t.lang}")
def test_template_is_a_complete_example(tpl):
    j = load_journey(tpl.path)
    assert len(j.stages) >= 3
    assert j.lang == tpl.lang
    for stage in j.stages:
        assert stage.name.en and stage.name.nl
        assert j.touchpoints_in(stage.id), f"stage {stage.id} has no touchpoints"
    lanes = [s.lanes for s in j.stages]
    assert any(lane.actions for lane in lanes)
    assert any(lane.pain_points for lane in lanes)
    assert all(t.match for t in j.touchpoints), "every template touchpoint has a match rule"
    assert j.conversion_touchpoints(), "a template marks at least one conversion"


def test_minimal_journey_loads_and_navigates():
    j = parse_journey(MINIMAL)
    assert [s.id for s in j.stages_in_order()] == ["see", "buy"]
    assert j.stage_label("buy", "nl") == "Kopen"
    assert j.touchpoint("ad").is_online is True
    assert j.touchpoint("ad").match[0].event_pattern() == ("exact", "ad_click")
    with pytest.raises(KeyError, match="Known stages: see, buy"):
        j.stage("nope")


def test_edits_keep_comments_order_and_add_new_fields(tmp_path: Path):
    text = "# my shop\n" + MINIMAL.replace("name: Ad\n", "name: Ad  # the banner\n")
    p = tmp_path / "shop.yaml"
    p.write_text(text)
    j = load_journey(p)
    j.touchpoint("ad").emotion = -1
    j.stages[1].lanes.pain_points.append("Slow checkout")
    j.touchpoints.append(Touchpoint(id="pay", name="Pay", stage="buy", channel="website"))
    klantreis.save_journey(j, p)
    out = p.read_text()
    assert out.startswith("# my shop\n")
    assert "name: Ad  # the banner" in out
    assert "emotion: -1" in out
    assert "pain_points:\n        - Slow checkout" in out
    again = load_journey(p)
    assert [t.id for t in again.touchpoints] == ["ad", "pay"]
    assert again.stage("buy").lanes.pain_points == ["Slow checkout"]


def test_offline_channel_defaults_to_offline():
    j = parse_journey(MINIMAL.replace("channel: ads", "channel: call_centre"))
    assert j.touchpoint("ad").is_online is False


def _problems(text: str) -> list:
    with pytest.raises(JourneyValidationError) as info:
        parse_journey(textwrap.dedent(text), file="maps/shop.yaml")
    return info.value.problems


# Each case: a broken file, and (code, line, path, words in the message or hint).
BROKEN = {
    "unknown stage": (
        MINIMAL.replace("stage: see", "stage: sea"),
        [("unknown_stage", 13, "touchpoints[0].stage", "did you mean 'see'")],
    ),
    "duplicate stage id": (
        MINIMAL.replace("id: buy", "id: see"),
        [("duplicate_id", 7, "stages[1].id", "Duplicate stage id 'see'")],
    ),
    "bad regex": (
        MINIMAL.replace("event: ad_click", "event_regex: 'ad_(click'"),
        [("bad_regex", 16, "touchpoints[0].match[0].event_regex", "missing )")],
    ),
    "emotion out of range": (
        MINIMAL.replace("channel: ads", "channel: ads\n    emotion: 5"),
        [("field_less_than_equal", 15, "touchpoints[0].emotion", "-2 (very negative) .. +2")],
    ),
    "missing stage name": (
        MINIMAL.replace("    name: {en: Buy, nl: Kopen}\n", ""),
        [("field_missing", 7, "stages[1].name", "both languages")],
    ),
    "missing dutch name": (
        MINIMAL.replace("{en: Buy, nl: Kopen}", "{en: Buy}"),
        [("field_missing", 8, "stages[1].name.nl", "Missing required field 'nl'")],
    ),
    "order with a gap": (
        MINIMAL.replace("order: 2", "order: 3"),
        [("stage_order", 9, "stages[1].order", "not 1..2 without gaps")],
    ),
    "unknown field": (
        MINIMAL.replace("    channel: ads\n", "    channel: ads\n    chanel: web\n"),
        [("field_extra_forbidden", 15, "touchpoints[0].chanel", "did you mean 'channel'")],
    ),
    "unknown channel": (
        MINIMAL.replace("channel: ads", "channel: webshopp"),
        [("unknown_channel", 14, "touchpoints[0].channel", "did you mean 'webshop'")],
    ),
    "bad id": (
        MINIMAL.replace("id: ad\n", "id: Ad Banner\n"),
        [("field_string_pattern_mismatch", 11, "touchpoints[0].id", "Invalid id 'Ad Banner'")],
    ),
    "bad kind": (
        MINIMAL.replace("name: Shop\n", "name: Shop\nkind: byer\n"),
        [("field_literal_error", 3, "kind", "did you mean 'buyer'")],
    ),
    "two event names in a rule": (
        MINIMAL.replace("- event: ad_click", "- event: ad_click\n        event_glob: 'ad_*'"),
        [("match_event", 16, "touchpoints[0].match[0]", "it has event, event_glob")],
    ),
    "yaml syntax": (
        MINIMAL.replace("  - id: buy", " - id: buy"),
        [("yaml_syntax", None, "", "Not valid YAML")],
    ),
    "no stages": (
        "id: shop\nname: Shop\nstages: []\n",
        [("field_too_short", 3, "stages", "at least one stage")],
    ),
}


@pytest.mark.parametrize("case", BROKEN, ids=list(BROKEN))
def test_broken_file_gives_precise_error(case):
    text, expected = BROKEN[case]
    problems = _problems(text)
    assert len(problems) == len(expected), [str(p) for p in problems]
    for p, (code, line, path, words) in zip(problems, expected, strict=True):
        assert p.code == code
        assert p.file == "maps/shop.yaml"
        if line is not None:
            assert p.line == line, str(p)
        assert p.path == path
        assert words in str(p)


def test_all_problems_in_a_file_reported_at_once():
    text = MINIMAL.replace("stage: see", "stage: sea").replace("id: buy", "id: see")
    text = text.replace("channel: ads", "channel: ads\n    emotion: 3")
    problems = _problems(text)
    # emotion is a field error: field errors are reported first, together, before the
    # cross-field checks run on a valid shape.
    assert [p.code for p in problems] == ["field_less_than_equal"]
    fixed = text.replace("emotion: 3", "emotion: 2")
    codes = sorted(p.code for p in _problems(fixed))
    assert codes == ["duplicate_id", "unknown_stage"]


def test_error_message_names_file_line_value_and_allowed():
    problems = _problems(MINIMAL.replace("stage: see", "stage: sea"))
    msg = str(problems[0])
    assert msg.startswith("maps/shop.yaml, line 13: touchpoints[0].stage: Unknown stage 'sea'")
    assert "Allowed: known stages: see, buy." in msg
    assert problems[0].value == "sea"


def test_unknown_stage_hint_knows_dutch_stage_names():
    j_text = MINIMAL.replace("stage: see", "stage: kopen")
    problems = _problems(j_text)
    assert problems[0].hint == "did you mean 'buy' (Buy / Kopen)?"
