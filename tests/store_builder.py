"""A writer of results-store rows for the report tests, through the store's API: finished
runs, attacks and transfers either from crafted summaries (accuracy, AUC and gradients given)
or sampled per clip and per sample from known probabilities, so the truth is known. Used by
the report's unit tests (``tests/unit/report``) and its browser test's store
(``tests/e2e/report_store.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from specnb.report import ATTACKS
from specnb.representations import make_setting
from specnb.store import ResultsStore, attack_key, run_key, transfer_key

BUDGETS = [0.0, 0.01, 0.02, 0.05]  # the budgets of the sampled fooling curves


class StoreBuilder:
    """Writes finished runs, attacks and transfers into the store at ``path``.

    Parameters
    ----------
    path : Path
        The store's file (created with its folder when absent).
    seed : int
        Seed of the generator the ``sampled_*`` rows draw from.
    """

    def __init__(self, path: Path, seed: int = 0) -> None:
        self.store = ResultsStore(path)
        self.rng = np.random.default_rng(seed)

    @property
    def path(self) -> Path:
        """The store's file."""
        return self.store.path

    # ------------------------------------------------------------------ the rows as stored
    def run(
        self,
        model: str,
        setting: dict[str, Any],
        *,
        dataset: str = "esc10",
        seed: int = 0,
        protocol: dict[str, Any] | None = None,
        **columns: Any,
    ) -> str:
        """A finished run of ``model`` on ``dataset`` under ``setting`` (and ``protocol``,
        e.g. its official test fold); returns its key."""
        s = make_setting(**setting)
        key = run_key(
            dataset=dataset, setting=s.to_dict(), model=model, seed=seed, protocol=protocol or {}
        )
        self.store.upsert_run(
            key,
            dataset=dataset,
            repr=s.kind,
            setting_key=s.key,
            setting_json=s.to_dict(),
            model=model,
            seed=seed,
            status="done",
            **columns,
        )
        return key

    def scored_run(
        self,
        model: str,
        setting: dict[str, Any],
        correct: Any,
        *,
        dataset: str = "esc10",
        seed: int = 0,
        clip_ids: list[str] | None = None,
        protocol: dict[str, Any] | None = None,
        artefacts: dict[str, Any] | None = None,
    ) -> str:
        """A finished run as training writes it: its fold models' outcomes on the test clips
        (``correct``, folds × clips, 1 when right), the clips' ids when given, and any other
        ``artefacts``; its accuracy is their mean. Returns its key."""
        correct = np.asarray(correct)
        named = {"test_clip_ids": list(clip_ids)} if clip_ids is not None else {}
        return self.run(
            model,
            setting,
            dataset=dataset,
            seed=seed,
            protocol=protocol,
            acc_mean=float(correct.mean()),
            n_params=1000,
            artefacts_json={"test_correct": correct.tolist(), **named, **(artefacts or {})},
        )

    def attack(self, key: str, attack: str, **columns: Any) -> None:
        """A finished ``attack`` on the run ``key``."""
        self.store.upsert_attack(
            attack_key(run_key=key, attack=attack, params={}),
            run_key=key,
            attack=attack,
            status="done",
            **columns,
        )

    def transfer(self, source: str, target: str, *, attack: str = "fgsm", **columns: Any) -> None:
        """A finished transfer of ``attack`` from the run ``source`` to the run ``target``."""
        self.store.upsert_transfer(
            transfer_key(source_run_key=source, target_run_key=target, attack=attack, params={}),
            source_run_key=source,
            target_run_key=target,
            attack=attack,
            status="done",
            **columns,
        )

    # ------------------------------------------------------------------ crafted summaries
    def summary_run(
        self,
        dataset: str,
        model: str,
        acc: float,
        *,
        auc: float = 0.9,
        grads: float = 100.0,
        cost: float = 50.0,
        n_params: int = 1000,
        attacks: tuple[str, ...] = ATTACKS,
        **setting: Any,
    ) -> str:
        """A run of accuracy ``acc`` (seed 0), each of ``attacks`` on it with the same summary."""
        key = self.run(
            model, setting, dataset=dataset, acc_mean=acc, acc_std=0.01, n_params=n_params
        )
        for attack in attacks:
            self.summary_attack(key, attack, auc=auc, grads=grads, cost=cost)
        return key

    def summary_attack(
        self,
        key: str,
        attack: str,
        *,
        auc: float,
        grads: float,
        cost: float,
        artefacts: dict | None = None,
    ) -> None:
        """An attack over two budgets whose gradients per sample average ``grads``."""
        name = "bim-b" if attack == "bim_b" else attack  # the store may spell it either way
        self.attack(
            key,
            name,
            auc=auc,
            budgets_json=[0.01, 0.1],
            fooling_rates_json=[0.5, 1.0],
            grads_per_sample_json=[grads / 2, 3 * grads / 2],
            cost_to_fr90=cost,
            artefacts_json=artefacts,
        )

    # ------------------------------------------------------------------ sampled per clip
    def sampled_run(
        self,
        model: str,
        setting: dict[str, Any],
        seed: int,
        p_correct: float,
        *,
        dataset: str = "esc10",
        n_clips: int = 60,
        attacks: dict[str, tuple] = (),
        per_clip: bool = True,
        protocol: dict[str, Any] | None = None,
    ) -> str:
        """A run whose two folds each get ``n_clips`` clips right with ``p_correct``.

        ``attacks`` maps an attack to ``(p_fooled, grads)`` for :meth:`sampled_attack`;
        ``per_clip=False`` leaves the per-clip results out, as older stores did; ``protocol``
        tells runs of one seed and setting apart (e.g. their official test fold).
        """
        correct = (self.rng.random((2, n_clips)) < p_correct).astype(int)
        key = self.scored_run(
            model, setting, correct, dataset=dataset, seed=seed, protocol=protocol
        )
        if not per_clip:  # as older stores kept it: no per-clip results
            self.store.upsert_run(key, artefacts_json={})
        for attack, (p_fooled, grads) in dict(attacks).items():
            self.sampled_attack(key, attack, p_fooled, grads)
        return key

    def sampled_attack(
        self, key: str, attack: str, p_fooled: float, grads: float, n: int = 30
    ) -> None:
        """Per-sample flags over :data:`BUDGETS`, fooled with up to ``p_fooled``; Poisson
        gradient counts of mean ``grads``."""
        rises = np.linspace(0.0, 1.0, len(BUDGETS))
        flags = (self.rng.random((len(BUDGETS), n)) < p_fooled * rises[:, None]).astype(int)
        counts = self.rng.poisson(grads, (len(BUDGETS), n))
        self.attack(
            key,
            attack,
            auc=0.5,
            budgets_json=BUDGETS,
            fooling_rates_json=flags.mean(axis=1).tolist(),
            grads_per_sample_json=counts.mean(axis=1).tolist(),
            artefacts_json={
                "misclassified_per_budget": flags.tolist(),
                "grad_counts_per_budget": counts.tolist(),
            },
        )

    def sampled_transfer(self, source: str, target: str, ratio: float, n: int = 40) -> None:
        """An FGSM transfer whose examples fooling the source fool the target with ``ratio``."""
        fooled = [n // 2, n]
        both = [int(self.rng.binomial(f, ratio)) for f in fooled]
        self.transfer(
            source,
            target,
            ratio=float(np.mean([b / f for b, f in zip(both, fooled)])),
            n_samples=n,
            n_fooling_source=sum(fooled),
            n_fooling_both=sum(both),
            params_json={"fooling_source": fooled, "fooling_both": both},
        )
