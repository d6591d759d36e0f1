"""The paper's claims: which of our runs each compares, its statistic and the paper's answer.

Every :class:`Claim` selects groups of runs from a :class:`ClaimData` (the victim model's runs
with a standard colour map for the representation tables; every model on the settings it
shares with ResNet-18 for Table 6...; :mod:`specnb.report.claim_groups`), maps their bootstrap
replicates to one statistic (positive: what the paper says) and reads the paper's own answer
from its tables (:mod:`specnb.report.claim_answers`). :mod:`specnb.report.verdicts` decides;
the rule is written in :meth:`Claim.rule_text`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional

import numpy as np

from specnb.report.claim_answers import (
    correlation,
    lead,
    paired_drop,
    paper_attack_cost,
    paper_hsv,
    paper_inverse,
    paper_lead,
    paper_mfcc,
    paper_row,
    paper_table6,
    relative_lead,
    trail,
)
from specnb.report.claim_groups import (
    ClaimData,
    Selection,
    accuracy_groups,
    attack_groups,
    hsv_groups,
    inverse_groups,
    model_groups,
    row_groups,
    transfer_groups,
    waveform_groups,
)
from specnb.report.report_table import ReportTable

__all__ = ["CLAIMS", "Claim", "ClaimData", "Selection"]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and how our results decide it."""

    key: str
    where: str
    text: str
    statistic_name: str
    groups: Callable[[ClaimData], Selection]
    statistic: Callable[[Mapping[str, np.ndarray]], np.ndarray]
    paper: Optional[Callable[[Mapping[int, ReportTable]], str]]
    paper_text: str = ""
    unit: str = "test clips"
    threshold: float = 0.0
    min_groups: int = 2
    number: str = "{:+.2f}"
    group_number: str = "{:.1f} %"

    def fmt(self, value: float) -> str:
        return self.number.format(value)

    def fmt_group(self, value: float) -> str:
        return self.group_number.format(value)

    def rule_text(self) -> str:
        """How the verdict follows from the interval."""
        at = f"{self.threshold:g}"
        return (
            f"supported when the 95 % interval of {self.statistic_name} lies above {at}, "
            f"contradicted when below, inconclusive when it contains {at}."
        )


# ------------------------------------------------------------------ the claims
def _claims() -> dict[str, Claim]:
    claims = []
    r = "r(accuracy, mean AUC) across rows, centred per dataset"
    inverse = (
        "accuracy and robustness are inversely related (a more accurate setting is "
        "fooled more easily: higher AUC)"
    )
    for number in (2, 3, 4, 7):
        claims.append(
            Claim(
                f"table{number}_inverse",
                f"Table {number}",
                inverse,
                r,
                inverse_groups((number,)),
                correlation,
                paper_inverse((number,)),
                min_groups=6,
                number="{:+.2f}",
                group_number="{:.2f}",
            )
        )
    claims.append(
        Claim(
            "pooled_inverse",
            "Tables 2–4, 7",
            inverse + ", over every representation",
            r,
            inverse_groups((2, 3, 4, 7)),
            correlation,
            paper_inverse((2, 3, 4, 7)),
            min_groups=6,
            group_number="{:.2f}",
        )
    )
    claims.append(
        Claim(
            "table3_nfft1024",
            "Table 3",
            "on ESC-10, n_fft = 1024 gives the most accurate STFT",
            "accuracy of 1024 minus the best other n_fft (points)",
            lambda d: row_groups(
                d,
                d.victim_runs("stft")[d.victim_runs("stft")["dataset"] == "esc10"],
                "n_fft",
                "accuracy",
                "1024",
            ),
            lead("1024"),
            paper_row(3, "1024", "esc10"),
        )
    )
    claims.append(
        Claim(
            "table4_dwt",
            "Table 4",
            "the wavelet scalogram (DWT) is more accurate than MFCC and STFT",
            "DWT accuracy minus the better of MFCC and STFT (points)",
            accuracy_groups(("wavelet", "stft", "mfcc")),
            lead("DWT"),
            lambda t: paper_lead(t, {"DWT": 4, "STFT": 3, "MFCC": 2}, "DWT"),
        )
    )
    claims.append(
        Claim(
            "stft_over_mfcc",
            "Tables 2, 3",
            "STFT is more accurate than MFCC",
            "STFT accuracy minus MFCC accuracy (points)",
            accuracy_groups(("stft", "mfcc")),
            lead("STFT"),
            lambda t: paper_lead(t, {"STFT": 3, "MFCC": 2}, "STFT"),
        )
    )
    claims.append(
        Claim(
            "table5_cmor",
            "Table 5",
            "the complex Morlet is the most accurate mother wavelet",
            "complex Morlet accuracy minus the best other family (points)",
            lambda d: row_groups(
                d, d.victim_runs("wavelet", family=None), "wavelet_family", "accuracy", "cmor"
            ),
            lead("cmor"),
            paper_row(5, "cmor"),
        )
    )
    claims.append(
        Claim(
            "cw_costliest",
            "Tables 2–4, 7",
            "Carlini–Wagner is the costliest attack (gradient computations)",
            "CW gradients over the costliest other attack (+ %)",
            attack_groups,
            relative_lead("cw"),
            paper_attack_cost,
            unit="attacked samples",
            number="{:+.0f} %",
            group_number="{:.0f}",
        )
    )
    claims.append(
        Claim(
            "table6_accuracy",
            "Table 6",
            "ResNet-18 is more accurate than the other six models",
            "ResNet-18 accuracy minus the best other model (points)",
            model_groups("accuracy"),
            lead("ResNet-18"),
            paper_table6("accuracy_diff"),
        )
    )
    claims.append(
        Claim(
            "table6_costliest",
            "Table 6",
            "ResNet-18 is the costliest model to attack (gradient computations)",
            "ResNet-18 gradients over the costliest other model (+ %)",
            model_groups("grads"),
            relative_lead("ResNet-18"),
            paper_table6("grads_ratio"),
            unit="attacked samples",
            number="{:+.0f} %",
            group_number="{:.0f}",
        )
    )
    claims.append(
        Claim(
            "table8_hsv_accuracy",
            "Table 8, §5.5",
            "uniform HSV rendering lowers accuracy against the standard colour maps",
            "standard minus HSV accuracy (points)",
            hsv_groups("accuracy"),
            paired_drop,
            paper_hsv("accuracy"),
        )
    )
    claims.append(
        Claim(
            "hsv_auc",
            "§5.5",
            "uniform HSV rendering lowers the fooling rate (AUC)",
            "standard minus HSV mean AUC",
            hsv_groups("auc"),
            paired_drop,
            paper_hsv("auc"),
            unit="attacked samples",
            number="{:+.3f}",
            group_number="{:.3f}",
        )
    )
    claims.append(
        Claim(
            "table9_mfcc",
            "Table 9",
            "adversarial examples transfer least on MFCC",
            "lowest other mean ratio minus MFCC's",
            transfer_groups,
            trail("MFCC"),
            paper_mfcc,
            unit="examples",
            number="{:+.3f}",
            group_number="{:.3f}",
        )
    )
    claims.append(
        Claim(
            "raw_audio_drop",
            "§5.6",
            "attacks on end-to-end 1D ConvNets cut their accuracy by 30 % on average",
            "relative accuracy drop (fooling rate at the largest budget)",
            waveform_groups,
            lambda g: g["1D"],
            None,
            "stated in §5.6 (no table)",
            unit="attacked samples",
            threshold=0.30,
            min_groups=1,
            number="{:.2f}",
            group_number="{:.2f}",
        )
    )
    claims.append(
        Claim(
            "raw_audio_restore",
            "§5.6",
            "multiplying a 1D adversarial waveform by a small random "
            "scalar restores its correct label",
            "restored share",
            lambda d: Selection(
                {},
                "the store holds no per-sample restoration results "
                "(notebook 06 writes them to its summary.json)",
            ),
            lambda g: g["1D"],
            None,
            "stated in §5.6 (no table)",
            min_groups=1,
        )
    )
    return {c.key: c for c in claims}


#: Every claim, by key, in the paper's order.
CLAIMS: dict[str, Claim] = _claims()
