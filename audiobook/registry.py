"""Plugins by name: built-ins and installed entry points, found the same way.

Built-in engines and readers are declared as entry points in pyproject.toml,
like any third party's; the ``builtins`` a caller passes keep them reachable
from a source checkout whose metadata is not installed (the shape of
datasette's DEFAULT_PLUGINS). A plugin that shares a built-in's name does
not replace it.
"""
from __future__ import annotations

import importlib
from importlib.metadata import entry_points


def targets(group: str, builtins: dict[str, str]) -> dict[str, str]:
    """Name -> 'module:attribute', built-ins first, then installed plugins."""
    found = dict(builtins)
    for entry in entry_points(group=group):
        found.setdefault(entry.name, entry.value)
    return found


def load(target: str) -> type:
    """The class a 'module:attribute' target names; ImportError, saying why, when a
    plugin cannot be loaded however its import fails."""
    module, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except ImportError:
        raise
    except Exception as exc:  # noqa: BLE001 - a third party's module may fail in any way at import
        raise ImportError(f"{target}: {type(exc).__name__}: {exc}") from exc
