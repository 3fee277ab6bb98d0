"""Query strategies behind one interface; `available()` names them, `get_strategy` builds one."""

from dami_gui.core.strategies import dami, dami_variants, geometric, simple  # noqa: F401  (registers the strategies)
from dami_gui.core.strategies.base import (
    DEFAULT_STRATEGY,
    ModelOutputs,
    QueryContext,
    QueryResult,
    QueryStrategy,
    available,
    describe,
    get_strategy,
)

__all__ = [
    "DEFAULT_STRATEGY",
    "ModelOutputs",
    "QueryContext",
    "QueryResult",
    "QueryStrategy",
    "available",
    "describe",
    "get_strategy",
]
