"""The PEP 562 lazy-import ``__getattr__`` of humortune's packages, in a module that imports almost nothing.

`humortune/__init__.py` needs it before anything else, so it lives apart from `humortune._util` (whose
hashlib, json, tempfile and pathlib would otherwise load with every ``import humortune``; issue 13).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(package: str, lazy: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A PEP 562 module ``__getattr__``: names in ``lazy`` (name → defining module) import on first use.

    Packages use it so heavy dependencies load only when needed::

        __getattr__ = lazy_getattr(__name__, _LAZY, globals())

    A name that maps to the package's own submodule of that name (``"catalog": "humortune.catalog"``) is the
    submodule itself.
    """

    def __getattr__(name: str) -> Any:
        module = lazy.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module)
        value = imported if module == f"{package}.{name}" else getattr(imported, name)
        namespace[name] = value  # cache: the next access is a plain global lookup
        return value

    return __getattr__
