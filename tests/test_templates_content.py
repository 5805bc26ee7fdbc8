"""The content of the shipped templates: the stage models of the seeds, in English and Dutch.

``test_model.py`` checks that every template loads and round-trips; this file checks that each
template is the model it claims to be (stage ids and labels in the seed's order) and that the
English and Dutch files describe the same journey (same ids, same match rules).
"""

from __future__ import annotations

import fnmatch
import functools
import re

import pytest

from klantreis.model import Journey, MatchRule, list_templates
from klantreis.model import load_template as _load_template

# template -> [(stage id, English label, Dutch label)] in order.
STAGES: dict[str, list[tuple[str, str, str]]] = {
    "five-phases": [
        ("awareness", "Awareness", "Bewustwording"),
        ("consideration", "Consideration", "Overweging"),
        ("purchase", "Purchase", "Aankoop"),
        ("retention", "Retention", "Retentie"),
        ("loyalty", "Loyalty", "Loyaliteit"),
    ],
    "awareness-to-advocacy": [
        ("awareness", "Awareness", "Bewustwording"),
        ("consideration", "Consideration", "Overweging"),
        ("conversion", "Conversion", "Conversie"),
        ("retention", "Retention", "Retentie"),
        ("advocacy", "Advocacy", "Belangenbehartiging"),
    ],
    # Seed 003 names the last three stages in English in a Dutch text; the template keeps that.
    "acquisition": [
        ("awareness", "Awareness", "Bewustzijn"),
        ("acquisition", "Acquisition", "Acquisitie"),
        ("purchase", "Purchase", "Purchase"),
        ("retention", "Retention", "Retention"),
        ("advocacy", "Advocacy", "Advocacy"),
    ],
    "see-think-do-care": [
        ("see", "See", "Zien"),
        ("think", "Think", "Denken"),
        ("do", "Do", "Doen"),
        ("care", "Care", "Zorgen"),
    ],
    "b2b": [
        ("problem-recognition", "Problem recognition", "Probleemherkenning"),
        ("research", "Solution exploration", "Oriëntatie"),
        ("requirements", "Requirements", "Eisen en wensen"),
        ("supplier-selection", "Supplier selection and purchase", "Leverancierskeuze en aankoop"),
        ("onboarding", "Onboarding", "Onboarding"),
        ("adoption", "Usage and adoption", "Gebruik en adoptie"),
        ("support", "Support", "Ondersteuning"),
        ("renewal", "Renewal and expansion", "Verlenging en uitbreiding"),
        ("advocacy", "Advocacy", "Ambassadeurschap"),
    ],
    # Seed 001: Stap 1-3, Service vooraf, Stap 4 Service, Aankoop, Gebruik, Stap 5, Service.
    "podiatrist": [
        ("awareness", "Awareness", "Bewustwording"),
        ("consideration", "Consideration", "Overweging"),
        ("action", "Action", "Actie"),
        ("service-before", "Service beforehand", "Service vooraf"),
        ("service", "Service", "Service"),
        ("purchase", "Purchase", "Aankoop"),
        ("use", "Use", "Gebruik"),
        ("loyalty", "Loyalty", "Loyaliteit"),
        ("service-again", "Service again", "Service opnieuw"),
    ],
}


@functools.cache
def load_template(name: str, lang: str = "en") -> Journey:
    """Each template is loaded once per test run; the tests only read it."""
    return _load_template(name, lang)


NAMES = sorted(STAGES)
PAIRS = [(name, lang) for name in NAMES for lang in ("en", "nl")]


def _ids(pair: tuple[str, str]) -> str:
    return f"{pair[0]}.{pair[1]}"


def test_every_shipped_template_is_described_here_in_both_languages():
    shipped = sorted((t.name, t.lang) for t in list_templates())
    assert shipped == sorted(PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_stage_ids_and_labels_in_the_seed_order(pair):
    name, lang = pair
    j = load_template(name, lang)
    assert j.id == name
    assert j.lang == lang
    assert j.stage_model == name
    got = [(s.id, s.name.en, s.name.nl) for s in j.stages_in_order()]
    assert got == STAGES[name]
    # The file lists the stages in their order, so the map reads like the file.
    assert [s.id for s in j.stages] == [s.id for s in j.stages_in_order()]


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_every_stage_is_filled_in(pair):
    j = load_template(*pair)
    for s in j.stages:
        assert s.goal, s.id
        assert s.content, s.id
        lanes = s.lanes
        for lane in ("actions", "motivations", "questions", "pain_points", "emotions"):
            assert getattr(lanes, lane), f"{s.id}: empty lane {lane}"
        assert lanes.opportunities, s.id
        assert lanes.timeline, s.id
        assert 2 <= len(j.touchpoints_in(s.id)) <= 4, s.id


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_every_touchpoint_is_filled_in(pair):
    j = load_template(*pair)
    assert j.personas and all(p.attributes and p.goals for p in j.personas)
    for t in j.touchpoints:
        assert t.owner, t.id
        assert t.moment in {"before", "during", "after"}, t.id
        assert t.emotion is not None and -2 <= t.emotion <= 2, t.id
        assert t.match, t.id
    assert len(j.touchpoints_in_order()) == len(j.touchpoints)
    # The touchpoints are listed stage by stage, in stage order.
    assert [t.id for t in j.touchpoints] == [t.id for t in j.touchpoints_in_order()]


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_match_rules_use_every_kind_of_condition(pair):
    rules = [r for t in load_template(*pair).touchpoints for r in t.match]
    kinds = {r.event_pattern()[0] for r in rules if r.event_pattern()}
    assert kinds == {"exact", "glob", "regex"}
    assert any(r.channel for r in rules)
    assert any(r.properties for r in rules)


def _event_names(rule: MatchRule, names: list[str]) -> set[str]:
    pattern = rule.event_pattern()
    assert pattern is not None
    kind, text = pattern
    if kind == "exact":
        return {n for n in names if n == text}
    if kind == "glob":
        return {n for n in names if fnmatch.fnmatchcase(n, text)}
    return {n for n in names if re.fullmatch(text, n)}


def _covers(earlier: MatchRule, later: MatchRule) -> bool:
    """Every event ``later`` matches by exact name is matched by ``earlier`` too."""
    if later.event is None or not _event_names(earlier, [later.event]):
        return False
    if earlier.channels() and not (
        later.channels() and set(later.channels()) <= set(earlier.channels())
    ):
        return False
    for key, allowed in (earlier.properties or {}).items():
        wanted = (later.properties or {}).get(key)
        if wanted is None:
            return False
        allowed_set = set(allowed) if isinstance(allowed, list) else {allowed}
        wanted_set = set(wanted) if isinstance(wanted, list) else {wanted}
        if not wanted_set <= allowed_set:
            return False
    return True


@pytest.mark.parametrize("pair", PAIRS, ids=_ids)
def test_no_rule_is_shadowed_by_an_earlier_touchpoint(pair):
    # The first matching touchpoint in file order wins: a rule that an earlier touchpoint's
    # rule always catches first would never link an event.
    j = load_template(*pair)
    for i, later in enumerate(j.touchpoints):
        for earlier in j.touchpoints[:i]:
            for rule in later.match:
                for first in earlier.match:
                    assert not _covers(first, rule), f"{later.id} is shadowed by {earlier.id}"


def test_the_shadow_check_can_fail():
    broad = MatchRule(event_glob="review_*")
    assert _covers(broad, MatchRule(event="review_written", channel="review_site"))
    assert not _covers(MatchRule(event="call", channel="phone"), MatchRule(event="call"))
    narrow = MatchRule(event="page_view", properties={"page_type": "product"})
    assert not _covers(narrow, MatchRule(event="page_view", properties={"page_type": "blog"}))


def _structure(j: Journey) -> dict[str, object]:
    return {
        "id": j.id,
        "kind": j.kind,
        "stage_model": j.stage_model,
        "stages": [(s.id, s.order, s.phase, s.name.en, s.name.nl) for s in j.stages],
        "personas": [(p.id, p.attributes) for p in j.personas],
        "segments": [(s.id, s.attributes) for s in j.segments],
        "touchpoints": [
            (t.id, t.stage, t.channel, t.online, t.branded, t.moment, t.emotion, t.conversion)
            for t in j.touchpoints
        ],
        "match": [[r.model_dump() for r in t.match] for t in j.touchpoints],
    }


@pytest.mark.parametrize("name", NAMES)
def test_english_and_dutch_versions_describe_the_same_journey(name):
    en, nl = load_template(name, "en"), load_template(name, "nl")
    assert _structure(en) == _structure(nl)
    # ... in their own language.
    assert en.name != nl.name and en.description != nl.description
    for s_en, s_nl in zip(en.stages, nl.stages, strict=True):
        assert s_en.goal != s_nl.goal, s_en.id
        assert s_en.lanes.pain_points != s_nl.lanes.pain_points, s_en.id
    translated = [a.name != b.name for a, b in zip(en.touchpoints, nl.touchpoints, strict=True)]
    assert sum(translated) >= 0.8 * len(translated)


def test_five_phases_is_a_webshop_with_an_order_as_conversion():
    # the first order and repeat orders are both purchases (loyalty counts them per customer)
    for lang in ("en", "nl"):
        j = load_template("five-phases", lang)
        assert [t.id for t in j.conversion_touchpoints()] == [
            "order-confirmation",
            "repeat-purchase",
        ]
        assert j.touchpoint("checkout").match[0].event_regex == "checkout_(start|payment)"
    assert load_template("five-phases", "nl").touchpoint("cart").name == "Winkelmandje"


def test_b2b_has_the_buyer_journey_before_the_customer_journey():
    for lang in ("en", "nl"):
        j = load_template("b2b", lang)
        assert j.kind == "full"
        phases = [s.phase for s in j.stages_in_order()]
        assert phases == ["buyer"] * 4 + ["customer"] * 5
        assert [p.attributes["role"] for p in j.personas] == [
            "decision_maker",
            "user",
            "influencer",
        ]
        owners = {t.owner for t in j.touchpoints}
        assert {"Sales", "Marketing", "Customer success", "Finance", "Support"} <= owners
        assert [t.id for t in j.conversion_touchpoints()] == ["contract-signed", "contract-renewed"]
        # The contract is signed in the last buyer stage: there the customer journey begins.
        assert j.touchpoint("contract-signed").stage == "supplier-selection"


def test_podiatrist_has_two_actions_and_is_mostly_offline():
    for lang in ("en", "nl"):
        j = load_template("podiatrist", lang)
        conversions = [(t.id, t.stage) for t in j.conversion_touchpoints()]
        assert conversions == [("appointment-booked", "action"), ("insoles-bought", "purchase")]
        offline = [t for t in j.touchpoints if not t.is_online]
        assert len(offline) > len(j.touchpoints) / 2
        assert j.touchpoint("gym-card").channel == "print"
        assert j.touchpoint("mother-in-law").channel == "word_of_mouth"
        assert j.touchpoint("mother-in-law").branded is False
        assert j.touchpoint("magazine").stage == "loyalty"
        assert j.touchpoint("check-up").stage == "service-again"
    nl = load_template("podiatrist", "nl")
    assert nl.touchpoint("insoles-bought").name == "Steunzolen gekocht"
    assert "zorgverzekering" in nl.stage("service-before").goal + " ".join(
        nl.stage("service-before").lanes.questions
    )


def test_see_think_do_care_is_online():
    j = load_template("see-think-do-care", "en")
    online = [t for t in j.touchpoints if t.is_online]
    assert len(online) >= len(j.touchpoints) - 1  # delivery is the one offline moment
    assert [t.id for t in j.conversion_touchpoints()] == ["first-order"]


def test_awareness_to_advocacy_moments_follow_the_purchase():
    j = load_template("awareness-to-advocacy", "en")
    moment_of = {s.id: {t.moment for t in j.touchpoints_in(s.id)} for s in j.stages}
    assert moment_of == {
        "awareness": {"before"},
        "consideration": {"before"},
        "conversion": {"during"},
        "retention": {"after"},
        "advocacy": {"after"},
    }
