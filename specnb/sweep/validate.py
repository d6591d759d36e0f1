"""Every point's values checked before anything runs: settings, models, datasets, attacks.

A sweep file can name a representation setting no notebook could build (``n_fft: -5``), a
model that is not registered (``resnet99``) or a dataset that does not exist; without this
check such a point fails only when its notebook executes, possibly hours into a sweep.
:func:`check_points` runs on every ``specnb sweep`` call, dry runs included, and raises a
:class:`~specnb.sweep.spec.SweepError` naming the file, the step and the point.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from specnb.sweep.grid import Point
from specnb.sweep.spec import SweepError, SweepSpec

__all__ = ["check_points", "check_value"]


def _setting(value: Any) -> None:
    from specnb.representations import setting_from_dict

    if not isinstance(value, dict) or "repr" not in value:
        raise ValueError(f"must be a mapping with a 'repr' field, got {value!r}")
    setting_from_dict(value)


def _settings(value: Any) -> None:
    values = value.values() if isinstance(value, dict) else value
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes)):
        raise ValueError(f"must be a list or mapping of settings, got {value!r}")
    for setting in values:
        _setting(setting)


def _model(value: Any) -> None:
    from specnb.models.registry import MODELS, WAVEFORM_MODELS

    if value not in (*MODELS, *WAVEFORM_MODELS):
        known = ", ".join((*MODELS, *WAVEFORM_MODELS))
        raise ValueError(f"unknown model {value!r}; known: {known}")


def _models(value: Any) -> None:
    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of models, got {value!r}")
    for model in value:
        _model(model)


def _dataset(value: Any) -> None:
    from specnb.data import DATASETS

    if value not in DATASETS:
        raise ValueError(f"unknown dataset {value!r}; known: {', '.join(DATASETS)}")


def _attacks(value: Any) -> None:
    from specnb.attack_eval.budgets import ATTACK_NAMES, canonical_attack

    if not isinstance(value, list) or not value:
        raise ValueError(f"must be a non-empty list of attacks, got {value!r}")
    for name in value:
        try:
            canonical_attack(name)
        except (KeyError, ValueError):
            raise ValueError(f"unknown attack {name!r}; known: {', '.join(ATTACK_NAMES)}") from None


#: The notebook parameters checked, and how.
CHECKS: dict[str, Callable[[Any], None]] = {
    "SETTING": _setting,
    "SETTINGS": _settings,
    "MODEL": _model,
    "VICTIM": _model,
    "MODEL_2D": _model,
    "MODEL_1D": _model,
    "MODELS": _models,
    "DATASET": _dataset,
    "ATTACKS": _attacks,
}


def check_value(name: str, value: Any) -> None:
    """Raise ``ValueError`` when the notebook parameter ``name`` cannot take ``value``.

    Examples
    --------
    >>> check_value("MODEL", "resnet99")
    Traceback (most recent call last):
    ...
    ValueError: unknown model 'resnet99'; known: ...
    """
    check = CHECKS.get(name)
    if check is not None:
        check(value)


def check_points(spec: SweepSpec, points: Iterable[Point]) -> None:
    """Check every point's settings, models, datasets and attacks before anything runs.

    Raises
    ------
    SweepError
        The first bad value: the message names the file, the step (its index and name),
        the point (its key and the parameter) and what would be accepted.
    """
    where = {step.name: step.where for step in spec.steps}
    for point in points:
        for name, value in point.params.items():
            try:
                check_value(name, value)
            except ValueError as error:  # SettingError is a ValueError too
                raise SweepError(
                    f"{spec.path}: {where[point.step]}, point {point.key}: {name}: {error}"
                ) from None
