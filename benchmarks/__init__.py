"""The klantreis benchmark suite (``make bench`` / ``python -m benchmarks``).

One module per concern:

dataset   sizes and the cached simulated data (``.bench-cache/``)
measure   run one step in a fresh subprocess: wall times and its own peak RSS (``wait4``)
worker    the subprocess side: dispatches a step to ours / peers / floor
ours      klantreis: ingest (Parquet, CSV) and each analysis through the public Python API
cli       klantreis through the CLI, a fresh process per call
peers     pm4py, retentioneering, ChannelAttribution and plain pandas doing the same work
floor     what the hardware allows: memory bandwidth, reading the needed Parquet columns
agreement results compared with the peers where the definitions are the same
report    docs/benchmarks.md
run       the orchestration (``python -m benchmarks --sizes 1M,10M``)
"""
