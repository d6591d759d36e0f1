"""A torch port of Carlini's ``l2_attack.py`` (carlini/nn_robust_attacks), the tests' CW reference.

The algorithm of ``CarliniL2.attack_batch``, statement by statement, for images in [0, 1]
(``boxmin = 0``, ``boxmax = 1``): the tanh-space start ``arctanh((x - boxplus) / boxmul *
0.999999)``, the distance to the tanh image of that start, the loss
``sum(l2) + sum(const * max(0, margin + confidence))``, TensorFlow's Adam (epsilon added to
``sqrt(v)``, bias corrections folded into the learning rate), the early abort every
``max_iterations // 10`` iterations when the batch loss exceeds ``0.9999`` times the one at the
previous check (tested before that iteration's result is recorded), the per-sample binary search
over ``const`` and the repeat of the last step from the upper bound when the search has 10 or
more steps. The original runs ``batch_size`` samples at a time (1 by default), so its abort is
per sample with ``batch_size=1``. One deliberate difference: a sample never fooled comes back
unchanged instead of as a zero image.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8


def carlini_l2(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    *,
    targeted: bool,
    initial_const: float,
    binary_search_steps: int,
    max_iterations: int,
    learning_rate: float = 1e-2,
    confidence: float = 0.0,
    abort_early: bool = True,
    batch_size: int = 1,
) -> Tensor:
    """Carlini-Wagner l2 adversarial images, ``batch_size`` samples at a time.

    ``labels`` are the targets when ``targeted``, the true labels otherwise.
    """
    chunks = [
        _attack_batch(
            model,
            images[i : i + batch_size],
            labels[i : i + batch_size],
            targeted,
            initial_const,
            binary_search_steps,
            max_iterations,
            learning_rate,
            confidence,
            abort_early,
        )
        for i in range(0, images.shape[0], batch_size)
    ]
    return torch.cat(chunks)


def _compare(scores: Tensor, label: int, targeted: bool, confidence: float) -> bool:
    shifted = scores.clone()
    shifted[label] += -confidence if targeted else confidence
    winner = int(shifted.argmax())
    return winner == label if targeted else winner != label


def _attack_batch(
    model,
    imgs,
    labs,
    targeted,
    initial_const,
    steps,
    max_iterations,
    learning_rate,
    confidence,
    abort_early,
) -> Tensor:
    n = imgs.shape[0]
    boxmul, boxplus = 0.5, 0.5
    timg = torch.atanh((imgs - boxplus) / boxmul * 0.999999)
    source = torch.tanh(timg) * boxmul + boxplus
    tlab = torch.nn.functional.one_hot(labs, model(imgs[:1]).shape[1]).to(imgs.dtype)
    lower_bound = [0.0] * n
    const = [initial_const] * n
    upper_bound = [1e10] * n
    o_bestl2 = [1e10] * n
    o_bestattack = [imgs[e].clone() for e in range(n)]
    repeat = steps >= 10
    for outer_step in range(steps):
        modifier = torch.zeros_like(imgs)
        m, v = torch.zeros_like(imgs), torch.zeros_like(imgs)
        bestl2 = [1e10] * n
        bestscore = [-1] * n
        if repeat and outer_step == steps - 1:
            const = list(upper_bound)
        const_t = torch.tensor(const, dtype=imgs.dtype)
        prev = math.inf
        for iteration in range(max_iterations):
            modifier.requires_grad_(True)
            newimg = torch.tanh(modifier + timg) * boxmul + boxplus
            output = model(newimg)
            l2dist = (newimg - source).pow(2).sum(dim=(1, 2, 3))
            real = (tlab * output).sum(dim=1)
            other = ((1 - tlab) * output - tlab * 10000).amax(dim=1)
            margin = other - real if targeted else real - other
            loss1 = (const_t * torch.clamp(margin + confidence, min=0.0)).sum()
            loss = l2dist.sum() + loss1
            (grad,) = torch.autograd.grad(loss, modifier)
            with torch.no_grad():
                t = iteration + 1
                m = BETA1 * m + (1 - BETA1) * grad
                v = BETA2 * v + (1 - BETA2) * grad * grad
                lr_t = learning_rate * math.sqrt(1 - BETA2**t) / (1 - BETA1**t)
                modifier = modifier - lr_t * m / (v.sqrt() + EPSILON)
            total, l2s = float(loss), l2dist.detach()
            scores, nimg = output.detach(), newimg.detach()
            if abort_early and iteration % (max_iterations // 10) == 0:
                if total > prev * 0.9999:
                    break
                prev = total
            for e in range(n):
                label = int(labs[e])
                if not _compare(scores[e], label, targeted, confidence):
                    continue
                if l2s[e] < bestl2[e]:
                    bestl2[e] = float(l2s[e])
                    bestscore[e] = int(scores[e].argmax())
                if l2s[e] < o_bestl2[e]:
                    o_bestl2[e] = float(l2s[e])
                    o_bestattack[e] = nimg[e]
        for e in range(n):
            label = int(labs[e])
            success = bestscore[e] != -1 and (
                bestscore[e] == label if targeted else bestscore[e] != label
            )
            if success:
                upper_bound[e] = min(upper_bound[e], const[e])
                if upper_bound[e] < 1e9:
                    const[e] = (lower_bound[e] + upper_bound[e]) / 2
            else:
                lower_bound[e] = max(lower_bound[e], const[e])
                if upper_bound[e] < 1e9:
                    const[e] = (lower_bound[e] + upper_bound[e]) / 2
                else:
                    const[e] *= 10
    return torch.stack(o_bestattack)
