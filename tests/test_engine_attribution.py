"""Attribution: hand-computed heuristics, Markov removal effects (Anderl et al. 2016) and Shapley."""

from __future__ import annotations

import numpy as np
import pytest

import klantreis
from klantreis import testing as kt
from klantreis.engine.markov import chain_from_transitions
from klantreis.engine.shapley import shapley_values, subset_sums
from klantreis.errors import UsageError


@pytest.fixture(params=kt.engine_params())
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# The classic three-channel example: a converts after C1 → C2 → C3 (value 100), b only saw C1,
# c saw C2 → C3 and did not convert. Touches one day apart; a buys at the moment of C3.
CLASSIC = kt.events(
    [
        ("a", "2024-01-01T00:00:00", "touch", {"channel": "C1"}),
        ("a", "2024-01-02T00:00:00", "touch", {"channel": "C2"}),
        ("a", "2024-01-03T00:00:00", "touch", {"channel": "C3"}),
        ("a", "2024-01-03T00:00:00", "buy", {"channel": "website", "value": 100.0}),
        ("b", "2024-01-01T00:00:00", "touch", {"channel": "C1"}),
        ("c", "2024-01-01T00:00:00", "touch", {"channel": "C2"}),
        ("c", "2024-01-02T00:00:00", "touch", {"channel": "C3"}),
    ]
)


def _rows(result: klantreis.Result, model: str) -> dict[str, dict[str, float]]:
    f = result.frame[result.frame["model"] == model]
    return {r["channel"]: r for r in f.to_dict(orient="records")}


def test_markov_removal_effects_classic_example(engine: str) -> None:
    # start→C1 2, start→C2 1, C1→C2 1, C1→null 1, C2→C3 2, C3→conv 1, C3→null 1.
    # P(conv) = 2/3·1/2·1·1/2 + 1/3·1·1/2 = 1/3; without C1: 1/6 (RE 0.5); without C2 or C3: 0.
    src = kt.source(events=CLASSIC, engine=engine)
    r = klantreis.analyze(src, "attribution", conversion="buy", level="channel")
    m = _rows(r, "markov")
    assert m["C1"]["removal_effect"] == pytest.approx(0.5)
    assert m["C2"]["removal_effect"] == pytest.approx(1.0)
    assert m["C3"]["removal_effect"] == pytest.approx(1.0)
    assert m["C1"]["conversions"] == pytest.approx(0.2)
    assert m["C2"]["conversions"] == pytest.approx(0.4)
    assert m["C3"]["conversions"] == pytest.approx(0.4)
    assert m["C3"]["value"] == pytest.approx(40.0)
    assert r.meta["markov_conversion_probability"] == pytest.approx(1 / 3)
    assert r.meta["conversions"] == 1
    assert r.meta["paths"] == 3


def test_heuristic_models_classic_example(engine: str) -> None:
    src = kt.source(events=CLASSIC, engine=engine)
    r = klantreis.analyze(src, "attribution", conversion="buy", level="channel", half_life_days=1.0)
    expect = {
        "first_touch": (1, 0, 0),
        "last_touch": (0, 0, 1),
        "linear": (1 / 3, 1 / 3, 1 / 3),
        "time_decay": (1 / 7, 2 / 7, 4 / 7),  # ages 2, 1, 0 days → 1/4, 1/2, 1
        "position_based": (0.4, 0.2, 0.4),
    }
    for model, (c1, c2, c3) in expect.items():
        rows = _rows(r, model)
        got = [rows.get(ch, {"conversions": 0.0})["conversions"] for ch in ("C1", "C2", "C3")]
        assert got == pytest.approx([c1, c2, c3]), model
        assert sum(float(v["value"]) for v in rows.values()) == pytest.approx(100.0)
    # Shapley: only the full coalition {C1, C2, C3} has worth (1/3): a third each
    s = _rows(r, "shapley")
    assert [s[c]["conversions"] for c in ("C1", "C2", "C3")] == pytest.approx([1 / 3] * 3)


# Two channels: A converts, A does not, B does not, A → B converts.
TWO = kt.events(
    [
        ("p", "2024-01-01T00:00:00", "touch", {"channel": "A"}),
        ("p", "2024-01-01T01:00:00", "buy", {"value": 10.0}),
        ("q", "2024-01-01T00:00:00", "touch", {"channel": "A"}),
        ("r", "2024-01-01T00:00:00", "touch", {"channel": "B"}),
        ("s", "2024-01-01T00:00:00", "touch", {"channel": "A"}),
        ("s", "2024-01-01T02:00:00", "touch", {"channel": "B"}),
        ("s", "2024-01-01T03:00:00", "buy", {"value": 30.0}),
    ]
)


def test_markov_and_shapley_two_channels() -> None:
    src = kt.source(events=TWO)
    r = klantreis.analyze(src, "attribution", conversion="buy", level="channel")
    # Markov order 1: x_B = 1/2, x_A = 1/3 + 1/3·x_B = 1/2, P = 3/4·1/2 + 1/4·1/2 = 1/2.
    # Without A: 1/4·1/2 = 1/8 → RE 0.75; without B: 3/4·1/3 = 1/4 → RE 0.5. Shares 0.6 / 0.4.
    m = _rows(r, "markov")
    assert m["A"]["removal_effect"] == pytest.approx(0.75)
    assert m["B"]["removal_effect"] == pytest.approx(0.5)
    assert m["A"]["conversions"] == pytest.approx(1.2)
    assert m["B"]["conversions"] == pytest.approx(0.8)
    # Shapley (rate game): v(A) = 1/2, v(B) = 0, v(AB) = 2/4 → φ_A = 1/2, φ_B = 0.
    s = _rows(r, "shapley")
    assert s["A"]["conversions"] == pytest.approx(2.0)
    assert s["B"]["conversions"] == pytest.approx(0.0)
    # value game: v(A) = 10/2, v(B) = 0, v(AB) = 40/4 → φ_A = 7.5, φ_B = 2.5 (of 10 → of 40)
    assert s["A"]["value"] == pytest.approx(30.0)
    assert s["B"]["value"] == pytest.approx(10.0)
    comparison = r.tables["comparison"].set_index("channel")
    assert comparison.loc["A", "markov"] == pytest.approx(1.2)


def test_markov_order_two() -> None:
    # States A, B, "A > B": start→A 3, start→B 1, A→conv 1, A→null 1, A→"A > B" 1,
    # "A > B"→conv 1, B→null 1. P = 3/4·(1/3 + 1/3) = 1/2; without A: 0 (RE 1);
    # without B ("B" and "A > B" gone): 3/4·1/3 = 1/4 (RE 1/2). Shares 2/3, 1/3 of 2.
    src = kt.source(events=TWO)
    r = klantreis.analyze(
        src, "attribution", conversion="buy", level="channel", models=["markov"], markov_order=2
    )
    m = _rows(r, "markov")
    assert m["A"]["removal_effect"] == pytest.approx(1.0)
    assert m["B"]["removal_effect"] == pytest.approx(0.5)
    assert m["A"]["conversions"] == pytest.approx(4 / 3)


def test_paths_end_at_each_conversion_and_untouched_conversions_are_counted() -> None:
    ev = kt.events(
        [
            ("x", "2024-01-01T00:00:00", "buy", {"value": 5.0}),  # no touch before it
            ("x", "2024-01-02T00:00:00", "touch", {"channel": "A"}),
            ("x", "2024-01-03T00:00:00", "buy", {"value": 7.0}),
            ("x", "2024-01-04T00:00:00", "touch", {"channel": "B"}),
            ("x", "2024-01-05T00:00:00", "buy", {"value": 11.0}),
            ("x", "2024-01-06T00:00:00", "touch", {"channel": "C"}),  # no conversion after
        ]
    )
    r = klantreis.analyze(
        kt.source(events=ev), "attribution", conversion="buy", level="channel", models=["linear"]
    )
    rows = _rows(r, "linear")
    assert rows["A"]["conversions"] == 1.0 and rows["A"]["value"] == 7.0
    assert rows["B"]["conversions"] == 1.0 and rows["B"]["value"] == 11.0
    assert "C" not in rows
    assert r.meta["conversions_without_touch"] == 1
    assert r.meta["conversions"] == 2
    assert r.meta["paths"] == 3


def test_lookback_drops_old_touches() -> None:
    r = klantreis.analyze(
        kt.source(events=CLASSIC),
        "attribution",
        conversion="buy",
        level="channel",
        models=["first_touch"],
        lookback_days=1.5,
    )
    assert dict(zip(r.frame["channel"], r.frame["conversions"], strict=True)) == {
        "C2": 1.0,
        "C3": 0.0,
    }


def test_shapley_pure_functions() -> None:
    # zeta transform on 2 players
    assert subset_sums(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist() == [1, 3, 4, 10]
    # efficiency: Σφ = v(N)
    phi = shapley_values([1, 2, 3], [2, 1, 1], [1, 0, 1], 2)
    assert phi.sum() == pytest.approx(2 / 4)
    with pytest.raises(UsageError, match="exceed the limit"):
        shapley_values([1], [1], [1], 13)


def test_chain_from_transitions_direct() -> None:
    chain = chain_from_transitions(
        ["(start)", "(start)", "A", "A", "B"],
        ["A", "B", "(conversion)", "(null)", "(conversion)"],
        [1, 1, 1, 1, 1],
    )
    assert chain.conversion_probability() == pytest.approx(0.5 * 0.5 + 0.5)
    assert chain.removal_effects() == pytest.approx({"A": 1 - 0.5 / 0.75, "B": 1 - 0.25 / 0.75})


def test_touchpoint_level_with_journey_conversions_and_simulated_totals() -> None:
    sim = klantreis.simulate_frames("five-phases", customers=1500, seed=3)
    journey = klantreis.load_template("five-phases", "en")
    src = kt.source(events=sim.events, journey=journey)
    r = klantreis.analyze(src, "attribution", level="touchpoint")
    total = r.meta["conversions"]
    assert total > 100
    for model, part in r.frame.groupby("model"):
        assert part["conversions"].sum() == pytest.approx(total), model
        assert part["value"].sum() == pytest.approx(r.meta["value"]), model
    assert "order-confirmation" not in set(r.frame["touchpoint"])  # conversions are no touches
    assert set(r.frame["model"]) == {
        "first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley"
    }  # fmt: skip
    # an explicit but impossible Shapley request is refused with the reason
    with pytest.raises(UsageError, match="exceed the limit"):
        klantreis.analyze(
            src, "attribution", level="touchpoint", models=["shapley"], shapley_max_channels=3
        )


def test_unknown_model_is_refused() -> None:
    with pytest.raises(UsageError, match="Unknown model 'magic'"):
        klantreis.analyze(
            kt.source(events=CLASSIC), "attribution", models=["magic"], level="channel"
        )
