"""Vectorised generation of one block of customers: events, responses, customers, accounts.

Customers are generated in fixed blocks of ``BLOCK_CUSTOMERS``; block ``b`` draws every random
number from ``SeedSequence([seed, b])``. The output for a seed is therefore the same whatever
chunk size the writer uses, and blocks can be generated in any order or in parallel.

Inside a block everything is numpy on arrays of rows: there is a Python loop over stages (a
handful), never over customers or events.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import (
    DAY,
    DRIVER_CHURN_FACTOR,
    DRIVER_NPS_SHIFT,
    DRIVER_SCORE_SHIFT,
    SLOW_SCORE_SHIFT,
    SimulationModel,
)

__all__ = ["BLOCK_CUSTOMERS", "Block", "generate_block"]

#: Customers per block. Fixed: changing it changes the data generated for a seed.
BLOCK_CUSTOMERS = 1000

SESSION_GAP_S = 30 * 60.0
MAX_CONTACTS = 8
MAX_REPEATS = 12
METRIC_CSAT, METRIC_NPS, METRIC_CES = 0, 1, 2
#: per source class (generic, search, social, ads): three options, picked uniformly
SOURCE_TABLE = np.array(
    [
        ["direct", "google", "referral"],
        ["google", "google", "bing"],
        ["facebook", "instagram", "linkedin"],
        ["google", "facebook", "google"],
    ]
)


@dataclass
class Block:
    """One block of generated customers as arrays (rows sorted by customer, then time)."""

    index: int
    first_customer: int
    n: int
    # events
    ev_customer: np.ndarray  # local customer index
    ev_time_s: np.ndarray  # seconds after the model's start
    ev_variant: np.ndarray
    ev_tp: np.ndarray  # generating touchpoint index, -1 for noise
    ev_value: np.ndarray  # NaN when none
    ev_seq: np.ndarray  # event number within the customer
    ev_session: np.ndarray  # session number within the customer, -1 when none
    ev_source: np.ndarray  # source code into SOURCE_TABLE.flat, -1 when none
    # customers
    persona: np.ndarray
    device: np.ndarray
    account: np.ndarray  # local customer index of the account's first contact (B2B), else -1
    acc_index: np.ndarray  # index into the block's accounts (B2B), else -1
    role: np.ndarray
    status: np.ndarray  # 0 prospect, 1 active, 2 churned
    segment_values: np.ndarray  # (n, K) value index per extra attribute
    # accounts (B2B)
    acc_first: np.ndarray
    acc_industry: np.ndarray
    acc_size: np.ndarray
    # responses
    rs_customer: np.ndarray
    rs_time_s: np.ndarray
    rs_metric: np.ndarray
    rs_score: np.ndarray
    rs_tp: np.ndarray  # -1 for NPS
    rs_variant: np.ndarray  # -1 for NPS
    rs_comment: np.ndarray  # comment code, -1 for none


def _grouped_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (rows grouped, ``counts`` rows per group)."""
    if len(values) == 0:
        return values
    cs = np.cumsum(values)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    starts = starts[counts > 0]
    base = cs[starts] - values[starts]
    return cs - np.repeat(base, counts[counts > 0])


def _loguniform(rng: np.random.Generator, lo: float, hi: float, size: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(lo), np.log(max(hi, lo * 1.0001)), size))


def _pick(rng: np.random.Generator, cdf: np.ndarray) -> np.ndarray:
    """One index per row of a (rows, k) cumulative-probability matrix."""
    u = np.asarray(rng.random(cdf.shape[0]))
    return (u[:, None] > cdf).sum(axis=1)


def _variant_of(rng: np.random.Generator, model: SimulationModel, tp: np.ndarray) -> np.ndarray:
    count = model.tp_variant_count[tp]
    return model.tp_variant_start[tp] + (rng.random(len(tp)) * count).astype(np.int64)


class _Rows:
    """Event rows collected stage by stage."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("c", "t", "tp", "value", "waited")
        }

    def add(
        self,
        c: np.ndarray,
        t: np.ndarray,
        tp: np.ndarray,
        value: np.ndarray | None = None,
        waited: np.ndarray | None = None,
    ) -> None:
        self.parts["c"].append(c)
        self.parts["t"].append(t)
        self.parts["tp"].append(tp)
        self.parts["value"].append(value if value is not None else np.full(len(c), np.nan))
        self.parts["waited"].append(waited if waited is not None else np.zeros(len(c), bool))

    def get(self, key: str) -> np.ndarray:
        return np.concatenate(self.parts[key])


def generate_block(model: SimulationModel, block: int, n: int) -> Block:
    """Generate customers ``block * BLOCK_CUSTOMERS`` .. ``+ n`` (``n <= BLOCK_CUSTOMERS``)."""
    rng = np.random.default_rng(np.random.SeedSequence([model.seed, block]))
    S = len(model.stage_ids)
    beh = model.behaviours
    speed_p = np.array([b.speed for b in beh])
    drop_p = np.array([b.drop_off for b in beh])
    spend_p = np.array([b.spend for b in beh])
    mood_p = np.array([b.mood for b in beh])
    churn_p = np.array([b.churn for b in beh])

    persona = _pick(rng, np.tile(np.cumsum(model.persona_weights), (n, 1)))
    persona = np.minimum(persona, len(beh) - 1)
    speed = speed_p[persona]
    device = _pick(rng, np.tile(np.array([0.5, 0.9, 1.0]), (n, 1)))

    # accounts: B2B contacts share a start and the account's decisions
    if model.b2b:
        sizes = 1 + rng.poisson(2.5, n)
        cs = np.cumsum(sizes)
        k = int(np.searchsorted(cs, n)) + 1
        sizes = sizes[:k].copy()
        sizes[-1] -= int(cs[k - 1]) - n
        group = np.repeat(np.arange(k), sizes)
        acc_first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        role = np.where(np.arange(n) == acc_first[group], 0, 1 + rng.integers(0, 4, n))
        account = acc_first[group]
        if model.decision_persona >= 0:
            persona[acc_first] = model.decision_persona
            speed = speed_p[persona]
    else:
        k = n
        group = np.arange(n)
        acc_first = np.zeros(0, dtype=np.int64)
        role = np.zeros(n, dtype=np.int64)
        account = np.full(n, -1)
    acc_industry = rng.integers(0, 8, len(acc_first))
    acc_size = rng.integers(0, 4, len(acc_first))
    t0 = rng.random(k) * model.period_days * DAY
    t_cur = t0[group] + (rng.random(n) * 30 * DAY if model.b2b else 0.0)
    u_drop = rng.random((k, S))
    segment_values = _segment_values(rng, model, n)

    rows = _Rows()
    alive = np.ones(n, dtype=bool)
    converted = np.zeros(n, dtype=bool)
    pain_carry = np.zeros(n)
    pain_cap = float(model.tp_pain_drop.max()) if len(model.tp_pain_drop) else 0.0
    conv_stage = -1

    for s in range(S):
        idx = np.flatnonzero(alive)
        if len(idx) == 0:
            break
        lo, hi = model.stage_delay[s]
        if s > 0:
            entry = _loguniform(rng, lo, hi, len(idx)) * speed[idx] * model.stage_slow[s]
            t_cur[idx] += entry
        m = np.minimum(1 + rng.poisson(model.stage_contacts[s], len(idx)), MAX_CONTACTS)
        rc = np.repeat(idx, m)
        cand = model.stage_candidates[s]
        tp = cand[_pick(rng, model.choice_cdf[s][persona[rc]])]
        if model.stage_ordered[s]:
            order = np.lexsort((tp, rc))
            tp = tp[order]
        t_rows, waited = _stage_times(rng, model, s, rc, m, tp, t_cur, speed)
        rows.add(rc, t_rows, tp, waited=waited)
        ends = np.cumsum(m) - 1
        t_cur[idx] = t_rows[ends]
        pain = np.bincount(rc, weights=model.tp_pain_drop[tp], minlength=n)[idx]

        if s > 0 and model.loop_prob > 0:  # loops back to the previous stage
            loopers = idx[rng.random(len(idx)) < model.loop_prob]
            if len(loopers):
                lm = 1 + (rng.random(len(loopers)) < 0.4)
                lc = np.repeat(loopers, lm)
                ltp = model.stage_candidates[s - 1][
                    _pick(rng, model.choice_cdf[s - 1][persona[lc]])
                ]
                plo, phi = model.stage_delay[s - 1]
                gaps = _loguniform(rng, max(60.0, plo / 2), max(phi / 3, 120.0), len(lc))
                lt = t_cur[lc] + _grouped_cumsum(gaps * speed[lc], lm)
                rows.add(lc, lt, ltp)
                t_cur[loopers] = lt[np.cumsum(lm) - 1]

        conv = model.stage_conversions[s]
        if s == S - 1 and len(conv) == 0:
            break
        p = model.stage_drop[s] * drop_p[persona[idx]] + np.minimum(
            pain + pain_carry[idx], pain_cap
        )
        stay = u_drop[group[idx], s] >= np.clip(p, 0.0, 0.95)
        pain_carry[idx] = 0.0
        alive[idx[~stay]] = False
        if len(conv):
            conv_stage = s if conv_stage < 0 else conv_stage
            buyers = idx[stay & (role[idx] == 0)]
            for j, ctp in enumerate(conv):
                t_conv = t_cur[buyers] + 30 + 240 * rng.random(len(buyers))
                value = (
                    model.order_value
                    * spend_p[persona[buyers]]
                    * np.exp(0.5 * rng.standard_normal(len(buyers)))
                    if j == 0
                    else None
                )
                rows.add(buyers, t_conv, np.full(len(buyers), ctp), value=value)
                t_cur[buyers] = t_conv
                pain_carry[buyers] += model.tp_pain_drop[ctp]
            converted[buyers] = True

    # experience of every contact so far (drives scores, NPS and churn)
    c_main = rows.get("c")
    tp_main = rows.get("tp")
    waited_main = rows.get("waited")
    t_main = rows.get("t")
    exp_row = (
        model.tp_quality[tp_main]
        + mood_p[persona[c_main]]
        + model.tp_pain_shift[tp_main]
        + DRIVER_SCORE_SHIFT * model.tp_driver[tp_main]
        + SLOW_SCORE_SHIFT * waited_main
        + 0.8 * rng.standard_normal(len(tp_main))
    )
    n_rows = np.bincount(c_main, minlength=n)
    exp_cust = np.bincount(c_main, weights=exp_row, minlength=n) / np.maximum(n_rows, 1)
    driver_cap = float(model.tp_driver.max()) if len(model.tp_driver) else 0.0
    driver = np.minimum(
        np.bincount(c_main, weights=model.tp_driver[tp_main], minlength=n), driver_cap
    )
    t_end = t_cur.copy()

    # repeat purchases and churn
    status = np.where(converted, 2, 0)
    if model.repeat_tp >= 0 and converted.any():
        buyers = np.flatnonzero(converted)
        p_churn = (
            model.churn_prob
            * churn_p[persona[buyers]]
            * DRIVER_CHURN_FACTOR ** driver[buyers]
            * np.exp(-0.4 * exp_cust[buyers])
        )
        p_churn = np.clip(p_churn, 0.05, 0.95)
        r = np.minimum(rng.geometric(p_churn) - 1, MAX_REPEATS)
        rc = np.repeat(buyers, r)
        gaps = (
            model.repeat_interval_days
            * DAY
            * speed[rc]
            * np.exp(0.5 * rng.standard_normal(len(rc)))
        )
        rt = t_end[rc] + _grouped_cumsum(gaps, r)
        observe_end = (model.period_days + model.follow_days) * DAY
        keep = rt <= observe_end
        cut = np.bincount(rc[~keep], minlength=n)[buyers] > 0
        status[buyers[cut | (r == MAX_REPEATS)]] = 1
        rc, rt = rc[keep], rt[keep]
        value = (
            model.order_value
            * spend_p[persona[rc]]
            * 0.8
            * np.exp(0.5 * rng.standard_normal(len(rc)))
        )
        rows.add(rc, rt, np.full(len(rc), model.repeat_tp), value=value)
        if conv_stage >= 0 and len(rc):
            pre = rng.random(len(rc)) < (0.2 if model.b2b else 0.5)
            pc_ = rc[pre]
            ptp = model.stage_candidates[conv_stage][
                _pick(rng, model.choice_cdf[conv_stage][persona[pc_]])
            ]
            rows.add(pc_, rt[pre] - 60 - 600 * rng.random(len(pc_)), ptp)
            if conv_stage + 1 < S:
                post = rng.random(len(rc)) < 0.7
                qc = rc[post]
                lo, hi = model.stage_delay[conv_stage + 1]
                qtp = model.stage_candidates[conv_stage + 1][
                    _pick(rng, model.choice_cdf[conv_stage + 1][persona[qc]])
                ]
                rows.add(qc, rt[post] + _loguniform(rng, lo, hi, len(qc)) * speed[qc], qtp)

    # noise: unlinked events next to real ones
    c_all, t_all, tp_all = rows.get("c"), rows.get("t"), rows.get("tp")
    value_all = rows.get("value")
    var_all = _variant_of(rng, model, tp_all)
    if model.noise_share > 0 and len(c_all):
        q = model.noise_share / (1 - model.noise_share)
        anchor = np.flatnonzero(rng.random(len(c_all)) < q)
        nv = model.noise_variants[rng.integers(0, len(model.noise_variants), len(anchor))]
        c_all = np.concatenate((c_all, c_all[anchor]))
        t_all = np.concatenate((t_all, t_all[anchor] + 3 + 117 * rng.random(len(anchor))))
        tp_all = np.concatenate((tp_all, np.full(len(anchor), -1)))
        value_all = np.concatenate((value_all, np.full(len(anchor), np.nan)))
        var_all = np.concatenate((var_all, nv))

    # order by customer and time; number events and sessions within each customer
    t_all = np.round(t_all, 3)
    order = np.lexsort((t_all, c_all))
    c_all, t_all, tp_all = c_all[order], t_all[order], tp_all[order]
    value_all, var_all = value_all[order], var_all[order]
    counts = np.bincount(c_all, minlength=n)
    seq = np.arange(len(c_all)) - np.repeat(np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    session = np.full(len(c_all), -1, dtype=np.int64)
    source = np.full(len(c_all), -1, dtype=np.int64)
    web = np.flatnonzero(model.variant_web[var_all])
    if len(web):
        wc, wt = c_all[web], t_all[web]
        new = np.ones(len(web), dtype=bool)
        new[1:] = (wc[1:] != wc[:-1]) | (wt[1:] - wt[:-1] > SESSION_GAP_S)
        cs = np.cumsum(new)
        first_of_c = np.ones(len(web), dtype=bool)
        first_of_c[1:] = wc[1:] != wc[:-1]
        base = np.repeat(cs[first_of_c], np.diff(np.append(np.flatnonzero(first_of_c), len(web))))
        session[web] = cs - base
        starts = web[new]
        cls = model.variant_source_class[var_all[starts]]
        source[starts] = cls * 3 + rng.integers(0, 3, len(starts))

    # responses: CSAT and CES after contacts, NPS per customer
    rs = _responses(rng, model, c_main, t_main, tp_main, waited_main, exp_row)
    nps_who = np.flatnonzero(rng.random(n) < np.where(converted, 0.35, 0.06))
    nps_latent = exp_cust[nps_who] + DRIVER_NPS_SHIFT * driver[nps_who]
    nps = np.clip(np.rint(7.3 + 1.7 * nps_latent + rng.standard_normal(len(nps_who))), 0, 10)
    nps_t = t_end[nps_who] + _loguniform(rng, DAY, 14 * DAY, len(nps_who))
    pain_touched = np.bincount(c_main, weights=(model.tp_pain_shift[tp_main] < 0), minlength=n) > 0
    pain_tp = int(np.argmin(model.tp_pain_shift)) if (model.tp_pain_shift < 0).any() else -1
    nps_comment = _comment_codes(
        rng,
        model,
        np.where(
            pain_touched[nps_who] & (nps <= 6) & (pain_tp >= 0), pain_tp, len(model.touchpoints)
        ),
        np.where(nps <= 6, 2, np.where(nps <= 8, 1, 0)),
        np.zeros(len(nps_who), bool),
    )
    rs_customer = np.concatenate((rs[0], nps_who))
    rs_time = np.concatenate((rs[1], nps_t))
    rs_metric = np.concatenate((rs[2], np.full(len(nps_who), METRIC_NPS)))
    rs_score = np.concatenate((rs[3], nps))
    rs_tp = np.concatenate((rs[4], np.full(len(nps_who), -1)))
    rs_variant = np.concatenate((_variant_of(rng, model, rs[4]), np.full(len(nps_who), -1)))
    rs_comment = np.concatenate((rs[5], nps_comment))
    rorder = np.lexsort((rs_time, rs_customer))

    return Block(
        index=block,
        first_customer=block * BLOCK_CUSTOMERS,
        n=n,
        ev_customer=c_all,
        ev_time_s=t_all,
        ev_variant=var_all,
        ev_tp=tp_all,
        ev_value=value_all,
        ev_seq=seq,
        ev_session=session,
        ev_source=source,
        persona=persona,
        device=device,
        account=account,
        acc_index=group if model.b2b else np.full(n, -1),
        role=role,
        status=status,
        segment_values=segment_values,
        acc_first=acc_first,
        acc_industry=acc_industry,
        acc_size=acc_size,
        rs_customer=rs_customer[rorder],
        rs_time_s=np.round(rs_time[rorder], 3),
        rs_metric=rs_metric[rorder],
        rs_score=rs_score[rorder],
        rs_tp=rs_tp[rorder],
        rs_variant=rs_variant[rorder],
        rs_comment=rs_comment[rorder],
    )


def _stage_times(
    rng: np.random.Generator,
    model: SimulationModel,
    s: int,
    rc: np.ndarray,
    m: np.ndarray,
    tp: np.ndarray,
    t_cur: np.ndarray,
    speed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Times of a stage's contacts: short in-session gaps or long ones, plus planted waits."""
    k = len(rc)
    lo, hi = model.stage_delay[s]
    long_gap = _loguniform(rng, max(60.0, lo / 2), max(hi / 3, 120.0), k) * speed[rc]
    short_gap = 45.0 * np.exp(0.9 * rng.standard_normal(k))
    gap = np.where(rng.random(k) < 0.55, short_gap, long_gap)
    first = np.concatenate(([0], np.cumsum(m)[:-1]))
    gap[first] = 0.0
    slow = model.tp_slow[tp]
    waited = slow > 1
    extra = _loguniform(rng, max(60.0, lo), max(hi / 2, 120.0), k) * speed[rc] * (slow - 1)
    gap = gap + np.where(waited, extra, 0.0)
    return t_cur[rc] + _grouped_cumsum(gap, m), waited


def _responses(
    rng: np.random.Generator,
    model: SimulationModel,
    c: np.ndarray,
    t: np.ndarray,
    tp: np.ndarray,
    waited: np.ndarray,
    exp_row: np.ndarray,
) -> tuple[np.ndarray, ...]:
    csat = np.flatnonzero(rng.random(len(c)) < 0.10)
    ces = np.flatnonzero(model.tp_ces[tp] & (rng.random(len(c)) < 0.12))
    csat_score = np.clip(np.rint(3.9 + 0.9 * exp_row[csat]), 1, 5)
    ces_score = np.clip(np.rint(5.2 + 1.1 * exp_row[ces]), 1, 7)
    who = np.concatenate((csat, ces))
    score = np.concatenate((csat_score, ces_score))
    metric = np.concatenate((np.full(len(csat), METRIC_CSAT), np.full(len(ces), METRIC_CES)))
    sentiment = np.where(
        metric == METRIC_CSAT,
        np.where(score <= 2, 2, np.where(score == 3, 1, 0)),
        np.where(score <= 3, 2, np.where(score <= 5, 1, 0)),
    )
    comment = _comment_codes(rng, model, tp[who], sentiment, waited[who])
    when = t[who] + _loguniform(rng, 600.0, 2 * DAY, len(who))
    return c[who], when, metric, score, tp[who], comment


def _comment_codes(
    rng: np.random.Generator,
    model: SimulationModel,
    tp: np.ndarray,
    sentiment: np.ndarray,
    waited: np.ndarray,
) -> np.ndarray:
    """Comment code per response (-1: no comment); see ``comments.comment_table``."""
    k = model.comments_per_kind
    kind = np.where(waited & (sentiment > 0), 3, sentiment)
    code = (tp * 4 + kind) * k + rng.integers(0, k, len(tp))
    return np.where(rng.random(len(tp)) < 0.35, code, -1)


def _segment_values(rng: np.random.Generator, model: SimulationModel, n: int) -> np.ndarray:
    sizes = [len(values) for _key, values in model.extra_attributes]
    if not sizes:
        return np.zeros((n, 0), dtype=np.int64)
    return np.stack([rng.integers(0, size, n) for size in sizes], axis=1)
