"""A few bytes of a file changed at random: what the fuzz tests of files damage them with.

:data:`changes` draws 1 to 4 changes, each an offset and a byte to xor there, anywhere in the file
or near one of the places where damage does most harm (the markers a test names: a field's name,
a header); :func:`damaged` applies them. Used by tests/core/test_project_fuzz.py (project files)
and tests/core/test_model_fuzz.py (exported models).
"""

from __future__ import annotations

import re

from hypothesis import strategies as st

#: A few bytes changed (xor), each anywhere in the file or near one of the markers.
changes = st.lists(
    st.tuples(
        st.booleans(),  # near a marker?
        st.integers(min_value=0, max_value=1 << 20),
        st.integers(min_value=1, max_value=255),
    ),
    min_size=1,
    max_size=4,
)


def damaged(good: bytes, markers: tuple[bytes, ...], flips: list[tuple[bool, int, int]]) -> bytes:
    """``good`` with each change of ``flips`` applied: at its offset (modulo the size), or within
    48 bytes of a marker's place (the offset picks which)."""
    near = [m.start() for marker in markers for m in re.finditer(re.escape(marker), good)]
    data = bytearray(good)
    for at_marker, offset, flip in flips:
        if at_marker and near:
            offset = near[offset % len(near)] + offset % 97 - 48
        data[offset % len(data)] ^= flip
    return bytes(data)
