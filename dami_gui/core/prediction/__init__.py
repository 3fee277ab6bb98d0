"""Use what was labeled, outside the labeling loop.

``model_file``: the portable model (safetensors weights + a JSON description of the
architecture, the preprocessing and the classes; old ``.pt`` exports load too); ``safetensors``:
that file format, written and read with numpy alone; ``new_rows``: the project's model applied to
a new CSV (``dami predict``, File → Apply model to a file…).
"""
