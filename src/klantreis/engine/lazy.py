"""Ibis, imported on first use.

Importing Ibis and loading its DuckDB backend costs about half a second per process. An analysis
that the sequence or responses index answers (ADR 0012) builds no Ibis expression, and the CLI
starts a new process per call, so engine modules take ``ibis`` and ``ir`` (``ibis.expr.types``)
from here instead of importing them: for type checkers they are the modules themselves; at run
time the module is imported on the first attribute read (``ibis.literal``, ``ir.Table``, …).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

__all__ = ["ibis", "ir"]


class _OnFirstUse(ModuleType):
    """Stands for the module ``name`` and imports it when an attribute is first read."""

    def __getattr__(self, attr: str) -> Any:
        value = getattr(importlib.import_module(self.__name__), attr)
        self.__dict__[attr] = value  # later reads skip this method
        return value


if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
else:
    ibis = _OnFirstUse("ibis")
    ir = _OnFirstUse("ibis.expr.types")
