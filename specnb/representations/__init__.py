"""2D audio representations: settings, the librosa/PyWavelets reference and the torch path."""

from specnb.representations.compute import BACKENDS, axes, represent
from specnb.representations.paper_grid import all_paper_settings, default_setting, paper_grid
from specnb.representations.reference import reference
from specnb.representations.settings import (
    COLORMAP_FAMILIES,
    COLORMAPS,
    MelSetting,
    MFCCSetting,
    Setting,
    SettingError,
    STFTSetting,
    WaveletSetting,
    make_setting,
    parse_assignments,
    setting_from_dict,
)
from specnb.representations.torch_backend import front_end

__all__ = [
    "BACKENDS",
    "COLORMAPS",
    "COLORMAP_FAMILIES",
    "MFCCSetting",
    "MelSetting",
    "STFTSetting",
    "Setting",
    "SettingError",
    "WaveletSetting",
    "all_paper_settings",
    "axes",
    "default_setting",
    "front_end",
    "make_setting",
    "paper_grid",
    "parse_assignments",
    "reference",
    "represent",
    "setting_from_dict",
]
