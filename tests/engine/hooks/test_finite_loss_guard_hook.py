"""FiniteLossGuardHook + the SSL optimizer wrappers' finite check: a run
whose loss turns non-finite at iteration k stops there (or skips) before
the update, the EMA teacher update and any checkpoint (issue 14)."""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner

from mmequi.compat.checkpoint import load_checkpoint_file
from mmequi.engine.hooks import (DistillationTeacherHook, FiniteLossGuardHook,
                                 NonFiniteLossError)
from mmequi.engine.hooks.finite_loss_guard_hook import describe_losses

LR = 0.1
#: d loss_a / d w (loss_a = <w, C>): each applied SGD step moves w by -LR*C
C = torch.tensor([1.0, -2.0, 0.5])


class NaNAtModel(BaseModel):
    """``loss_a = <w, C>`` (NaN at the 1-based iterations in ``nan_at``),
    ``loss_b = 1``; an EMA ``teacher`` copy of ``w`` and the attributes
    :class:`DistillationTeacherHook` needs."""

    def __init__(self, nan_at=()):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(3))
        self.register_buffer('teacher', torch.zeros(3))
        self.nan_at, self.calls = set(nan_at), 0
        self.teacher_temp = self.teacher_patch_temp = 0.04
        self.teacher_updates = 0

    def momentum_update(self, m: float) -> None:
        self.teacher.mul_(m).add_(self.w.detach(), alpha=1 - m)
        self.teacher_updates += 1

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.calls += 1
        loss_a = (self.w * C).sum() + 0 * inputs.sum()
        if self.calls in self.nan_at:
            loss_a = loss_a * float('nan')
        return dict(loss_a=loss_a, loss_b=torch.ones(()))


def _runner(tmp_path, model, guard, iters_per_epoch=4, epochs=2, **wrap):
    return Runner(
        model=model, work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=torch.ones(1))] * iters_per_epoch,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=1, num_workers=0,
            collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=epochs),
        optim_wrapper=dict(type=wrap.pop('type', 'SSLOptimWrapper'),
                           optimizer=dict(type='SGD', lr=LR), **wrap),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1,
                                           by_epoch=False, max_keep_ckpts=-1),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[guard, DistillationTeacherHook(momentum=0.5,
                                                     end_momentum=0.5)],
        default_scope='mmengine', randomness=dict(seed=0),
        experiment_name=f'finite_guard_{osp.basename(str(tmp_path))}')


def _checkpoints(work_dir):
    out = {}
    for path in glob.glob(osp.join(str(work_dir), 'iter_*.pth')):
        it = int(osp.basename(path)[5:-4])
        out[it] = load_checkpoint_file(path)['state_dict']
    return out


def _expected_w(applied_steps: int) -> torch.Tensor:
    """Plain SGD on a linear loss: ``w = -applied * LR * C``."""
    return -applied_steps * LR * C


def test_stop_before_update_and_checkpoint(tmp_path):
    model = NaNAtModel(nan_at={6})  # epoch 2, batch 2
    runner = _runner(tmp_path, model, FiniteLossGuardHook())
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    msg = str(err.value)
    assert 'at iteration 6/8 (epoch 2, batch 2' in msg
    assert ('non-finite: loss, loss_a; values: loss=nan (non-finite), '
            'loss_a=nan (non-finite), loss_b=1.' in msg)
    # no update from iteration 6: weights after 5 SGD steps, teacher too
    torch.testing.assert_close(model.w.detach(), _expected_w(5))
    assert model.teacher_updates == 5
    ckpts = _checkpoints(tmp_path)
    assert sorted(ckpts) == [1, 2, 3, 4, 5]
    for it, sd in ckpts.items():
        assert all(torch.isfinite(v).all() for v in sd.values()), it
        torch.testing.assert_close(sd['w'], _expected_w(it))


def test_skip_then_stop_after_max_skips(tmp_path):
    # iterations 3, 4 skipped (2 in a row allowed), 5 ok, 6-8: the third
    # consecutive one (8) stops the run
    model = NaNAtModel(nan_at={3, 4, 6, 7, 8})
    runner = _runner(tmp_path, model,
                     FiniteLossGuardHook(mode='skip', max_skips=2))
    with pytest.raises(NonFiniteLossError,
                       match=r'3 consecutive non-finite losses \(max_skips='
                             r'2\) at iteration 8/8'):
        runner.train()
    applied = 3  # iterations 1, 2, 5
    torch.testing.assert_close(model.w.detach(), _expected_w(applied))
    assert model.teacher_updates == applied  # none from a skipped step
    # EMA with m = 0.5 over the applied steps only
    teacher = torch.zeros(3)
    for k in range(1, applied + 1):
        teacher = 0.5 * teacher + 0.5 * _expected_w(k)
    torch.testing.assert_close(model.teacher, teacher)
    ckpts = _checkpoints(tmp_path)
    assert sorted(ckpts) == [1, 2, 3, 4, 5, 6, 7]
    for sd in ckpts.values():
        assert all(torch.isfinite(v).all() for v in sd.values())


def test_skip_warns_and_finishes_within_budget(tmp_path):
    model = NaNAtModel(nan_at={2, 3})
    runner = _runner(tmp_path, model,
                     FiniteLossGuardHook(mode='skip', max_skips=2))
    runner.train()
    torch.testing.assert_close(model.w.detach(), _expected_w(6))
    log, = glob.glob(str(tmp_path / '*' / '*.log'))
    out = open(log).read()
    assert 'non-finite loss at iteration 2/8' in out
    assert '(skip 2 of at most 2 in a row)' in out


def test_skip_stops_on_non_finite_buffers(tmp_path):
    class BadBuffer(NaNAtModel):
        def forward(self, inputs, data_samples=None, mode='loss'):
            out = super().forward(inputs, data_samples, mode)
            if self.calls in self.nan_at:
                self.teacher.fill_(float('inf'))
            return out

    runner = _runner(tmp_path, BadBuffer(nan_at={2}),
                     FiniteLossGuardHook(mode='skip', max_skips=5))
    with pytest.raises(NonFiniteLossError,
                       match=r"non-finite model buffers.*\['teacher'\]"):
        runner.train()


@pytest.mark.parametrize('wrapper', ['SSLOptimWrapper', 'SSLAmpOptimWrapper'])
@pytest.mark.parametrize('clip', [None, dict(type='per_param', max_norm=1.)])
def test_wrapper_skips_update_then_steps_again(wrapper, clip):
    from mmequi.engine.optimizers import SSLOptimWrapperConstructor
    cfg = dict(type=wrapper, optimizer=dict(type='SGD', lr=LR))
    if clip:
        cfg['clip_grad'] = clip
    model = NaNAtModel()
    ow = SSLOptimWrapperConstructor(cfg)(model)
    ow.enable_finite_check()
    x = torch.ones(1)
    for finite in (False, True, False, True):
        loss = model(x)['loss_a'] * (1.0 if finite else float('inf'))
        ow.update_params(loss)
        assert ow.last_step_skipped is (not finite)
    # two applied steps of -LR * grad (grad C, per-parameter clipped to 1)
    step = C if clip is None else C / max(1.0, float(C.norm()))
    torch.testing.assert_close(model.w.detach(), -2 * LR * step,
                               atol=1e-5, rtol=1e-5)


def test_unchecked_wrapper_applies_the_update():
    """Without the hook the wrapper is as before: a NaN loss is applied."""
    from mmequi.engine.optimizers import SSLOptimWrapperConstructor
    model = NaNAtModel()
    ow = SSLOptimWrapperConstructor(
        dict(type='SSLOptimWrapper', optimizer=dict(type='SGD', lr=LR)))(
            model)
    ow.update_params(model(torch.ones(1))['loss_a'] * float('nan'))
    assert not ow.last_step_skipped
    assert torch.isnan(model.w).all()


def test_bad_arguments_and_wrapper_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="mode='skip' needs max_skips >= 1"):
        FiniteLossGuardHook(mode='skip')
    with pytest.raises(ValueError, match='max_skips=3 only applies'):
        FiniteLossGuardHook(max_skips=3)
    with pytest.raises(ValueError, match="mode='halt'"):
        FiniteLossGuardHook(mode='halt')
    runner = _runner(tmp_path, NaNAtModel(), FiniteLossGuardHook(),
                     type='OptimWrapper')
    with pytest.raises(TypeError, match="optim_wrapper.type 'SSLOptimWrap"
                       "per' or 'SSLAmpOptimWrapper'.*OptimWrapper"):
        runner.train()


def test_describe_losses_marks_non_finite_terms():
    text = describe_losses(dict(loss=torch.tensor(math.inf),
                                loss_x=torch.tensor(0.25), acc=3))
    assert text == ('non-finite: loss; values: loss=inf (non-finite), '
                    'loss_x=0.25, acc=3')
    assert describe_losses(dict(loss=1.0)).startswith('non-finite: none;')
