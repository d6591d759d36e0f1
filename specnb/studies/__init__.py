"""The studies of notebooks 04, 05 and 07: runs that differ in one thing, compared.

Modules
-------
- ``colormaps`` -- Colour maps as a study variable (§5.5, Table 8).
- ``figures`` -- Figures of the studies: transfer heat maps, one clip under every colour map, and
  the architectures against ResNet-18.
- ``robustness`` -- Accuracy and robustness of several runs side by side (Tables 6 and 8).
- ``transfer`` -- Transferability of adversarial examples between models of one representation
  (Table 9).
"""

from specnb.runs.variants import (
    best_fold,
    job_from_parameters,
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
    "job_from_parameters",
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
