"""How the tests compare float32 results that two code paths compute differently.

The same sum formed by matrix products of other shapes (a chunk of 5 rows or of 150, a block
formed again from the activation patterns) is rounded differently by different BLAS kernels:
on some CPUs (AVX-512) bit for bit the same, on others (AVX2) a few units in the last place
apart (about 4e-9 for entries near 0.03), and the thread count changes it too. So such results
are compared to float32 rounding, never bit for bit; what is exact (activation patterns, region
ids, picks, partitions) is still compared exactly by the tests that use this.
"""

from __future__ import annotations

import numpy as np

#: float32 carries about 7 digits; a sum of a few hundred products, taken in another order,
#: keeps about 5 of them (relative to the largest entry, since small entries are differences).
RTOL = 1e-5


def assert_float32_close(actual, desired, rtol: float = RTOL) -> None:
    """``actual`` equals ``desired`` to float32 rounding: within ``rtol`` of each entry or of
    the largest finite entry's size (entries near zero are sums that cancel); NaN and infinite
    entries (a labeled row's score) must be where ``desired`` has them."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    finite = np.abs(desired[np.isfinite(desired)])
    scale = float(finite.max()) if finite.size else 0.0
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=rtol * scale)
