"""Query strategies behind one interface; `available()` names them, `get_strategy` builds one.

Everything the program needs to know about a strategy comes from it through the registry:
:func:`describe` (title, description), :func:`why_picked` / :func:`why_this_row` (why it
picked a row) and
:meth:`QueryStrategy.map_partition` (the groups the map draws).
"""

from dami_gui.core.strategies import (  # noqa: F401  (registers the strategies)
    dami,
    dami_blend,
    dami_variants,
    ensemble,
    geometric,
    simple,
)
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
    reads_ensemble,
    why_picked,
    why_this_row,
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
    "reads_ensemble",
    "why_picked",
    "why_this_row",
]
