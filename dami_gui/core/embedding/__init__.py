"""2-D maps of the pool for display: PCA at once, UMAP when it is ready.

Both take the standardised feature matrix ``X`` (N × d) and return an ``(N, 2)`` float32 array
scaled to roughly unit spread, so that a view can switch from one to the other without the
points flying across the screen. :func:`pca_layout` (:mod:`.pca`) is one d × d
eigendecomposition; :func:`umap_layout` (:mod:`.umap_fit`) is the full UMAP fit on pools of up to
:data:`LANDMARKS` rows and, above, a fit on that many landmark rows with every other row placed
by its nearest landmarks (:mod:`.landmarks`); :func:`warm_up_umap` compiles umap's numba code in
advance, and :mod:`.numba_cache` keeps the compiled code between runs.
"""

from dami_gui.core.embedding.landmarks import LANDMARKS, landmark_layout
from dami_gui.core.embedding.pca import pca_layout
from dami_gui.core.embedding.umap_fit import umap_is_warm, umap_layout, warm_up_umap

__all__ = [
    "LANDMARKS",
    "landmark_layout",
    "pca_layout",
    "umap_is_warm",
    "umap_layout",
    "warm_up_umap",
]
