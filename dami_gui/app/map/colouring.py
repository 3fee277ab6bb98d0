"""The colour of each DAMI group or linear region on the map: a dozen family hues, shades inside.

Colouring by 40-80 DAMI groups, one colour each, reads as confetti. Here the groups of the
current colour mode are put into families (:func:`dami_gui.core.families.group_families`): first
the class the model predicts for most of the group's rows, so a family takes that class's own hue
(blue dots: groups the model calls "sky"); with more classes than the map can show, the closest
classes share a family (then hues come from the palette, one per family). Inside a family each
group gets a shade, light to dark, similar groups next to each other (a DAMI group compared by
its center row's input, a region by its mean input). Every row keeps its exact group: the hover
and the legend name it.

:func:`colouring` gives a :class:`Colouring` for the session's last round and a mode ("groups":
the round's partition; "regions": the :data:`TOP_REGIONS` largest exact regions, the rest grey),
computed once per round, mode and class colours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dami_gui.app.palette import (
    CLASS_COLORS,
    GREY,
    NO_PREDICTION,
    ClassColors,
    shades,
    without_hue,
)
from dami_gui.app.panels.round_view import TOP_REGIONS, round_view
from dami_gui.core.families import MAX_FAMILIES, Families, group_families, group_means
from dami_gui.core.session import Session


@dataclass(frozen=True)
class Colouring:
    """Colours of one mode for one round.

    ``group_of_row[r]``: the coloured unit (DAMI group index, or region rank) of row ``r``, -1
    when the row is not coloured (a region outside the largest); ``colours[g]`` the colour of
    unit ``g``; ``family_names[f]`` what family ``f`` is, in plain words; ``family_colours[f]``
    its shades in order; ``unit`` "group" or "region".
    """

    mode: str
    unit: str
    group_of_row: np.ndarray
    colours: list[str]
    families: Families
    family_names: list[str]
    family_colours: list[list[str]]

    @property
    def n_units(self) -> int:
        return len(self.colours)

    def unit_name(self, g: int) -> str:
        """ "DAMI group 12" or "linear region 3" (1-based, as the tables show them)."""
        return f"DAMI group {g + 1}" if self.unit == "group" else f"linear region {g + 1}"

    def rows_of_unit(self, g: int) -> np.ndarray:
        return np.flatnonzero(self.group_of_row == g)

    def rows_of_family(self, f: int) -> np.ndarray:
        units = np.asarray(self.families.groups[f], dtype=np.int64)
        return np.flatnonzero(np.isin(self.group_of_row, units))

    def describe(self, g: int) -> str:
        """Which family and shade unit ``g`` has, and how many rows share it."""
        fam = self.families
        f = int(fam.family[g]) if 0 <= g < len(fam.family) else -1
        size = int(fam.group_size[g]) if 0 <= g < len(fam.group_size) else 0
        if f < 0:
            return f"{self.unit_name(g)} ({size:,} rows)"
        return (
            f"{self.unit_name(g)}: {size:,} rows; colour: the {self.family_names[f]} family, "
            f"shade {int(fam.shade[g]) + 1} of {len(fam.groups[f])}"
        )


def _stand_in(code: int, colors: ClassColors, n_classes: int) -> str:
    """A palette hue for the groups of class ``code`` whose own colour has none (black, grey):
    one no class uses, else the class's default colour."""
    used = {colors[i].lower() for i in range(n_classes)}
    free = [c for c in CLASS_COLORS if c.lower() not in used]
    return free[code % len(free)] if free else CLASS_COLORS[code % len(CLASS_COLORS)]


def _family_name(classes: tuple[int, ...], names: list[str]) -> str:
    words = [names[c] if 0 <= c < len(names) else "no prediction" for c in classes]
    return " / ".join(words)


def _units(session: Session, mode: str) -> tuple[np.ndarray, int, str] | None:
    view = round_view(session)
    if view is None:
        return None
    if mode == "groups" and view.result.partition is not None:
        partition = np.asarray(view.result.partition, dtype=np.int64)
        if partition.shape != (session.n_rows,):
            return None
        centers = view.result.centers
        n = max(
            int(partition.max()) + 1 if len(partition) else 0,
            0 if centers is None else len(centers),
        )
        return partition, n, "group"
    if mode == "regions" and view.n_regions > 0:
        rank = view.region_rank
        top = min(TOP_REGIONS, view.n_regions)
        return np.where((rank >= 0) & (rank < top), rank, -1), top, "region"
    return None


def _compute(session: Session, mode: str, colors: ClassColors) -> Colouring | None:
    units = _units(session, mode)
    view = round_view(session)
    if units is None or view is None:
        return None
    group_of_row, n_units, unit = units
    inside = group_of_row >= 0
    X = session.dataset.X
    centers = view.result.centers
    if unit == "group" and centers is not None and len(centers) == n_units:
        # a DAMI group is described by its center row (no pass over the pool at 1M rows)
        g, prediction = group_of_row, view.prediction
        vectors = np.asarray(X[np.asarray(centers, dtype=np.int64)], dtype=np.float64)
    else:
        g, prediction = group_of_row[inside], view.prediction[inside]
        vectors = group_means(g, X[inside], n_units)
    families = group_families(g, prediction, vectors, cap=MAX_FAMILIES)
    one_class_each = all(len(ks) == 1 for ks in families.classes)
    names, family_colours = [], []
    colours = [GREY] * n_units
    for f, (ks, chain) in enumerate(zip(families.classes, families.groups, strict=True)):
        if ks == (-1,):
            hue = NO_PREDICTION
        elif one_class_each and not without_hue(colors[ks[0]]):
            hue = colors[ks[0]]  # family = predicted class: the class's own hue
        elif one_class_each:  # a class coloured black or grey: its groups get a palette hue
            hue = _stand_in(ks[0], colors, len(session.classes))
        else:
            hue = CLASS_COLORS[f % len(CLASS_COLORS)]  # merged classes: one palette hue each
        steps = shades(hue, len(chain))
        for unit_index, colour in zip(chain, steps, strict=True):
            colours[unit_index] = colour
        names.append(_family_name(ks, session.classes))
        family_colours.append(steps)
    return Colouring(mode, unit, group_of_row, colours, families, names, family_colours)


#: (mode, class colours) -> (the round it was computed for, its colouring): one round per mode,
#: so an earlier round (or session) is not kept alive by the cache.
_CACHE: dict[tuple[str, tuple[str, ...]], tuple[object, Colouring | None]] = {}


def colouring(session: Session, mode: str, colors: ClassColors) -> Colouring | None:
    """The colouring of ``mode`` for the session's last round (cached), or None (no round, or a
    mode that is not coloured by groups)."""
    result = session.last_round
    if result is None or mode not in ("groups", "regions"):
        return None
    key = (mode, tuple(colors.as_list(len(session.classes))))
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not result:
        if len(_CACHE) > 4:
            _CACHE.clear()
        cached = (result, _compute(session, mode, colors))
        _CACHE[key] = cached
    found = cached[1]
    if found is not None and len(found.group_of_row) != session.n_rows:
        return None
    return found
