"""How each attack runs unless told otherwise: targeted or not as in the paper, the targeting
modes it supports, and its norm."""

from __future__ import annotations

from typing import Optional

from specnb.errors import ParameterError

__all__ = ["DEFAULT_NORMS", "PAPER_TARGETED", "TARGETING", "resolve_targeted"]

#: Whether each attack runs targeted by default, as in the paper (§4.3.1: "for targeted
#: attacks (i.e., FGSM, JSMA, and CWA) we randomly select targeted wrong labels"; BIM and
#: DeepFool are untargeted in its Table 1; L-BFGS, Eq. 2, aims at a target label).
PAPER_TARGETED = {
    "fgsm": True,
    "deepfool": False,
    "bim-a": False,
    "bim-b": False,
    "jsma": True,
    "cw": True,
    "lbfgs": True,
}

#: The targeting modes each attack supports.
TARGETING = {
    "fgsm": (True, False),
    "deepfool": (True, False),
    "bim-a": (True, False),
    "bim-b": (True, False),
    "jsma": (True,),
    "cw": (True, False),
    "lbfgs": (True,),
}

#: Norm of each attack when its parameters name none (the attack classes' defaults).
DEFAULT_NORMS = {
    "fgsm": "linf",
    "deepfool": "l2",
    "bim-a": "linf",
    "bim-b": "linf",
    "jsma": "l0",
    "cw": "l2",
    "lbfgs": "l2",
}


def resolve_targeted(attack: str, targeted: Optional[bool]) -> bool:
    """``targeted``, or the paper's choice for ``attack`` when None.

    Raises
    ------
    ValueError
        When the attack cannot run in the mode asked for (JSMA and L-BFGS are targeted only).

    Examples
    --------
    >>> resolve_targeted("cw", None), resolve_targeted("cw", False)
    (True, False)
    """
    if targeted is None:
        return PAPER_TARGETED[attack]
    if bool(targeted) not in TARGETING[attack]:
        mode = "targeted" if targeted else "untargeted"
        raise ParameterError(f"targeted={targeted}: {attack} cannot run {mode}")
    return bool(targeted)
