"""Data-driven personas: customers clustered by their journeys, compared with declared personas.

Features per unit, computed in the engine (one row per unit):

- ``reach_<stage>``: 1 when the unit had a touchpoint of the stage (per stage of the journey);
- ``share_<channel>``: the share of its linked events on the channel (channels of the map);
- ``touchpoints``: distinct touchpoints; ``events``: log(1 + linked events);
- ``active_days``: log(1 + days from the first to the last event);
- ``score``: the mean survey score scaled to 0…1 (``(score − min) / (max − min)``); units
  without an answer get the mean, and ``answered`` = 0;
- ``purchases`` and ``value``: log(1 + purchases), log(1 + revenue) (conversion touchpoints,
  or the events named ``conversion``).

Features are standardised (z-scores) and clustered with scikit-learn's KMeans (k-means++, 10
starts, ``seed``). The number of clusters is chosen by the **mean silhouette** on a sample of
``silhouette_sample`` units, over k = 2…``max_k`` (or fixed with ``k``). Each cluster is
described by the features that set it apart most (difference from everyone, in standard
deviations), in words and numbers. Declared personas (the journey's attribute filters) are
compared: how much of the base each covers, which clusters its members fall in, and which
declared persona has no data behind it. At most ``max_units`` units are clustered (a sample by
a hash of the id when there are more).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..errors import UsageError
from .filters import customers_matching
from .lazy import ibis, ir
from .outcomes import purchases
from .query import Prepared, Query, prepare
from .results import Result
from .source import Source

__all__ = ["PersonasQuery", "PersonasResult"]


class PersonasResult(Result):
    """Rows: one per cluster, largest first."""

    display_columns: ClassVar[tuple[str, ...]] = (
        "cluster",
        "customers",
        "share",
        "description",
        "closest_persona",
        "closest_persona_share",
    )


@dataclass(frozen=True, kw_only=True)
class PersonasQuery(Query):
    analysis: ClassVar[str] = "personas"

    k: int | None = None
    max_k: int = 8
    silhouette_sample: int = 3000
    max_units: int = 200_000
    seed: int = 0
    conversion: str | None = None

    def run(self, source: Source) -> PersonasResult:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):  # small data: BLAS/OpenMP threads only contend for cores
            return self._run(source)

    def _run(self, source: Source) -> PersonasResult:
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score

        p = prepare(source, self)
        if p.journey is None:
            raise UsageError("Personas need a journey (stages, touchpoints and channels).")
        features, expr = self._features(p)
        n = len(features)
        if n < 3:
            raise UsageError(f"Personas need at least 3 customers with events, got {n}.")
        columns = [c for c in features.columns if c != "customer_id"]
        x = features[columns].to_numpy(dtype=float)
        std = x.std(axis=0)
        keep = std > 1e-12
        z = (x[:, keep] - x[:, keep].mean(axis=0)) / std[keep]
        rng = np.random.default_rng(self.seed)
        sample = rng.choice(n, size=min(n, self.silhouette_sample), replace=False)
        candidates = [self.k] if self.k else list(range(2, max(2, min(self.max_k, n - 1)) + 1))
        scores: list[dict[str, Any]] = []
        best: tuple[float, int, Any] | None = None
        for k in candidates:
            if k < 1 or k >= n:
                raise UsageError(f"k must be between 1 and {n - 1} (the customers), got {k}.")
            model = KMeans(n_clusters=k, n_init=10, random_state=self.seed).fit(z)
            labels = model.labels_
            sil = (
                float(silhouette_score(z[sample], labels[sample], random_state=self.seed))
                if k > 1 and len(set(labels[sample])) > 1
                else float("nan")
            )
            scores.append({"k": k, "silhouette": sil, "inertia": float(model.inertia_)})
            if best is None or (not np.isnan(sil) and sil > best[0]):
                best = (sil, k, labels)
        assert best is not None
        _, k_best, labels = best
        # clusters numbered by size (1 = largest)
        sizes = np.bincount(labels, minlength=k_best)
        rank = {old: new + 1 for new, old in enumerate(np.argsort(-sizes, kind="stable"))}
        cluster = np.array([rank[int(v)] for v in labels])
        features = features.assign(cluster=cluster)
        declared, members = self._declared(p, features)
        frame = self._describe(features, columns, z, keep, cluster, members)
        return PersonasResult(
            analysis=self.analysis,
            frame=frame,
            query=self,
            scope=p.scope(),
            denominator=f"the {n:,} customers with a linked event in the period",
            meta={
                "k": k_best,
                "criterion": "highest mean silhouette on a sample" if self.k is None else "fixed k",
                "customers": n,
                "features": columns,
            },
            tables={
                "selection": pd.DataFrame(scores),
                "declared": declared,
                "profiles": features.groupby("cluster")[columns].mean().reset_index(),
            },
            expr=expr,
        )

    # -- features ------------------------------------------------------------------------------
    def _features(self, p: Prepared) -> tuple[pd.DataFrame, ir.Table]:
        journey = p.journey
        assert journey is not None
        stages = [s.id for s in journey.stages_in_order()]
        channels = sorted({t.channel for t in journey.touchpoints})
        stage_of = {t.id: t.stage for t in journey.touchpoints}
        channel_of = {t.id: t.channel for t in journey.touchpoints}
        ev = p.in_period.filter(p.in_period.touchpoint.notnull())
        ev = ev.mutate(
            _stage=ibis.cases(*[(ev.touchpoint == k, v) for k, v in stage_of.items()]),
            _channel=ibis.cases(*[(ev.touchpoint == k, v) for k, v in channel_of.items()]),
        )
        aggs: dict[str, Any] = {
            f"reach_{s}": (ev._stage == s).cast("int64").max().cast("float64") for s in stages
        }
        count = ev.count()
        aggs.update(
            {
                f"share_{c}": (ev._channel == c).cast("int64").sum() / count.cast("float64")
                for c in channels
            }
        )
        aggs["touchpoints"] = ev.touchpoint.nunique().cast("float64")
        aggs["events"] = (count + 1).cast("float64").ln()
        aggs["active_days"] = ((ev.t_s.max() - ev.t_s.min()) / 86400.0 + 1).ln()
        per = ev.group_by("customer_id").aggregate(**aggs)
        r = p.source.responses
        r = r.filter(r.customer_id.notnull() & (r.scale_max > r.scale_min))
        scored = r.group_by("customer_id").aggregate(
            score=((r.score - r.scale_min) / (r.scale_max - r.scale_min)).mean()
        )
        buys, _ = purchases(p, self.conversion) if self._has_purchases(p) else (None, "")
        out = per.left_join(scored, "customer_id").drop("customer_id_right")
        if buys is not None:
            bought = buys.group_by("customer_id").aggregate(
                purchases=(buys.count() + 1).cast("float64").ln(),
                value=(buys.value.sum() + 1).ln(),
            )
            out = out.left_join(bought, "customer_id").drop("customer_id_right")
        n = int(p.source.execute(per.count()))
        if n > self.max_units:
            out = out.order_by(out.customer_id.hash()).limit(self.max_units)
        frame = p.source.execute(out.order_by("customer_id"))
        frame["answered"] = frame["score"].notna().astype(float)
        frame["score"] = (
            frame["score"]
            .astype(float)
            .fillna(float(frame["score"].mean()) if frame["score"].notna().any() else 0.0)
        )
        for col in ("purchases", "value"):
            if col in frame.columns:
                frame[col] = frame[col].astype(float).fillna(0.0)
        return frame.fillna(0.0), out

    def _has_purchases(self, p: Prepared) -> bool:
        return self.conversion is not None or bool(
            p.journey is not None and p.journey.conversion_touchpoints()
        )

    # -- words and numbers ---------------------------------------------------------------------
    def _declared(
        self, p: Prepared, features: pd.DataFrame
    ) -> tuple[pd.DataFrame, dict[str, set[str]]]:
        journey = p.journey
        assert journey is not None
        total = len(features)
        ids = set(features["customer_id"].astype(str))
        rows: list[dict[str, Any]] = []
        members: dict[str, set[str]] = {}
        for persona in journey.personas:
            m = p.source.execute(
                customers_matching(p.source.customers, persona.attributes).select("customer_id")
            )
            found = set(m["customer_id"].astype(str)) & ids
            members[persona.id] = found
            sub = features[features["customer_id"].astype(str).isin(found)]
            counts = sub["cluster"].value_counts()
            top = int(counts.index[0]) if len(counts) else None
            rows.append(
                {
                    "persona": persona.id,
                    "customers": len(found),
                    "coverage_share": len(found) / total if total else None,
                    "no_data": len(found) == 0,
                    "main_cluster": top,
                    "main_cluster_share": float(counts.iloc[0] / len(found))
                    if len(found)
                    else None,
                }
            )
        covered = set().union(*members.values()) if members else set()
        rows.append(
            {
                "persona": "(none)",
                "customers": len(ids - covered),
                "coverage_share": len(ids - covered) / total if total else None,
                "no_data": False,
                "main_cluster": None,
                "main_cluster_share": None,
            }
        )
        return pd.DataFrame(rows), members

    def _describe(
        self,
        features: pd.DataFrame,
        columns: list[str],
        z: np.ndarray,
        keep: np.ndarray,
        cluster: np.ndarray,
        members: dict[str, set[str]],
    ) -> pd.DataFrame:
        kept = [c for c, k in zip(columns, keep, strict=True) if k]
        raw = features[columns].copy()
        logs = [c for c in _LOG_FEATURES if c in raw.columns]
        raw[logs] = np.expm1(raw[logs])
        overall = raw.mean()
        ids = features["customer_id"].astype(str).to_numpy()
        rows: list[dict[str, Any]] = []
        n = len(features)
        for c in sorted(set(cluster.tolist())):
            mask = cluster == c
            zc = z[mask].mean(axis=0)
            top = np.argsort(-np.abs(zc))[:3]
            means = raw.loc[mask].mean()
            parts = [_phrase(kept[i], float(means[kept[i]]), float(overall[kept[i]])) for i in top]
            closest, share = None, None
            in_cluster = set(ids[mask])
            for pid, ms in members.items():
                s = len(in_cluster & ms) / len(in_cluster) if in_cluster else 0.0
                if s > 0 and (share is None or s > share):
                    closest, share = pid, s
            rows.append(
                {
                    "cluster": int(c),
                    "customers": int(mask.sum()),
                    "share": float(mask.sum() / n),
                    "description": "; ".join(parts),
                    "closest_persona": closest,
                    "closest_persona_share": share,
                    "distinctive": [kept[i] for i in top],
                }
            )
        return pd.DataFrame(rows)


_LOG_FEATURES = ("events", "active_days", "purchases", "value")


def _phrase(feature: str, value: float, overall: float) -> str:
    """A feature's cluster mean against everyone's (log features back in units), in words."""
    if feature.startswith("reach_"):
        return f"{value:.0%} reach {feature[6:]} (all: {overall:.0%})"
    if feature.startswith("share_"):
        return f"{value:.0%} of their contacts via {feature[6:]} (all: {overall:.0%})"
    if feature in ("events", "purchases", "value"):
        word = {"events": "events", "purchases": "purchases", "value": "revenue"}[feature]
        return f"{value:,.1f} {word} on average (all: {overall:,.1f})"
    if feature == "active_days":
        return f"active for {value:,.0f} days on average (all: {overall:,.0f})"
    if feature == "score":
        return f"scores {value:.0%} of the scale (all: {overall:.0%})"
    if feature == "answered":
        return f"{value:.0%} answered a survey (all: {overall:.0%})"
    return f"{value:,.1f} {feature} (all: {overall:,.1f})"
