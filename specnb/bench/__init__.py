"""Benchmarks (``specnb bench ...``) and the cost models built on their measurements.

Modules:

- :mod:`~specnb.bench.representations` -- the batched torch path against librosa/PyWavelets.
- :mod:`~specnb.bench.attacks` -- specnb's attacks against torchattacks.
- :mod:`~specnb.bench.unit_costs` -- unit costs of a sweep's work (training, attacks, features).
- :mod:`~specnb.bench.notebook_costs` -- each notebook's seconds from its parameters.
"""
