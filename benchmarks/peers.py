"""The same work through the tools people use today, end to end from the same Parquet file.

Each peer step runs in its own process and reports three timings: ``load`` (pandas reads the
columns it needs from the simulator's Parquet file), ``prepare`` (the tool's own structure:
pm4py's formatted log, retentioneering's Eventstream, ChannelAttribution's path strings) and
``analysis`` (the analysis step alone, on that prepared structure). Imports are not timed.

Definitions are the ones klantreis uses (see ``agreement``): a customer's events ordered by
time (the file's order breaks ties), directly-follows counts over all events, path variants of
all events (no repeats collapsed), an ordered funnel of raw event names without a window, and
Markov paths of channels split at each ``purchase`` (the conversion is not a touch).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = ["PEERS", "available", "run"]

#: (tool, analysis) pairs: the peer steps of the suite, and the klantreis analysis each mirrors.
PEERS: dict[str, str] = {
    "pm4py.transitions": "transitions",
    "pm4py.paths": "paths",
    "retentioneering.transitions": "transitions",
    "retentioneering.funnel": "funnel",
    "ChannelAttribution.attribution": "attribution",
    "pandas.transitions": "transitions",
    "pandas.paths": "paths",
    "pandas.funnel": "funnel",
}

_MODULES = {
    "pm4py": "pm4py",
    "retentioneering": "retentioneering",
    "ChannelAttribution": "ChannelAttribution",
    "pandas": "pandas",
}


def available(tool: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(_MODULES[tool]) is not None


def _load(files: list[str], columns: list[str]) -> pd.DataFrame:
    return pd.read_parquet(files, columns=columns)


def _top_variants(counts: dict[tuple[str, ...], int], k: int = 20) -> list[list[Any]]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], "\x1f".join(kv[0])))[:k]
    return [[list(p), int(n)] for p, n in ranked]


# -- pm4py -------------------------------------------------------------------------------------
def _pm4py_prepare(df: pd.DataFrame) -> Any:
    import pm4py

    return pm4py.format_dataframe(
        df, case_id="customer_id", activity_key="event", timestamp_key="timestamp"
    )


def pm4py_transitions(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    import pm4py

    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    log = _pm4py_prepare(df)
    clock("prepare")
    dfg, _start, _end = pm4py.discover_dfg(log)
    clock("analysis")
    return [[a, b, int(n)] for (a, b), n in dfg.items()]


def pm4py_paths(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    import pm4py

    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    log = _pm4py_prepare(df)
    clock("prepare")
    variants = pm4py.get_variants(log)
    clock("analysis")
    counts = {tuple(v): (n if isinstance(n, int) else len(n)) for v, n in variants.items()}
    return {"top": _top_variants(counts), "customers": int(sum(counts.values()))}


# -- retentioneering ---------------------------------------------------------------------------
def _eventstream(df: pd.DataFrame) -> Any:
    from retentioneering import Eventstream

    return Eventstream(
        df,
        schema={"path_cols": ["customer_id"], "event_col": "event", "timestamp_col": "timestamp"},
    )


def retentioneering_transitions(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    stream = _eventstream(df)
    clock("prepare")
    matrix = stream.transition_graph_data(edge_weight="count")
    clock("analysis")
    out = []
    synthetic = {"path_start", "path_end"}  # retentioneering's own start/end events
    for a, row in matrix.iterrows():
        for b, n in row.items():
            if pd.notna(n) and n > 0 and str(a) not in synthetic and str(b) not in synthetic:
                out.append([str(a), str(b), int(n)])
    return out


def retentioneering_funnel(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    stream = _eventstream(df)
    clock("prepare")
    data = stream.funnel_data(steps=list(spec["funnel_steps"]))
    clock("analysis")
    return [int(s["unique_paths"]) for s in data["steps"]]


# -- ChannelAttribution ------------------------------------------------------------------------
def channel_paths(df: pd.DataFrame, conversion: str) -> pd.DataFrame:
    """Path strings with total_conversions / total_null, as ChannelAttribution takes them."""
    is_conv = (df["event"] == conversion).astype("int64")
    path_no = is_conv.groupby(df["customer_id"], sort=False).cumsum() - is_conv
    touches = df.assign(path_no=path_no)[is_conv.to_numpy() == 0]
    converted = (
        df.loc[is_conv.to_numpy() == 1, ["customer_id"]].assign(path_no=path_no[is_conv == 1])
    ).drop_duplicates()
    converted["converted"] = 1
    paths = (
        touches.groupby(["customer_id", "path_no"], sort=False)["channel"]
        .agg(">".join)
        .rename("path")
        .reset_index()
        .merge(converted, on=["customer_id", "path_no"], how="left")
    )
    paths["converted"] = paths["converted"].fillna(0).astype("int64")
    out = paths.groupby("path", sort=False)["converted"].agg(["sum", "count"]).reset_index()
    out["total_null"] = out["count"] - out["sum"]
    return out.rename(columns={"sum": "total_conversions"})[
        ["path", "total_conversions", "total_null"]
    ]


def channelattribution_attribution(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        from ChannelAttribution import markov_model

    df = _load(spec["files"], ["customer_id", "event", "channel", "timestamp"])
    clock("load")
    data = channel_paths(df, spec["conversion"])
    clock("prepare")
    with contextlib.redirect_stdout(io.StringIO()):
        result = markov_model(
            data,
            "path",
            "total_conversions",
            var_null="total_null",
            order=1,
            sep=">",
            verbose=False,
            flg_pro=False,
        )
    clock("analysis")
    frame = result[0] if isinstance(result, (list, tuple)) else result
    return {
        str(c): float(v)
        for c, v in zip(frame["channel_name"], frame["total_conversions"], strict=True)
    }


# -- plain pandas ------------------------------------------------------------------------------
def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)


def pandas_transitions(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    df = _sorted(df)
    clock("prepare")
    nxt = df["event"].shift(-1)
    same = df["customer_id"].eq(df["customer_id"].shift(-1))
    pairs = pd.DataFrame({"source": df["event"][same], "target": nxt[same]})
    counts = pairs.value_counts()
    clock("analysis")
    return [[a, b, int(n)] for (a, b), n in counts.items()]


def pandas_paths(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    df = _sorted(df)
    clock("prepare")
    variants = df.groupby("customer_id", sort=False)["event"].agg(tuple).value_counts()
    clock("analysis")
    counts = {tuple(v): int(n) for v, n in variants.items()}
    return {"top": _top_variants(counts), "customers": int(sum(counts.values()))}


def pandas_funnel(spec: dict[str, Any], clock: Callable[[str], None]) -> Any:
    df = _load(spec["files"], ["customer_id", "event", "timestamp"])
    clock("load")
    df = _sorted(df)
    df["pos"] = range(len(df))
    clock("prepare")
    steps = list(spec["funnel_steps"])
    reached = df[df["event"] == steps[0]].groupby("customer_id", sort=False)["pos"].min()
    counts = [len(reached)]
    for step in steps[1:]:
        cand = df.loc[df["event"] == step, ["customer_id", "pos"]]
        j = cand.merge(reached.rename("prev").reset_index(), on="customer_id")
        reached = j[j["pos"] > j["prev"]].groupby("customer_id", sort=False)["pos"].min()
        counts.append(len(reached))
    clock("analysis")
    return counts


_STEPS: dict[str, Callable[[dict[str, Any], Callable[[str], None]], Any]] = {
    "pm4py.transitions": pm4py_transitions,
    "pm4py.paths": pm4py_paths,
    "retentioneering.transitions": retentioneering_transitions,
    "retentioneering.funnel": retentioneering_funnel,
    "ChannelAttribution.attribution": channelattribution_attribution,
    "pandas.transitions": pandas_transitions,
    "pandas.paths": pandas_paths,
    "pandas.funnel": pandas_funnel,
}


def _imports(name: str) -> None:
    """Import the tool before the clock starts (imports are not the tool's speed)."""
    import contextlib
    import importlib
    import io

    tool = name.split(".")[0]
    with contextlib.redirect_stdout(io.StringIO()):
        importlib.import_module(_MODULES[tool])
        if tool == "retentioneering":
            importlib.import_module("retentioneering.tools.transition_matrix")
            importlib.import_module("retentioneering.tools.funnel")


def run(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    _imports(name)
    timings: dict[str, float] = {}
    last = [time.perf_counter()]

    def clock(phase: str) -> None:
        now = time.perf_counter()
        timings[phase] = now - last[0]
        last[0] = now

    answer = _STEPS[name](spec, clock)
    return {"timings": timings, "answer": answer}
