"""Agreement: klantreis and a peer must give the same answer where the definitions are equal.

- directly-follows counts (transitions, event level, all events): every (source, target) count
  equal (pm4py ``discover_dfg``, retentioneering ``transition_graph_data(edge_weight="count")``,
  pandas shift);
- top-20 path variants (paths, event level, repeats kept): the same counts rank by rank, the
  same variants where the count is not tied at the cut, and the same number of customers
  (pm4py ``get_variants``, pandas);
- ordered funnel without window: the same customers per step (retentioneering ``funnel_data``,
  pandas);
- Markov attribution (order 1): conversions per channel within ``MARKOV_TOLERANCE`` of the total
  (ChannelAttribution estimates removal effects by simulation, so not to the last digit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MARKOV_TOLERANCE", "Check", "compare"]

#: Largest allowed difference in a channel's share of the attributed conversions.
MARKOV_TOLERANCE = 0.02


@dataclass
class Check:
    analysis: str
    peer: str
    ok: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"analysis": self.analysis, "peer": self.peer, "ok": self.ok, "detail": self.detail}


def _edges(rows: list[list[Any]]) -> dict[tuple[str, str], int]:
    return {(str(a), str(b)): int(n) for a, b, n in rows}


def transitions(ours: Any, theirs: Any) -> tuple[bool, str]:
    a, b = _edges(ours), _edges(theirs)
    differ = [k for k in a.keys() | b.keys() if a.get(k, 0) != b.get(k, 0)]
    total = sum(a.values())
    if not differ:
        return True, f"{len(a)} edges, {total:,} transitions: all counts equal"
    k = sorted(differ)[0]
    return False, (
        f"{len(differ)} of {len(a.keys() | b.keys())} edges differ, e.g. {k[0]} → {k[1]}: "
        f"klantreis {a.get(k, 0)}, peer {b.get(k, 0)}"
    )


def paths(ours: Any, theirs: Any) -> tuple[bool, str]:
    a, b = ours["top"], theirs["top"]
    if ours["customers"] != theirs["customers"]:
        return (
            False,
            f"customers with a path: klantreis {ours['customers']}, peer {theirs['customers']}",
        )
    counts_a, counts_b = [n for _, n in a], [n for _, n in b]
    if counts_a != counts_b:
        return False, f"counts by rank differ: klantreis {counts_a[:5]}…, peer {counts_b[:5]}…"
    cut = counts_a[-1] if counts_a else 0
    untied_a = {tuple(p) for p, n in a if n != cut}
    untied_b = {tuple(p) for p, n in b if n != cut}
    if untied_a != untied_b:
        return False, f"{len(untied_a ^ untied_b)} variants differ above the cut"
    return True, f"top {len(a)} variants of {ours['customers']:,} customers: equal"


def funnel(ours: Any, theirs: Any) -> tuple[bool, str]:
    if list(ours) == list(theirs):
        return True, "customers per step equal: " + " → ".join(f"{n:,}" for n in ours)
    return False, f"klantreis {ours}, peer {theirs}"


def attribution(ours: Any, theirs: Any) -> tuple[bool, str]:
    total_a, total_b = sum(ours.values()), sum(theirs.values())
    if not total_a or not total_b:
        return False, f"no conversions (klantreis {total_a}, peer {total_b})"
    channels = sorted(ours.keys() | theirs.keys())
    diffs = {c: abs(ours.get(c, 0) / total_a - theirs.get(c, 0) / total_b) for c in channels}
    worst = max(diffs, key=lambda c: diffs[c])
    ok = diffs[worst] <= MARKOV_TOLERANCE
    return ok, (
        f"{len(channels)} channels, {total_a:,.0f} conversions; largest share difference "
        f"{diffs[worst]:.4f} ({worst}); tolerance {MARKOV_TOLERANCE}"
    )


_COMPARE = {
    "transitions": transitions,
    "paths": paths,
    "funnel": funnel,
    "attribution": attribution,
}


def compare(analysis: str, peer: str, ours: Any, theirs: Any) -> Check:
    ok, detail = _COMPARE[analysis](ours, theirs)
    return Check(analysis, peer, ok, detail)
