"""Numba's ``njit`` for the kernels, with Numba's CPU target set up without importing SciPy.

When its CPU target loads, Numba imports ``numba.np.arraymath``, which imports ``scipy.linalg``
only to note whether SciPy's BLAS is there (then ``np.convolve``/``np.correlate`` use it for
inner products): 0.2-0.3 s in every new process, a fifth of a CLI call, for functions no kernel
uses. In a process that has not imported ``scipy.linalg``, that module is therefore imported
with it hidden; Numba then uses its own loop for those inner products (same numbers), and
``scipy.linalg`` stays importable as usual (``np.dot`` and ``np.linalg`` import it when
compiled). A process that imported it already is left alone. Every kernel module imports
``njit`` from here.
"""

from __future__ import annotations

import sys

from numba import njit

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
