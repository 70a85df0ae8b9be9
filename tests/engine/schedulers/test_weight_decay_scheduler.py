import math
import warnings

import torch
from mmengine.optim.scheduler import CosineAnnealingParamScheduler

from mmequi.engine.schedulers import CosineAnnealingWeightDecay


def _optimizer():
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    return torch.optim.AdamW([dict(params=[a], weight_decay=0.04),
                              dict(params=[b], weight_decay=0.0)])


def test_cosine_wd_closed_form_and_no_decay_group_stays_zero():
    opt = _optimizer()
    T = 50
    sched = CosineAnnealingWeightDecay(opt, eta_min=0.4, begin=0, end=T,
                                       by_epoch=False)
    seen = []
    warnings.simplefilter('ignore', UserWarning)  # no optimizer.step here
    for t in range(T):
        seen.append([g['weight_decay'] for g in opt.param_groups])
        sched.step()
    for t, (wd, wd0) in enumerate(seen):
        expected = 0.4 + (0.04 - 0.4) * (1 + math.cos(math.pi * t / T)) / 2
        assert abs(wd - expected) < 1e-12
        assert wd0 == 0.0
    assert abs(seen[0][0] - 0.04) < 1e-12
    # like the official per-iteration schedule, the last value (t = T - 1)
    # is just short of 0.4
    last = 0.4 + (0.04 - 0.4) * (1 + math.cos(math.pi * (T - 1) / T)) / 2
    assert abs(opt.param_groups[0]['weight_decay'] - last) < 1e-12
    assert 0.399 < last < 0.4


def test_mmengine_cosine_scheduler_would_decay_the_no_decay_group():
    """The upstream behaviour this scheduler exists to avoid."""
    opt = _optimizer()
    sched = CosineAnnealingParamScheduler(opt, 'weight_decay', eta_min=0.4,
                                          begin=0, end=10, by_epoch=False)
    for _ in range(10):
        sched.step()
    assert opt.param_groups[1]['weight_decay'] > 0.3
