"""Compiled single-pass loops over the sequence index (Numba).

The sequence index (:mod:`klantreis.engine.sequence`) keeps every customer's events as one
contiguous, ordered run of small integers. A sequence analysis is then one pass over the rows
with a few counters, which NumPy can only express as several full-array passes plus a grouping
sort. Numba compiles these loops to machine code once (``cache=True`` keeps the compiled code
on disk, so a new process loads it instead of compiling), which is why the index path reads the
events about once instead of ten times. Chosen over a hand-written C extension: it is a
well-kept, widely used compiler for exactly this (NumPy arrays and loops), installs as a wheel,
and keeps the code in Python that the tests can read.

Every kernel reads a *selection*: per index row ``node`` (int32, -1 = not a node at the level),
``cust`` (int32, non-decreasing), ``ts`` (µs) and ``channel`` (int16, -1 = none); it keeps the
rows whose customer is in ``keep_customer``, whose channel + 1 is in ``keep_channel`` and whose
timestamp lies in ``[since, until)``. Durations are in whole seconds (``t_s``).

One module per analysis (``kernels.transitions``, …) plus ``kernels.common``, and
``kernels.distinct``, which reads no selection: it counts repeated 64-bit hashes for the ingest's
event id check (``store/adopt.py``) and the index build's run-start check. Each imports
Numba, so import them only where a kernel runs (the SQL path never needs Numba), and keep this
package's ``__init__`` free of imports.
"""
