"""The monitor's kernels (see :mod:`klantreis.engine.kernels` for the conventions).

Calendar periods from µs timestamps, as SQL ``date_trunc`` gives them (UTC): a month is coded
``year * 12 + month - 1``; a week (starting on Monday) by ``(days + 3) // 7``, where ``days``
counts from 1970-01-01 (a Thursday, so week 0 starts on Monday 1969-12-29).
"""

from __future__ import annotations

import numpy as np

from .common import quantile_inplace
from .jit import njit

__all__ = ["monitor_cells", "period_bounds", "period_code", "period_table"]

_DAY_US = 86_400_000_000


@njit(cache=True, nogil=True)
def _civil(days: int) -> tuple[int, int]:  # pragma: no cover - compiled
    """(year, month 1-12) of a day number since 1970-01-01 (proleptic Gregorian)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m


@njit(cache=True, nogil=True)
def _days(year: int, month: int) -> int:  # pragma: no cover - compiled
    """The day number since 1970-01-01 of the first of ``month`` in ``year``."""
    y = year - 1 if month <= 2 else year
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True, nogil=True)
def period_code(t: int, month: bool) -> int:  # pragma: no cover - compiled
    """The period (month or Monday week) of the timestamp ``t`` (µs)."""
    days = t // _DAY_US
    if month:
        y, m = _civil(days)
        return y * 12 + m - 1
    return (days + 3) // 7


@njit(cache=True, nogil=True)
def period_bounds(code: int, month: bool) -> tuple[int, int]:  # pragma: no cover - compiled
    """The first µs of the period ``code`` and the first µs after it."""
    if month:
        y, m = code // 12, code % 12 + 1
        start = _days(y, m)
        end = _days(y + 1, 1) if m == 12 else _days(y, m + 1)
        return start * _DAY_US, end * _DAY_US
    start = code * 7 - 3
    return start * _DAY_US, (start + 7) * _DAY_US


@njit(cache=True, nogil=True)
def period_table(first_day: int, last_day: int, month: bool) -> np.ndarray:  # pragma: no cover
    """The period of each day ``first_day .. last_day`` (a lookup per row instead of the
    calendar arithmetic)."""
    out = np.empty(last_day - first_day + 1, np.int64)
    for d in range(first_day, last_day + 1):
        out[d - first_day] = period_code(d * _DAY_US, month)
    return out


@njit(cache=True, nogil=True)
def monitor_cells(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    t_s: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    since: int,
    until: int,
    first_day: int,
    periods: np.ndarray,
    first_period: int,
    n_periods: int,
    k: int,
    buy_code: np.ndarray,
    buy_lut: np.ndarray,
    behaviour: bool,
    time: bool,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:  # pragma: no cover - compiled
    """Per cell ``node * n_periods + (period - first_period)``, where a row's period is
    ``periods[ts // day - first_day]`` (:func:`period_table`):

    - ``reached``: the customers with a node row in the period (and ``since <= ts < until``),
      and ``bought``: how many of them have a purchase row (``buy_lut[buy_code + 1]``, any
      channel, all times) in the same calendar period;
    - ``waits``: the node rows in the period after an earlier node row of the customer (all
      times), with the mean and sample std of log(hours + 1) and the median of the hours.

    A node row: ``node >= 0`` and the channel kept; every row: the customer kept. A customer's
    rows of one period are contiguous (rows are in time order per customer), so a customer is
    counted once per (node, period) by marking the nodes seen in the current run.
    """
    n = len(cust)
    cells = k * n_periods
    every_customer = keep_customer.all()  # then neither mask is read per row
    every_channel = keep_channel.all()
    buys = buy_lut.any()
    reached = np.zeros(cells, np.int64)
    bought = np.zeros(cells, np.int64)
    waits = np.zeros(cells, np.int64)
    mark = np.full(k, -1, np.int64)
    seen = np.empty(k, np.int64)
    n_seen = 0
    run = 0  # the (customer, period) run being read
    run_cust = -1
    run_bought = False
    run_code = 0
    prev_c = -1
    for i in range(n):
        c = cust[i]
        if not every_customer and not keep_customer[c]:
            continue
        t = ts[i]
        code = periods[t // _DAY_US - first_day]
        if behaviour:
            if code != run_code or c != run_cust:
                for j in range(n_seen):
                    cell = seen[j] * n_periods + run_code - first_period
                    reached[cell] += 1
                    if run_bought:
                        bought[cell] += 1
                run += 1
                n_seen = 0
                run_bought = False
                run_cust = c
                run_code = code
            if buys and not run_bought and buy_lut[buy_code[i] + 1]:
                run_bought = True
        nd = node[i]
        if nd < 0 or (not every_channel and not keep_channel[channel[i] + 1]):
            continue
        if since <= t < until:
            if behaviour and mark[nd] != run:
                mark[nd] = run
                seen[n_seen] = nd
                n_seen += 1
            if time and c == prev_c:
                waits[nd * n_periods + code - first_period] += 1
        prev_c = c
    for j in range(n_seen):
        cell = seen[j] * n_periods + run_code - first_period
        reached[cell] += 1
        if run_bought:
            bought[cell] += 1
    mean = np.full(cells, np.nan)
    std = np.full(cells, np.nan)
    median = np.full(cells, np.nan)
    if time:
        _waits(cust, node, ts, t_s, channel, keep_customer, keep_channel, since, until,
               first_day, periods, first_period, n_periods, waits, mean, std, median)  # fmt: skip
    return reached, bought, waits, mean, std, median


@njit(cache=True, nogil=True)
def _waits(
    cust: np.ndarray,
    node: np.ndarray,
    ts: np.ndarray,
    t_s: np.ndarray,
    channel: np.ndarray,
    keep_customer: np.ndarray,
    keep_channel: np.ndarray,
    since: int,
    until: int,
    first_day: int,
    periods: np.ndarray,
    first_period: int,
    n_periods: int,
    waits: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    median: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Fills ``mean``, ``std`` and ``median`` of the cells whose wait counts ``monitor_cells``
    found: the waits grouped by cell (a counting sort), then per cell its logs in a scratch
    buffer, their mean and the sum of squared deviations from it (two passes, as exact as
    SQL's), and the median of the hours."""
    cells = len(waits)
    starts = np.zeros(cells + 1, np.int64)
    for e in range(cells):
        starts[e + 1] = starts[e] + waits[e]
    fill = starts[:-1].copy()
    hours = np.empty(starts[cells], np.float64)
    prev_c = -1
    prev_t = 0
    every_customer = keep_customer.all()
    every_channel = keep_channel.all()
    for i in range(len(cust)):
        nd = node[i]
        if nd < 0:
            continue
        c = cust[i]
        if not every_customer and not keep_customer[c]:
            continue
        if not every_channel and not keep_channel[channel[i] + 1]:
            continue
        t = ts[i]
        if c == prev_c and since <= t < until:
            cell = nd * n_periods + periods[t // _DAY_US - first_day] - first_period
            at = fill[cell]
            hours[at] = (t_s[i] - prev_t) / 3600.0
            fill[cell] = at + 1
        prev_c = c
        prev_t = t_s[i]
    logs = np.empty(waits.max() if cells else 0, np.float64)
    for e in range(cells):
        m = waits[e]
        if m == 0:
            continue
        a = starts[e]
        total = 0.0
        for j in range(m):
            x = np.log(hours[a + j] + 1.0)
            logs[j] = x
            total += x
        mu = total / m
        mean[e] = mu
        if m > 1:
            ss = 0.0
            for j in range(m):
                d = logs[j] - mu
                ss += d * d
            std[e] = np.sqrt(ss / (m - 1))
        median[e] = quantile_inplace(hours, a, a + m, 0.5)
