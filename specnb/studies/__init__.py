"""The studies of notebooks 04, 05 and 07: runs that differ in one thing, compared.

Modules
-------
runs
    :func:`study_job`, :func:`variants` and :func:`train_runs`: the base job of a study, its
    variants (another model, another colour map) and their training, shared by the notebooks
    and found again in the results store by run key.
robustness
    :func:`attack_runs`: the same attacks on the best fold model of every run (Tables 6, 8).
transfer
    :func:`measure_transfers` and :func:`write_transfers`: adversarial examples crafted on one
    model and tried on the others (Table 9).
colormaps
    Colour maps by family and :func:`colormap_variants` (§5.5).
figures
    Transfer heat maps, one clip under every colour map, architectures against ResNet-18.
"""

from specnb.runs.variants import (
    best_fold,
    load_best_models,
    study_job,
    train_runs,
    variants,
)
from specnb.studies.colormaps import (
    ALL_COLORMAPS,
    DEFAULT_COLORMAPS,
    colormap_family,
    colormap_variants,
    render_colormaps,
)
from specnb.studies.figures import (
    architecture_figure,
    colormap_figure,
    colormap_gallery,
    transfer_heatmaps,
    transfer_matrix,
)
from specnb.studies.robustness import (
    ROBUSTNESS_COLUMNS,
    attack_runs,
    robustness_summary,
)
from specnb.studies.transfer import (
    TransferResult,
    common_correct,
    mean_transfer,
    measure_transfers,
    point_grid,
    transfer_frame,
    write_transfers,
)

__all__ = [
    "ALL_COLORMAPS",
    "DEFAULT_COLORMAPS",
    "ROBUSTNESS_COLUMNS",
    "TransferResult",
    "architecture_figure",
    "attack_runs",
    "best_fold",
    "colormap_family",
    "colormap_figure",
    "colormap_gallery",
    "colormap_variants",
    "common_correct",
    "load_best_models",
    "mean_transfer",
    "measure_transfers",
    "point_grid",
    "render_colormaps",
    "robustness_summary",
    "study_job",
    "train_runs",
    "transfer_frame",
    "transfer_heatmaps",
    "transfer_matrix",
    "variants",
    "write_transfers",
]
