"""2D audio representations: settings, the librosa/PyWavelets reference and the torch path.

Modules
-------
- ``cache`` -- On-disk cache of raw representations, one ``.npy`` file per (dataset, clip, setting).
- ``compute`` -- One entry point for every representation: :func:`represent`, and the plot axes of a
  result.
- ``cwt`` -- The continuous wavelet transform of the scalogram: mother wavelets, scales,
  discretisation.
- ``features`` -- Dataset to raw representations to model images, computing each representation
  once.
- ``figures`` -- Matplotlib figures shared by the notebooks: waveforms, representations, model
  images.
- ``images`` -- From a raw 2D representation to the model image, and approximately back.
- ``inverse`` -- The way back: from a model image or a raw representation to an STFT magnitude,
  and from a magnitude to audio.
- ``paper_grid`` -- The paper's grid of representation settings (§4.1, §5.4), as data.
- ``reference`` -- Reference representations computed with librosa (and PyWavelets for the
  scalogram).
- ``settings`` -- Representation settings: small frozen, validated, hashable dataclasses.
- ``statistics`` -- Batch mode of the explorer: example figures and a table of feature statistics
  per setting.
- ``torch_backend`` -- Batched, differentiable torch front ends that reproduce the librosa
  reference.
- ``wavelets`` -- Wavelet scalogram (the paper's "DWT"): a framed continuous-wavelet magnitude in
  dB.
"""

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
