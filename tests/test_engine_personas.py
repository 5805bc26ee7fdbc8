"""Personas: clusters recover planted behaviour; declared personas without data are named."""

from __future__ import annotations

import klantreis
from klantreis import testing as kt
from klantreis.model import Persona
from klantreis.simulator import PersonaBehaviour


def test_two_obvious_groups_by_hand() -> None:
    journey = kt.journey(
        ["look", "buy"],
        {"v": ("look", "view"), "m": ("look", "mail", "email"), "p": ("buy", "pay")},
        conversion=["p"],
    )
    rows = []
    for i in range(6):  # web buyers
        rows += [(f"w{i}", "2024-01-01T10:00:00", "view"), (f"w{i}", "2024-01-01T10:05:00", "pay")]
    for i in range(4):  # e-mail readers who never buy
        rows += [(f"e{i}", "2024-01-01T10:00:00", "mail"), (f"e{i}", "2024-01-03T10:00:00", "mail")]
    src = kt.source(events=kt.events(rows), journey=journey)
    r = klantreis.analyze(src, "personas", k=2)
    kt.assert_rows(
        r, [{"cluster": 1, "customers": 6, "share": 0.6}, {"cluster": 2, "customers": 4}]
    )
    assert "100% reach buy (all: 60%)" in r.frame["description"][0]
    assert r.meta["k"] == 2 and r.meta["criterion"] == "fixed k"


def test_clusters_match_planted_personas_and_empty_persona_is_named() -> None:
    journey = klantreis.load_template("five-phases", "en")
    a, b = journey.personas[0].id, journey.personas[1].id
    behaviour = {
        a: PersonaBehaviour(weight=1, online=0.95, spend=0.4, drop_off=1.5, speed=0.5),
        b: PersonaBehaviour(weight=1, online=0.05, spend=3.0, drop_off=0.4, speed=2.0),
    }
    sim = klantreis.simulate_frames(journey, customers=1500, seed=2, personas=behaviour)
    ghost = Persona.model_validate({"id": "ghost", "name": "Ghost", "attributes": {"segment": "x"}})
    declared = journey.model_copy(update={"personas": [*journey.personas, ghost]})
    src = kt.source(
        events=sim.events, responses=sim.responses, customers=sim.customers, journey=declared
    )
    r = klantreis.analyze(src, "personas", max_k=4)
    assert r.meta["k"] == 2  # the silhouette picks the planted number of groups
    table = r.tables["declared"].set_index("persona")
    assert table.loc[a, "main_cluster"] != table.loc[b, "main_cluster"]
    assert table.loc[a, "main_cluster_share"] > 0.6 and table.loc[b, "main_cluster_share"] > 0.6
    assert bool(table.loc["ghost", "no_data"]) and table.loc["ghost", "customers"] == 0
    assert table.loc[a, "coverage_share"] + table.loc[b, "coverage_share"] == 1.0
    assert set(r.frame["closest_persona"]) == {a, b}
