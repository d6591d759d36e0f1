"""The ε explorer of notebook 03: move the budget of a gradient attack and watch, and hear, it work.

One test image, one model: an ε slider and an attack menu (FGSM, BIM-a, BIM-b; untargeted or
aimed at a chosen class). Every change runs the attack once and redraws the amplified
perturbation, the adversarial image and the class probabilities before and after, states the
prediction (fooled: misclassified; aimed at a class, whether that target is hit beside it),
and, for STFT, Mel and MFCC models given the clean clip, plays the adversarial image turned
back into audio with its SNR against the clean clip. The reconstruction's own floor (the SNR
of the unperturbed image turned back to audio) is said once, above the players; at δ = 0 no
SNR is given.

DOM (for browser tests): the whole widget is a ``VBox`` with class
``specnb-epsilon-explorer``; inside it the ε ``SelectionSlider`` (class ``specnb-epsilon``,
label ``ε``, readout ``.widget-readout``), the attack ``Dropdown`` (``specnb-attack``, label
``attack``), the target ``Dropdown`` (``specnb-target``, label ``target``), the verdict
``HTML`` (``specnb-verdict``, ending in ``computed in X s, drawn in Y s``), the figure
``Image`` (``specnb-figure``) and the audio box (``specnb-audio``, two ``<audio>``
elements: clean, then adversarial; hidden without audio).
"""

from __future__ import annotations

import io
import math
import time
from typing import Any, Optional, Sequence

import ipywidgets as W
import numpy as np
import torch
from matplotlib.figure import Figure
from torch import Tensor, nn

from specnb.attack_eval.figures import amplified
from specnb.errors import ParameterError
from specnb.listening.attack_audio import can_listen, reconstruction_floor
from specnb.listening.reconstruction import image_to_audio
from specnb.metrics import fooled, hits_target, snr_db
from specnb.representations.settings import Setting
from specnb.ui.eps_attacks import EPSILONS, EXPLORER_ATTACKS, EXPLORER_LABELS, explorer_attack
from specnb.ui.explorer import wav_bytes

__all__ = ["EpsilonExplorer"]

_TOP_CLASSES = 8
_DPI = 80
_UNTARGETED = -1


class EpsilonExplorer:
    """Interactive ε explorer of FGSM and BIM on one image.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier of [0, 1] images returning logits.
    image : torch.Tensor, shape (3, H, W)
        The clean model image, in [0, 1].
    label : int
        Its true class.
    classes : sequence of str
        Class names.
    setting : Setting
        Representation of the image (for the audio).
    clean_audio : np.ndarray, shape (n_samples,), optional
        The clean clip at ``setting.sr`` Hz; with an STFT, Mel or MFCC setting the
        adversarial audio is reconstructed and played.
    attack : {"fgsm", "bim-a", "bim-b"}
        Attack shown first.
    eps : float
        ε shown first (one of :data:`~specnb.ui.eps_attacks.EPSILONS` or any value in [0, 1]).

    Attributes
    ----------
    widget : ipywidgets.VBox
        What to display.
    last : dict
        State of the last redraw: ``eps``, ``attack``, ``target`` (None: untargeted),
        ``clean_probs``, ``adv_probs`` (np.ndarray, shape (K,)), ``clean_pred``,
        ``adv_pred``, ``fooled`` (misclassified), ``hits_target`` (None when untargeted),
        ``adv_image`` (torch.Tensor), ``audio`` (np.ndarray or None), ``snr_db`` (float, or
        None without audio or when the image is unchanged), ``timing`` (seconds:
        ``attack_s``, ``audio_s``, ``draw_s``).
    floor_db : float or None
        The reconstruction's floor: SNR of the unperturbed image turned back to audio (None
        without audio).

    Raises
    ------
    ValueError
        An image that is not (3, H, W) in [0, 1], a label outside ``classes``, an unknown
        attack, or an ε outside [0, 1].

    Examples
    --------
    >>> explorer = EpsilonExplorer(model, image, 3, classes, setting, clean_audio=y)
    ... # doctest: +SKIP
    >>> explorer.set_epsilon(0.05)["adv_pred"]  # doctest: +SKIP
    7
    """

    def __init__(
        self,
        model: nn.Module,
        image: Tensor,
        label: int,
        classes: Sequence[str],
        setting: Setting,
        clean_audio: Optional[np.ndarray] = None,
        attack: str = "fgsm",
        eps: float = 0.01,
    ) -> None:
        image = torch.as_tensor(image).detach().float().cpu()
        if image.dim() != 3 or image.shape[0] != 3 or image.min() < 0 or image.max() > 1:
            raise ParameterError("image must be a (3, H, W) tensor in [0, 1]")
        if not 0 <= int(label) < len(classes):
            raise ParameterError(f"label={label} is not one of the {len(classes)} classes")
        names = [name for _, name in EXPLORER_ATTACKS]
        if attack not in names:
            raise ParameterError(f"attack={attack!r}; choose one of {names}")
        self.model = model
        self.device = next((p.device for p in model.parameters()), torch.device("cpu"))
        self.image = image
        self.label = int(label)
        self.classes = list(classes)
        self.setting = setting
        self.clean_audio = clean_audio if clean_audio is not None and can_listen(setting) else None
        self.floor_db = (
            None
            if self.clean_audio is None
            else reconstruction_floor(image, self.clean_audio, setting)
        )
        self.clean_probs = self._probabilities(image)
        self.last: dict[str, Any] = {}
        self.epsilon = W.SelectionSlider(
            options=self._eps_options(EPSILONS),
            value=EPSILONS[0],
            description="ε",
            continuous_update=False,
            layout=W.Layout(width="460px"),
        )
        self.attack = W.Dropdown(
            options=list(EXPLORER_ATTACKS),
            value=attack,
            description="attack",
            layout=W.Layout(width="220px"),
        )
        others = [(name, i) for i, name in enumerate(self.classes) if i != self.label]
        self.target = W.Dropdown(
            options=[("none (untargeted)", _UNTARGETED), *others],
            value=_UNTARGETED,
            description="target",
            layout=W.Layout(width="300px"),
        )
        self.verdict = W.HTML()
        self.figure = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto"))
        self.clean_player = W.Audio(autoplay=False, loop=False)
        self.adv_player = W.Audio(autoplay=False, loop=False)
        self.audio_box = W.VBox(
            [
                W.HTML("<b>clean clip</b>"),
                self.clean_player,
                W.HTML(
                    "<b>adversarial image, back to audio</b>"
                    + (
                        ""
                        if self.floor_db is None
                        else f" <i>(the reconstruction's own floor: the unperturbed image "
                        f"comes back at {self.floor_db:.1f} dB SNR)</i>"
                    )
                ),
                self.adv_player,
            ]
        )
        if self.clean_audio is None:
            self.audio_box.layout.display = "none"
        else:
            self.clean_player.value = wav_bytes(self.clean_audio, setting.sr)
        for widget, name in (
            (self.epsilon, "epsilon"),
            (self.attack, "attack"),
            (self.target, "target"),
            (self.verdict, "verdict"),
            (self.figure, "figure"),
            (self.audio_box, "audio"),
        ):
            widget.add_class(f"specnb-{name}")
        self._figure, self._axes, self._pictures = self._new_figure()
        self.widget = W.VBox(
            [
                W.HBox([self.attack, self.target]),
                self.epsilon,
                self.verdict,
                self.figure,
                self.audio_box,
            ]
        )
        self.widget.add_class("specnb-epsilon-explorer")
        self._holding = False
        for control in (self.epsilon, self.attack, self.target):
            control.observe(self._changed, names="value")
        self.set_epsilon(eps)

    # ----------------------------------------------------------------- public
    def set_epsilon(self, value: float) -> dict[str, Any]:
        """Move the slider to ``value`` (added to its stops if new), redraw, return :attr:`last`."""
        eps = float(value)
        if not (math.isfinite(eps) and 0 <= eps <= 1):
            raise ParameterError(f"eps must lie in [0, 1], got {value!r}")
        stops = {v for _, v in self.epsilon.options}
        self._holding = True
        try:
            if eps not in stops:
                self.epsilon.options = self._eps_options(sorted(stops | {eps}))
            self.epsilon.value = eps
        finally:
            self._holding = False
        if not self.last or self.last["eps"] != eps:
            self.refresh()
        return self.last

    def refresh(self) -> None:
        """Run the attack at the current settings and redraw everything."""
        eps, name = float(self.epsilon.value), str(self.attack.value)
        target = None if self.target.value == _UNTARGETED else int(self.target.value)
        start = time.perf_counter()
        adv = self._attack(name, eps, target)
        adv_probs = self._probabilities(adv)
        attacked = time.perf_counter()
        audio, snr = None, None
        if self.clean_audio is not None:
            audio = image_to_audio(adv, self.setting, reference_audio=self.clean_audio)
            snr = snr_db(self.clean_audio, audio) if bool((adv != self.image).any()) else None
            self.adv_player.value = wav_bytes(audio, self.setting.sr)
        heard = time.perf_counter()
        clean_pred, adv_pred = int(self.clean_probs.argmax()), int(adv_probs.argmax())
        fools = bool(fooled(adv_pred, self.label))
        hit = None if target is None else bool(hits_target(adv_pred, target))
        png = self._draw(adv, adv_probs, eps, name, adv_pred, fools)
        drawn = time.perf_counter()
        timing = {
            "attack_s": attacked - start,
            "audio_s": heard - attacked,
            "draw_s": drawn - heard,
        }
        self.last = {
            "eps": eps,
            "attack": name,
            "target": target,
            "clean_probs": self.clean_probs,
            "adv_probs": adv_probs,
            "clean_pred": clean_pred,
            "adv_pred": adv_pred,
            "fooled": fools,
            "hits_target": hit,
            "adv_image": adv,
            "audio": audio,
            "snr_db": snr,
            "timing": timing,
        }
        self.verdict.value = self._verdict_html()
        self.figure.value = png  # last: a new figure in the browser means all is updated

    # ----------------------------------------------------------------- internals
    def _changed(self, _change: Any = None) -> None:
        if not self._holding:
            self.refresh()

    @staticmethod
    def _eps_options(values: Sequence[float]) -> list[tuple[str, float]]:
        return [(f"{v:g}", float(v)) for v in values]

    def _attack(self, name: str, eps: float, target: Optional[int]) -> Tensor:
        attack = explorer_attack(self.model, name, eps, targeted=target is not None)
        x = self.image[None].to(self.device)
        y = torch.tensor([self.label], device=self.device)
        goal = None if target is None else torch.tensor([target], device=self.device)
        return attack(x, y, goal)[0].cpu()

    def _probabilities(self, image: Tensor) -> np.ndarray:
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                logits = self.model(image[None].to(self.device))
        finally:
            self.model.train(was_training)
        return torch.softmax(logits.float(), dim=1)[0].cpu().numpy()

    def _new_figure(self) -> tuple[Figure, list[Any], list[Any]]:
        """One figure reused by every redraw: two image panels and the probability chart."""
        fig = Figure(figsize=(11, 3.4), layout="constrained")
        axes = fig.subplots(1, 3, width_ratios=[1, 1, 1.4])
        blank = np.full((*self.image.shape[1:], 3), 0.5)
        pictures = [
            axes[0].imshow(blank, interpolation="nearest"),
            axes[1].imshow(blank, interpolation="nearest"),
        ]
        for ax in axes[:2]:
            ax.set_xticks([])
            ax.set_yticks([])
        return fig, list(axes), pictures

    def _draw(
        self, adv: Tensor, adv_probs: np.ndarray, eps: float, name: str, adv_pred: int, fooled: bool
    ) -> bytes:
        delta = adv - self.image
        picture, factor = amplified(delta)
        self._pictures[0].set_data(picture)
        self._axes[0].set_title(
            f"perturbation ×{factor:.3g}" if factor else "no perturbation", fontsize="medium"
        )
        self._pictures[1].set_data(adv.permute(1, 2, 0).numpy())
        self._axes[1].set_title(
            f"{EXPLORER_LABELS[name]} ε = {eps:g} → {self.classes[adv_pred]}",
            fontsize="medium",
            color="#c44e52" if fooled else "black",
        )
        chart = self._axes[2]
        chart.clear()
        top = np.argsort(-np.maximum(self.clean_probs, adv_probs))[:_TOP_CLASSES][::-1]
        rows = np.arange(len(top))
        chart.barh(rows + 0.2, self.clean_probs[top], height=0.4, color="#8c8c8c", label="clean")
        chart.barh(rows - 0.2, adv_probs[top], height=0.4, color="#c44e52", label="adversarial")
        chart.set_yticks(rows, [self.classes[i] for i in top], fontsize="small")
        chart.set(xlim=(0, 1), xlabel="probability", title="class probabilities")
        chart.legend(loc="lower right", fontsize="small")
        png = io.BytesIO()
        self._figure.savefig(png, format="png", dpi=_DPI)
        return png.getvalue()

    def _verdict_html(self) -> str:
        last = self.last
        clean, adv = last["clean_pred"], last["adv_pred"]
        aim = "" if last["target"] is None else f", aiming at <b>{self.classes[last['target']]}</b>"
        outcome = "<b style='color:#c44e52'>fooled</b>" if last["fooled"] else "<b>not fooled</b>"
        if last["hits_target"] is not None:
            outcome += ", target hit" if last["hits_target"] else ", target missed"
        sound = ""
        if last["snr_db"] is not None:
            sound = f"; adversarial audio SNR {last['snr_db']:.1f} dB"
        elif last["audio"] is not None:
            sound = "; no perturbation (δ = 0): no SNR"
        timing = last["timing"]
        return (
            f"true class <b>{self.classes[self.label]}</b>; clean prediction "
            f"<b>{self.classes[clean]}</b> ({last['clean_probs'][clean]:.2f}); adversarial "
            f"prediction <b>{self.classes[adv]}</b> ({last['adv_probs'][adv]:.2f}){aim}: "
            f"{outcome}{sound}<br><small>computed in "
            f"{timing['attack_s'] + timing['audio_s']:.2f} s, drawn in {timing['draw_s']:.2f} s"
            "</small>"
        )
