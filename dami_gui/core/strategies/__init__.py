"""Query strategies behind one interface; `available()` names them, `get_strategy` builds one.

Everything the program needs to know about a strategy comes from it through the registry:
:func:`describe` (title, description), :func:`why_picked` (why it picked a row) and
:meth:`QueryStrategy.map_partition` (the groups the map draws).
"""

from dami_gui.core.strategies import dami, dami_variants, geometric, simple  # noqa: F401  (registers the strategies)
from dami_gui.core.strategies.base import (
    DEFAULT_STRATEGY,
    MapPartition,
    ModelOutputs,
    QueryContext,
    QueryResult,
    QueryStrategy,
    available,
    describe,
    get_strategy,
    why_picked,
)

__all__ = [
    "DEFAULT_STRATEGY",
    "MapPartition",
    "ModelOutputs",
    "QueryContext",
    "QueryResult",
    "QueryStrategy",
    "available",
    "describe",
    "get_strategy",
    "why_picked",
]
