"""The subprocess side of a step: ``python -m benchmarks.worker SPEC.json OUT.json``.

``SPEC`` names the step (``kind``: ``ours.ingest``, ``ours.prepare``, ``ours.analysis``,
``peer.<tool>.<analysis>``, ``floor``) and its inputs; the step's answer (its own timings and a
normalised result for the agreement checks) is written to ``OUT`` as JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def dispatch(spec: dict[str, Any]) -> dict[str, Any]:
    kind = spec["kind"]
    if kind.startswith("ours."):
        from . import ours

        return ours.run(kind.partition(".")[2], spec)
    if kind.startswith("peer."):
        from . import peers

        return peers.run(kind.partition(".")[2], spec)
    if kind == "floor":
        from . import floor

        return floor.run(spec)
    raise ValueError(f"unknown step kind {kind!r}")


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    answer = dispatch(spec)
    Path(sys.argv[2]).write_text(json.dumps(answer, default=str))


if __name__ == "__main__":
    main()
