"""The ordered funnel kernel (see :mod:`klantreis.engine.kernels` for the conventions and
:mod:`klantreis.engine.funnel` for the definition).

One pass over the kept rows: a customer's rows are contiguous and in sequence order, so each
customer is a small state machine (entered?, the last required step reached, its time), and
"the EARLIEST step-k event after the row that reached step k-1" is the first matching row met
after it. Times only grow along a customer's rows, so a candidate that is too soon (below
``lower``) is skipped and the next one tried, while the first one that is late (beyond the
window or ``upper``) ends the customer's chain: every later one is later still.
"""

from __future__ import annotations

import numpy as np

from .common import quantile_inplace
from .jit import njit

__all__ = ["funnel", "funnel_stats"]


@njit(cache=True, nogil=True)
def funnel(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    t_s: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    entry_since: int,
    entry_until: int,
    step_node: np.ndarray,
    optional: np.ndarray,
    base: np.ndarray,
    following: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    window: float,
    group_of_channel: np.ndarray,
    lo: int,
    hi: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Per entrant (a customer with a step-1 row in ``[entry_since, entry_until)``): its group
    (by the entry row's channel + 1) and per step the seconds from the entry to the row that
    reached it (-1: not reached). The rows are the selection's customers and channels at any
    time (the period selects the entrants only).

    ``step_node[k]``: the step's node code (-2: no such node); ``optional[k]``; ``base[k]``:
    the required step it is measured from; ``following[k]``: for an optional step the next
    required step (-1: none), whose row it must come before; ``lower[k]`` / ``upper[k]``:
    the least and most seconds after the base step's row (-inf / inf: no limit); ``window``:
    the most seconds after the entry. Rows ``lo:hi`` only (whole customers: see
    ``common.customer_chunks``)."""
    n_steps = len(step_node)
    most = 0  # at most one entrant per customer kept
    for c in range(len(keep_customer)):
        if keep_customer[c]:
            most += 1
    reached = np.empty((most, n_steps), np.int64)
    group = np.empty(most, np.int64)
    entrants = 0
    next_required = np.full(n_steps, -1, np.int64)
    for k in range(n_steps - 1, -1, -1):
        for j in range(k + 1, n_steps):
            if not optional[j]:
                next_required[k] = j
                break
    scoped = not keep_customer.all()
    by_channel = not keep_channel.all()
    any_optional = False
    for k in range(n_steps):
        if optional[k]:
            any_optional = True
    e = -1  # the current customer's entrant number (-1: not entered)
    prev_c = -1
    last = 0  # the last required step reached
    t0 = 0
    t_last = 0
    dead = False
    first = step_node[0]
    for i in range(lo, hi):
        # the selection (all times), written out in the loop: as a helper call it cost several
        # times the whole pass
        nd = node[i]
        if nd < 0:
            continue
        c = cust[i]
        if scoped and not keep_customer[c]:
            continue
        if by_channel and not keep_channel[channel[i] + 1]:
            continue
        if c != prev_c:
            prev_c = c
            e = -1
        if e < 0:
            if nd == first and entry_since <= ts[i] < entry_until:
                e = entrants
                entrants += 1
                reached[e, :] = -1
                reached[e, 0] = 0
                group[e] = group_of_channel[channel[i] + 1]
                t0 = t_s[i]
                t_last = t0
                last = 0
                dead = False
            continue
        now = -1  # the required step reached at this row
        k = next_required[last]
        if not dead and k >= 0 and nd == step_node[k]:
            t = t_s[i]
            d = t - t_last
            if d >= lower[k]:
                if t - t0 <= window and d <= upper[k]:
                    reached[e, k] = t - t0
                    last = k
                    t_last = t
                    now = k
                else:
                    dead = True
        if any_optional:
            for j in range(n_steps):
                if not optional[j] or nd != step_node[j] or reached[e, j] != -1:
                    continue
                b = base[j]
                a = following[j]
                if reached[e, b] < 0 or now == b or (a >= 0 and reached[e, a] >= 0):
                    continue  # not after the base step's row, or not before the next one's
                t = t_s[i]
                d = t - (t0 + reached[e, b])
                if d < lower[j]:
                    continue
                if t - t0 <= window and d <= upper[j]:
                    reached[e, j] = t - t0
                else:
                    reached[e, j] = -2  # too late: every later row is later still
    return reached[:entrants], group[:entrants]


@njit(cache=True, nogil=True)
def funnel_stats(
    reached: np.ndarray, group: np.ndarray, base: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Per (group, step): the customers who reached it, the median and p90 seconds from the
    step it is measured from, and the median seconds from the entry (NaN: nobody)."""
    entrants, n_steps = reached.shape
    counts = np.zeros((n_groups, n_steps), np.int64)
    for e in range(entrants):
        g = group[e]
        for k in range(n_steps):
            if reached[e, k] >= 0:
                counts[g, k] += 1
    # one bucket per (step, group) in two buffers: seconds from the base step, from the entry
    starts = np.zeros(n_steps * n_groups + 1, np.int64)
    for k in range(n_steps):
        for g in range(n_groups):
            at = k * n_groups + g
            starts[at + 1] = starts[at] + (counts[g, k] if k else 0)
    fill = starts[:-1].copy()
    dt = np.empty(starts[-1], np.int64)
    t = np.empty(starts[-1], np.int64)
    for e in range(entrants):
        g = group[e]
        for k in range(1, n_steps):
            if reached[e, k] >= 0:
                at = fill[k * n_groups + g]
                dt[at] = reached[e, k] - reached[e, base[k]]
                t[at] = reached[e, k]
                fill[k * n_groups + g] = at + 1
    median = np.full((n_groups, n_steps), np.nan)
    p90 = np.full((n_groups, n_steps), np.nan)
    from_start = np.full((n_groups, n_steps), np.nan)
    for k in range(1, n_steps):
        for g in range(n_groups):
            a, b = starts[k * n_groups + g], starts[k * n_groups + g + 1]
            if b > a:
                median[g, k] = quantile_inplace(dt, a, b, 0.5)
                p90[g, k] = quantile_inplace(dt, a, b, 0.9)
                from_start[g, k] = quantile_inplace(t, a, b, 0.5)
    return counts, median, p90, from_start
