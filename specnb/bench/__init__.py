"""Benchmarks (``specnb bench ...``) and the cost models built on their measurements.

Modules:

- :mod:`~specnb.bench.representations` -- the batched torch path against librosa/PyWavelets.
- :mod:`~specnb.bench.attacks` -- specnb's attacks against torchattacks and Foolbox at equal work.
- :mod:`~specnb.bench.attack_victim` -- the attack benchmark's victim and its synthetic images.
- :mod:`~specnb.bench.attack_references` -- each attack beside its torchattacks/Foolbox references.
- :mod:`~specnb.bench.attack_comparison` -- timing, scoring and the table at equal work.
- :mod:`~specnb.bench.training` -- our training loop against a plain PyTorch loop, and the
  share of a measured peak.
- :mod:`~specnb.bench.unit_costs` -- unit costs of a sweep's work on a CPU or a GPU, their files.
- :mod:`~specnb.bench.sweep_costs` -- measuring them (``specnb bench sweep``; CUDA: GPU check).
- :mod:`~specnb.bench.attack_grid_costs` -- what an attack's budget grids cost per attacked
  sample, in seconds and input gradients.
- :mod:`~specnb.bench.victim_gradients` -- the input gradients attacks take on trained victims,
  counted from a store (``specnb bench victims``), for the dry run.
- :mod:`~specnb.bench.notebook_costs` -- each notebook's seconds from its parameters.
- :mod:`~specnb.bench.gpu_check` -- ``specnb doctor --gpu``: the CUDA paths against the CPU,
  the GPU's unit costs, a paper slice and the paper grid's GPU hours, each part in a process
  of its own with a time limit, and the summary.
- :mod:`~specnb.bench.gpu_parts` -- the GPU check's four parts: unit costs, the ``cuda``
  tests, a paper slice run as a sweep, the paper grid's projected GPU hours.
"""
