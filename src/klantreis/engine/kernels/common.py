"""Kernels every analysis can use: in-place selection and continuous quantiles."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from .jit import njit

__all__ = ["code_of_pair", "customer_chunks", "link_in_order", "on_threads", "quantile_inplace"]


@njit(cache=True, nogil=True)
def _select(v: np.ndarray, lo: int, hi: int, k: int) -> None:  # pragma: no cover - compiled
    """Moves the k-th smallest of ``v[lo:hi]`` to ``v[k]`` (smaller ones before it, larger
    after): Hoare's quickselect with a median-of-three pivot, in place."""
    hi -= 1
    while hi > lo:
        mid = (lo + hi) >> 1
        a, b, c = v[lo], v[mid], v[hi]
        if a > b:
            a, b = b, a
        if b > c:
            b, c = c, b
        if a > b:
            a, b = b, a
        pivot = b
        i, j = lo, hi
        while i <= j:
            while v[i] < pivot:
                i += 1
            while v[j] > pivot:
                j -= 1
            if i <= j:
                v[i], v[j] = v[j], v[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            return


@njit(cache=True, nogil=True)
def quantile_inplace(v: np.ndarray, a: int, b: int, q: float) -> float:  # pragma: no cover
    """The continuous quantile ``q`` of ``v[a:b]`` (linear interpolation, as SQL
    ``quantile_cont``); reorders ``v[a:b]``."""
    m = b - a
    x = (m - 1) * q
    lo = int(np.floor(x))
    _select(v, a, b, a + lo)
    low = v[a + lo]
    if x == lo:
        return float(low)
    nxt = v[a + lo + 1]
    for i in range(a + lo + 2, b):
        if v[i] < nxt:
            nxt = v[i]
    return float(low + (x - lo) * (nxt - low))


def customer_chunks(cust: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Row ranges ``[lo, hi)`` that split the rows in about ``parts`` equal chunks, each starting
    at a customer's first row (so no customer, and no transition, spans two chunks)."""
    n = len(cust)
    cuts = [0]
    for j in range(1, max(1, parts)):
        if n == 0:
            break
        at = int(np.searchsorted(cust, cust[min(n * j // parts, n - 1)], "left"))
        if at > cuts[-1]:
            cuts.append(at)
    cuts.append(n)
    return list(itertools.pairwise(cuts))


def on_threads(fn: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """``[fn(x) for x in items]``, one thread per item: the kernels release the GIL, so the
    chunks of one analysis run on every core."""
    work = list(items)
    if len(work) <= 1:
        return [fn(x) for x in work]
    with ThreadPoolExecutor(max_workers=len(work), thread_name_prefix="klantreis-kernel") as pool:
        return list(pool.map(fn, work))


@njit(cache=True, nogil=True)
def link_in_order(  # pragma: no cover - compiled
    scattered: np.ndarray,
    origin: np.ndarray,
    event: np.ndarray,
    channel: np.ndarray,
    lut: np.ndarray,
    n_channels: int,
    not_linked: int,
    out: np.ndarray,
) -> None:
    """The link column in sequence order (``SequenceIndex._write_link``): each event's code
    from the SQL linking (``scattered``, in file order, at its ``origin``) or, where that did
    not link it (``not_linked``), from its (event, channel) pair's entry in ``lut``."""
    for i in range(out.shape[0]):
        v = scattered[origin[i]]
        if v == not_linked:
            v = lut[event[i] * n_channels + channel[i] + 1]
        out[i] = v


@njit(cache=True, nogil=True)
def code_of_pair(  # pragma: no cover - compiled
    first: np.ndarray, second: np.ndarray, table: np.ndarray, width: int, out: np.ndarray
) -> None:
    """Per row a code from two codes (-1: none) through a table in one pass:
    ``out[i] = table[(first[i] + 1) * width + second[i] + 1]`` (``sequence.codes_at_level``:
    the channel node from the row's channel and its touchpoint)."""
    for i in range(out.shape[0]):
        out[i] = table[(first[i] + 1) * width + second[i] + 1]
