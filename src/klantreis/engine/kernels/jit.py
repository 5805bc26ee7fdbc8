"""Numba's ``njit`` for the kernels, with two start-up costs of a new process taken out.

When its CPU target loads, Numba imports ``numba.np.arraymath``, which imports ``scipy.linalg``
only to note whether SciPy's BLAS is there (then ``np.convolve``/``np.correlate`` use it for
inner products): 0.2-0.3 s in every new process, a fifth of a CLI call, for functions no kernel
uses. In a process that has not imported ``scipy.linalg``, that module is therefore imported
with it hidden; Numba then uses its own loop for those inner products (same numbers), and
``scipy.linalg`` stays importable as usual (``np.dot`` and ``np.linalg`` import it when
compiled). A process that imported it already is left alone.

Loading a kernel from Numba's on-disk cache first refreshes the whole CPU target: it imports
and registers every typing and lowering rule Numba has (0.15-0.2 s, the largest part of a
kernel's first call in a new process), which only compiling needs. Loading machine code needs
the code generator and Numba's runtime (NRT). So, for the Numba version this was checked
against (``_CHECKED``), a kernel's cache load here initialises the runtime and loads; a kernel
that is not in the cache is compiled as before, and compiling refreshes the target itself
(``CompilerBase.__init__``). Only the caches of the kernels made by ``njit`` below do this. ``tests/test_kernels_start.py`` runs every kernel in a new process
against the same call in the test process. Another Numba version keeps Numba's own loading.
Every kernel module imports ``njit`` from here.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Any

import numba
from numba.core import caching

__all__ = ["njit"]


def _target_without_scipy() -> None:
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    sys.modules["scipy.linalg"] = None  # type: ignore[assignment]  # an import of it now fails
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get("scipy.linalg", 0) is None:
            del sys.modules["scipy.linalg"]


_target_without_scipy()

#: The Numba versions whose cache loading ``_load_without_refresh`` was checked against.
_CHECKED = ("0.68.",)


def _load_without_refresh(self: caching.Cache, sig: object, target_context: object) -> object:
    """``Cache.load_overload`` without refreshing the target's typing and lowering rules."""
    from numba.core.runtime import rtsys

    rtsys.initialize(target_context)
    with self._guard_against_spurious_io_errors():
        return self._load_overload(sig, target_context)
    return None  # an I/O error swallowed: Numba compiles the kernel


def njit(**options: Any) -> Callable[[Callable[..., Any]], Any]:
    """``numba.njit(**options)`` for a kernel; its cache (``cache=True``) loads without the
    target refresh. Only the kernels' own caches: other Numba code in the process (a notebook's)
    keeps Numba's loading."""

    def compile_later(fn: Callable[..., Any]) -> Any:
        dispatcher = numba.njit(**options)(fn)
        cache = getattr(dispatcher, "_cache", None)
        if numba.__version__.startswith(_CHECKED) and isinstance(cache, caching.Cache):
            cache.load_overload = types.MethodType(_load_without_refresh, cache)  # type: ignore[method-assign]
        return dispatcher

    return compile_later
