"""specnb: how 2D audio representations shape CNN accuracy and adversarial robustness.

Packages and modules (one line each; see README, "Where things live"):

- :mod:`~specnb.errors` -- ``SpecnbError``, ``ParameterError`` and every error class; validators.
- :mod:`~specnb.atomic` -- atomic file writes.
- :mod:`~specnb.metrics` -- the metric definitions (accuracy, fooling rate, AUC, cost, SNR).
- :mod:`~specnb.cli` / ``__main__`` -- the ``specnb`` command line.
- :mod:`~specnb.data` -- datasets, audio loading, augmentation, splits, downloads.
- :mod:`~specnb.representations` -- settings, transforms, model images, features, cache, figures.
- :mod:`~specnb.models` -- the architectures and their registry.
- :mod:`~specnb.training` -- ``train_cv`` (images and waveforms), its config, checkpoints, figures.
- :mod:`~specnb.runs` -- a training job, training it, finding and loading finished runs.
- :mod:`~specnb.attacks` -- one class per attack (norm, targeting), over [0, 1] image batches.
- :mod:`~specnb.attack_eval` -- budget grids, running and recording attacks, tables, figures.
- :mod:`~specnb.listening` -- images back to audio, the black-box and cross-representation paths.
- :mod:`~specnb.raw_audio` -- waveform models' inputs, the waveform front end, restoration.
- :mod:`~specnb.studies` -- transferability, colour maps and architectures studies.
- :mod:`~specnb.store` -- the SQLite results store and its keys.
- :mod:`~specnb.report` -- the report notebook's tables, figures and verdicts.
- :mod:`~specnb.ui` -- the notebooks' explorers.
- :mod:`~specnb.bench` -- benchmarks, unit costs (CPU, GPU), the GPU check, the cost models.
- :mod:`~specnb.sweep` -- papermill execution of sweeps on Dask, and the main job.
"""

from specnb.errors import ParameterError, SpecnbError

__version__ = "0.1.0"

__all__ = ["ParameterError", "SpecnbError", "__version__"]
