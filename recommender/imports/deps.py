"""The import's packages (the ``import`` extra), looked for once, before any page is read."""

from __future__ import annotations

import importlib
import importlib.util

from ..errors import MissingDependencyError

__all__ = ["INSTALL", "require"]

#: The install hint of the import's packages.
INSTALL = "pip install 'recommender[import]'"
#: module -> package, in the order they are checked.
_PACKAGES = (("lxml", "lxml"), ("lxml_html_clean", "lxml_html_clean"),
             ("trafilatura", "trafilatura"), ("htmldate", "htmldate"), ("courlan", "courlan"),
             ("warcio", "warcio"), ("feedparser", "feedparser"))


def require() -> None:
    """Raise :class:`~recommender.errors.MissingDependencyError` (with the install hint)
    unless the import's packages are installed. trafilatura is imported, not only looked
    up: with lxml 5.2 or later it fails to import without lxml_html_clean."""
    for module, package in _PACKAGES:
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(f"importing pages needs {package}, which is not "
                                         f"installed: {INSTALL}")
    try:
        importlib.import_module("trafilatura")
    except ImportError as exc:
        raise MissingDependencyError(f"importing pages needs trafilatura, which cannot be "
                                     f"imported ({' '.join(str(exc).split())[:120]}): "
                                     f"{INSTALL}") from None
