"""The known truth of a simulation: what was planted, with its effect sizes, and the base model.

Written next to the data as ``truth.json``. Tests of the analytics read it to check that an
analysis finds what was planted (and nothing that was not): every touchpoint and stage is
listed, and only the ones under ``planted`` were given an effect.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .model import (
    DRIVER_CHURN_FACTOR,
    DRIVER_NPS_SHIFT,
    DRIVER_SCORE_SHIFT,
    PAIN_DROP_ADDED,
    PAIN_SCORE_SHIFT,
    SLOW_DELAY_FACTOR,
    SLOW_SCORE_SHIFT,
    Plant,
    SimulationModel,
)

__all__ = ["TRUTH_FILE", "plant_effects", "truth_of", "write_truth"]

TRUTH_FILE = "truth.json"

#: Latent experience → score: CSAT = round(3.9 + 0.9 e), CES = round(5.2 + 1.1 e),
#: NPS = round(7.3 + 1.7 E + noise) with E the customer's mean experience.
SCORE_SLOPES = {"csat": 0.9, "ces": 1.1, "nps": 1.7}


def plant_effects(plant: Plant) -> dict[str, float]:
    """The effect sizes of one planted truth (in the units the analytics measure)."""
    s = plant.strength
    if plant.kind == "pain":
        return {
            "latent_experience_shift": PAIN_SCORE_SHIFT * s,
            "csat_mean_shift": round(PAIN_SCORE_SHIFT * s * SCORE_SLOPES["csat"], 3),
            "ces_mean_shift": round(PAIN_SCORE_SHIFT * s * SCORE_SLOPES["ces"], 3),
            "drop_off_added": PAIN_DROP_ADDED * s,
        }
    if plant.kind == "slow":
        return {
            "delay_factor": 1 + SLOW_DELAY_FACTOR * s,
            "latent_experience_shift": SLOW_SCORE_SHIFT,
            "csat_mean_shift": round(SLOW_SCORE_SHIFT * SCORE_SLOPES["csat"], 3),
        }
    return {
        "latent_experience_shift": DRIVER_SCORE_SHIFT * s,
        "csat_mean_shift": round(DRIVER_SCORE_SHIFT * s * SCORE_SLOPES["csat"], 3),
        "nps_latent_shift": DRIVER_NPS_SHIFT * s,
        "nps_mean_shift": round(DRIVER_NPS_SHIFT * s * SCORE_SLOPES["nps"], 3),
        "churn_probability_factor": DRIVER_CHURN_FACTOR**s,
    }


_MEANING = {
    "pain": "customers who had this touchpoint score it lower and drop out more often after it",
    "slow": "the wait before this touchpoint or stage is much longer",
    "driver": "customers who had this touchpoint give a higher NPS and buy again more often",
}


def truth_of(model: SimulationModel, *, customers: int, counts: dict[str, int]) -> dict[str, Any]:
    """The truth document (plain JSON data)."""
    planted = []
    for p in model.plants:
        target_type = "stage" if p.target in model.stage_ids and p.kind == "slow" else "touchpoint"
        planted.append(
            {
                "kind": p.kind,
                "target": p.target,
                "target_type": target_type,
                "strength": p.strength,
                "meaning": _MEANING[p.kind],
                "effects": plant_effects(p),
            }
        )
    return {
        "journey": model.journey.id,
        "lang": model.journey.lang,
        "seed": model.seed,
        "customers": customers,
        "b2b": model.b2b,
        "rows": counts,
        "planted": planted,
        "touchpoints": [t.id for t in model.touchpoints],
        "stages": [
            {
                "stage": sid,
                "drop_off": float(model.stage_drop[i]),
                "delay_seconds": [float(x) for x in model.stage_delay[i]],
                "touchpoints": [model.touchpoints[j].id for j in model.stage_candidates[i]]
                + [model.touchpoints[j].id for j in model.stage_conversions[i]],
            }
            for i, sid in enumerate(model.stage_ids)
        ],
        "personas": [
            {"persona": pid, **vars(b)}
            for pid, b in zip(model.persona_ids, model.behaviours, strict=True)
        ],
        "noise_share": model.noise_share,
        "noise_events": sorted({model.variants[v].event for v in model.noise_variants}),
        "repeat_touchpoint": model.touchpoints[model.repeat_tp].id
        if model.repeat_tp >= 0
        else None,
        "order_value_median": model.order_value,
        "score_model": SCORE_SLOPES,
    }


def write_truth(path: Path, truth: dict[str, Any]) -> Path:
    path.write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
