"""The interactive representation explorer of notebook 01 (ipywidgets 8).

Pick a dataset, a class and a clip, a representation and every one of its settings, and see the
waveform, the representation with axes in Hz and seconds, and the 128x128 model image; hear the
clip; compare two settings side by side. All computation goes through the same functions the
batch pipeline uses, so what is shown is what a model is trained on.
"""

from __future__ import annotations

import dataclasses
import io
import time
from typing import Any, Callable, Mapping

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np

from specnb.data.clips import AudioDataset, Clip
from specnb.representations import COLORMAPS, Setting, SettingError, make_setting
from specnb.representations.compute import represent
from specnb.representations.figures import explorer_figure
from specnb.representations.images import setting_image

__all__ = ["SettingPanel", "RepresentationExplorer", "FIELD_CHOICES"]

#: Choices offered per setting field (the paper's grid, plus librosa's defaults).
FIELD_CHOICES: dict[str, tuple[Any, ...]] = {
    "sr": (8000, 16000, 22050, 24000),
    "n_mfcc": (13, 20, 40),
    "hop_length": (None, 128, 256, 512, 1024),
    "dct_norm": ("ortho", "none"),
    "lifter": (0.0, 0.5, 1.0, 1.5, 2.0, 2.5),  # as d, the multiple of n_mfcc (L = d * n_mfcc)
    "n_fft": (512, 1024, 2048),
    "win_length": (0.2, 0.25, 0.4, 0.5, 0.6, 0.75, 0.8, 1.0),  # as a fraction of n_fft
    "n_mels": (64, 128),
    "wavelet": ("haar", "mexh", "cmor1.5-1.0"),
    "frame_ms": (30.0, 40.0, 50.0, 60.0, 70.0),
    "overlap": (0.25, 0.5, 0.75),
    "n_scales": (32, 64, 128),
    "f_min": (20.0, 50.0, 100.0),
    "per_coefficient": (False, True),
}
_LABELS = {"lifter": "lifter d", "win_length": "window ×n_fft", "per_coefficient": "row scaling"}
#: What a dropdown holds for a field left to its default (None): a Dropdown whose value is None
#: shows an empty box, as if nothing were selected.
_DEFAULT = "default"
#: Sizes that fit two setting panels side by side in a JupyterLab notebook (about 1000 px);
#: a narrower notebook wraps the second panel below the first instead of clipping both.
_FIELDS_PER_ROW = 2
_FIELD_LAYOUT = {"width": "230px"}
_FIELD_STYLE = {"description_width": "95px"}
_PANEL_LAYOUT = {"width": "480px", "flex": "0 0 auto", "margin": "0 16px 8px 0"}
_FIGURE_DPI = 100
_WAVEFORMS_KEPT = 8


class SettingPanel:
    """Widgets for one representation setting; ``setting`` reads them back, validated."""

    def __init__(self, repr: str = "stft", on_change: Callable[[], None] | None = None) -> None:
        self._on_change = on_change
        self._holding = False
        self.repr = W.ToggleButtons(
            options=["mfcc", "stft", "mel", "wavelet"], value=repr, style={"button_width": "100px"}
        )
        self.fields = W.VBox()
        self.error = W.HTML()
        self.box = W.VBox([self.repr, self.fields, self.error], layout=W.Layout(**_PANEL_LAYOUT))
        self._controls: dict[str, W.Dropdown] = {}
        self.repr.observe(self._rebuild, names="value")
        self._rebuild()

    def _rebuild(self, _change: Any = None) -> None:
        default = make_setting(self.repr.value)
        controls: dict[str, W.Dropdown] = {}
        for f in dataclasses.fields(default):
            if f.name in FIELD_CHOICES:
                options = [
                    (_DEFAULT, _DEFAULT) if v is None else (str(v), v)
                    for v in FIELD_CHOICES[f.name]
                ]
                value = _widget_value(f.name, getattr(default, f.name))
                if value not in FIELD_CHOICES[f.name] and value != _DEFAULT:
                    options.append((str(value), value))
            elif f.name == "colormap":
                options = [(name, name) for name in COLORMAPS]
                value = default.colormap
            else:
                continue
            controls[f.name] = W.Dropdown(
                options=options,
                value=value,
                description=_LABELS.get(f.name, f.name),
                layout=W.Layout(**_FIELD_LAYOUT),
                style=_FIELD_STYLE,
            )
            controls[f.name].observe(self._changed, names="value")
        self._controls = controls
        widgets = list(controls.values())
        self.fields.children = [
            W.HBox(widgets[i : i + _FIELDS_PER_ROW])
            for i in range(0, len(widgets), _FIELDS_PER_ROW)
        ]
        self._changed()

    def _changed(self, _change: Any = None) -> None:
        if self._on_change is not None and not self._holding:
            self._on_change()

    @property
    def setting(self) -> Setting:
        """The setting the widgets describe (raises SettingError for impossible ones)."""
        values = {
            name: None if w.value == _DEFAULT else w.value for name, w in self._controls.items()
        }
        if "lifter" in values:
            values["lifter"] = values["lifter"] * values["n_mfcc"]
        if "win_length" in values:
            values["win_length"] = int(round(values["win_length"] * values["n_fft"]))
        return make_setting(self.repr.value, **values)

    def set(self, setting: Setting) -> None:
        """Show ``setting`` in the widgets, then notify once (not once per field)."""
        self._holding = True
        try:
            self.repr.value = setting.kind
            for name, w in self._controls.items():
                value = getattr(setting, name)
                if name == "lifter":
                    value = value / setting.n_mfcc
                elif name == "win_length":
                    value = (setting.win_length or setting.n_fft) / setting.n_fft
                w.value = _DEFAULT if value is None else value
        finally:
            self._holding = False
        self._changed()


def _widget_value(name: str, value: Any) -> Any:
    if name == "lifter":
        return 0.0
    if name == "win_length":
        return 1.0
    return _DEFAULT if value is None else value


class RepresentationExplorer:
    """Explore clips and representation settings interactively.

    Parameters
    ----------
    datasets : mapping of str to AudioDataset
        The datasets offered in the dataset dropdown (e.g. the synthetic set and ESC-10).
    backend : {"torch", "reference"}
        Which path computes the representations.

    Examples
    --------
    >>> from specnb.data import load_dataset
    >>> explorer = RepresentationExplorer({"synthetic": load_dataset("synthetic")})
    >>> explorer.widget  # doctest: +SKIP
    """

    def __init__(self, datasets: Mapping[str, AudioDataset], backend: str = "torch") -> None:
        self.datasets = dict(datasets)
        self.backend = backend
        self._ready = False
        self.dataset = W.Dropdown(options=list(self.datasets), description="dataset")
        self.category = W.Dropdown(description="class")
        self.clip = W.Dropdown(description="clip", layout=W.Layout(width="360px"))
        self.compare = W.Checkbox(
            value=False,
            description="compare with a second setting",
            indent=False,
            layout=W.Layout(width="auto"),
        )
        self.left = SettingPanel("stft", on_change=self.refresh)
        self.right = SettingPanel("mfcc", on_change=self.refresh)
        self.right.box.layout.display = "none"
        self.figure = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self.audio = W.Audio(autoplay=False, loop=False)
        self.stats = W.HTML()
        self.last_timing: dict[str, float] = {}
        self._waveforms: dict[tuple[str, str, int], np.ndarray] = {}
        self.dataset.observe(self._dataset_changed, names="value")
        self.category.observe(self._category_changed, names="value")
        self.clip.observe(lambda _c: self.refresh(), names="value")
        self.compare.observe(self._compare_changed, names="value")
        self.widget = W.VBox(
            [
                W.HBox([self.dataset, self.category, self.clip]),
                W.HBox([self.left.box, self.right.box], layout=W.Layout(flex_flow="row wrap")),
                self.compare,
                self.audio,
                self.stats,
                self.figure,
            ]
        )
        self._ready = True
        self._dataset_changed()

    def _dataset_changed(self, _change: Any = None) -> None:
        ds = self.datasets[self.dataset.value]
        _select_first(self.category, list(ds.classes))

    def _category_changed(self, _change: Any = None) -> None:
        ds = self.datasets[self.dataset.value]
        if self.category.value is None:
            return
        label = ds.classes.index(self.category.value)
        _select_first(
            self.clip, [c.clip_id for c in ds.clips if c.label == label and c.is_original]
        )

    def _compare_changed(self, _change: Any = None) -> None:
        self.right.box.layout.display = "" if self.compare.value else "none"
        self.refresh()

    def settings(self) -> list[Setting]:
        """The setting(s) currently selected (two when comparing)."""
        panels = [self.left, self.right] if self.compare.value else [self.left]
        return [p.setting for p in panels]

    def refresh(self) -> None:
        """Recompute and redraw for the current selection.

        The figure is rendered here to PNG bytes, so that it shows whatever matplotlib backend
        the kernel runs (``display(fig)`` under Agg shows only ``<Figure size ...>``).
        ``last_timing`` holds the seconds spent computing and drawing, also shown under the
        statistics.
        """
        if not getattr(self, "_ready", False) or not self.clip.value:
            return
        ds = self.datasets[self.dataset.value]
        clip = ds.by_id(self.clip.value)
        try:
            settings = self.settings()
        except SettingError as exc:
            self.stats.value = f"<b style='color:#b00'>impossible setting: {exc}</b>"
            return
        start = time.perf_counter()
        panels, rows = [], []
        for setting in settings:
            y = self._waveform(ds, clip, setting.sr)
            raw = represent(y, setting, backend=self.backend)
            panels.append((setting, raw, setting_image(np.asarray(raw, dtype=np.float32), setting)))
            rows.append(
                _row(
                    setting.label(),
                    raw.shape,
                    f"{raw.min():.2f}",
                    f"{raw.max():.2f}",
                    f"{raw.mean():.2f}",
                )
            )
        computed = time.perf_counter()
        y = self._waveform(ds, clip, settings[0].sr)
        title = f"{ds.name} · {ds.classes[clip.label]} · {clip.clip_id}"
        fig = explorer_figure(y, panels, title=title)
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=_FIGURE_DPI)
        plt.close(fig)
        drawn = time.perf_counter()
        self.last_timing = {"compute_s": computed - start, "draw_s": drawn - computed}
        self.figure.value = png.getvalue()
        self.audio.value = wav_bytes(y, settings[0].sr)
        self.stats.value = (
            f"<table>{_row('setting', 'shape', 'min', 'max', 'mean', cell='th')}{''.join(rows)}"
            "</table>"
            f"<small>computed in {computed - start:.2f} s, drawn in {drawn - computed:.2f} s"
            "</small>"
        )
        self.last_panels = panels

    def _waveform(self, ds: AudioDataset, clip: Clip, sr: int) -> np.ndarray:
        """``ds.load(clip, sr)``, kept for the last few (clip, rate) pairs.

        A change of any setting but ``sr`` then does not read and resample the clip again.
        """
        key = (ds.cache_key, clip.clip_id, sr)
        if key not in self._waveforms:
            if len(self._waveforms) >= _WAVEFORMS_KEPT:
                self._waveforms.pop(next(iter(self._waveforms)))
            self._waveforms[key] = ds.load(clip, sr)
        return self._waveforms[key]


def _row(*values: Any, cell: str = "td") -> str:
    """One row of the statistics table: the setting left-aligned, its numbers right-aligned."""
    cells = [
        f"<{cell} style='padding:1px 10px;text-align:{'left' if i == 0 else 'right'}'>"
        f"{value}</{cell}>"
        for i, value in enumerate(values)
    ]
    return f"<tr>{''.join(cells)}</tr>"


def _select_first(dropdown: W.Dropdown, options: list[str]) -> None:
    """Offer ``options`` and select the first one, so that observers always fire once."""
    dropdown.value = None
    dropdown.options = options
    dropdown.value = options[0] if options else None


def wav_bytes(y: np.ndarray, sr: int) -> bytes:
    """Encode a mono waveform (values in [-1, 1]) as 16-bit PCM WAV bytes for an Audio widget."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(
        buf, np.clip(np.asarray(y, dtype=np.float32), -1.0, 1.0), sr, format="WAV", subtype="PCM_16"
    )
    return buf.getvalue()
