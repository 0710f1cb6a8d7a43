"""Whoosh imported lean: the modules Whoosh imports for a few functions kensaku never calls are
replaced by stand-ins while Whoosh is imported, so that a cold `kensaku search` does not load
them (urllib.request pulls in http.client, email and more; whoosh.lang.morph_en compiles a large
table of English word endings; whoosh.lang.porter and dmetaphone are English stemming and
phonetics; whoosh.util.times, for date fields, imports calendar and locale).

Importing this module does it, once, before any other module of the package imports Whoosh:
`search/__init__.py` imports it first.
"""

from __future__ import annotations

import importlib as _importlib
import sys as _sys
import types as _types

# Modules Whoosh imports for a few functions kensaku never calls, with those functions.
_UNUSED_BY_WHOOSH = {
    "urllib.request": ("urlretrieve",),
    "whoosh.lang.morph_en": ("variations",),
    "whoosh.lang.porter": ("stem",),
    "whoosh.lang.dmetaphone": ("double_metaphone",),
    "whoosh.util.times": ("datetime_to_long", "long_to_datetime"),
}


def _import_whoosh_lean() -> None:
    """Import Whoosh with stand-ins for `_UNUSED_BY_WHOOSH`, each of whose functions imports the
    real module if ever called. A stand-in leaves sys.modules as soon as Whoosh has taken the
    function from it, and a later import gets the real module; another thread that imports the
    module meanwhile gets the attributes of a private copy of the real one."""
    if "whoosh.query" in _sys.modules:
        return
    stand_ins = {
        module: _stand_in(module, functions)
        for module, functions in _UNUSED_BY_WHOOSH.items()
        if module not in _sys.modules
    }
    _sys.modules.update(stand_ins)
    try:
        _importlib.import_module("whoosh.query")
    finally:
        for module, stand_in in stand_ins.items():
            if _sys.modules.get(module) is stand_in:
                del _sys.modules[module]


def _stand_in(module: str, functions: tuple[str, ...]) -> _types.ModuleType:
    def calling_the_real_one(function: str):
        def call_the_real_one(*args, **kwargs):
            return getattr(_importlib.import_module(module), function)(*args, **kwargs)

        return call_the_real_one

    copies: list[_types.ModuleType] = []

    def attribute_of_the_real_one(name: str):
        if name == "__path__":
            # The import system's probe (`from m import f` asks whether m is a package) is not
            # a use of the module: answering it from the real one would load it after all.
            raise AttributeError(name)
        if not copies:
            copies.append(_private_copy(module))
        return getattr(copies[0], name)

    stand_in = _types.ModuleType(module)
    for function in functions:
        setattr(stand_in, function, calling_the_real_one(function))
    # PEP 562: a module's __getattr__ answers for any other attribute.
    stand_in.__getattr__ = attribute_of_the_real_one  # type: ignore[method-assign]
    return stand_in


def _private_copy(module: str) -> _types.ModuleType:
    """The real `module`, loaded apart from sys.modules (where its stand-in is)."""
    import importlib.machinery
    import importlib.util

    parent = _importlib.import_module(module.rpartition(".")[0])
    spec = importlib.machinery.PathFinder.find_spec(module, parent.__path__)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(module)
    copy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(copy)
    return copy


_import_whoosh_lean()
