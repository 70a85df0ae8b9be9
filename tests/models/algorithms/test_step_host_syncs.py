"""No device->host synchronisation inside a training step (issue 13).

A host sync shows up in the dispatcher as one of a few aten ops:
``_local_scalar_dense`` (``.item()``, ``float(t)``, ``bool(t)``,
``.tolist()``), ``nonzero`` (boolean indexing, ``torch.where(c)``),
``masked_select``, or ``index.Tensor`` with a bool index. On the CPU they
cost nothing, but on a GPU each stalls the host until the queued kernels
have run. The step = ``_run_forward(mode='loss')`` + ``parse_losses`` +
``optim_wrapper.update_params``; the data preprocessor (host work allowed)
runs before it. Grad-norm logging may read its value only after the
optimizer's kernels are queued (an optimizer step post-hook marks that).
``optimizer.step`` itself is torch's: its non-fused AdamW reads its step
counters with ``.item()``, but those live on the host (CPU tensors) on a GPU
too, so the recorder is off between the step's pre- and post-hook.
"""
import pytest
import torch
from mmpretrain.registry import MODELS
from torch.utils._python_dispatch import TorchDispatchMode

from mmequi.engine.optimizers import SSLOptimWrapperConstructor
from tests.models.algorithms import (test_dinov2, test_dinov2_equi_recon,
                                     test_ibot, test_ibot_equi_recon,
                                     test_sie, test_vicreg_equi_recon)

SYNC_OPS = {'aten._local_scalar_dense', 'aten.nonzero',
            'aten.masked_select', 'aten.nonzero_static'}


def _bool_index(func, args) -> bool:
    if not str(func.overloadpacket).startswith('aten.index'):
        return False
    indices = args[1] if len(args) > 1 else ()
    return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool
               for i in (indices or ()))


class SyncRecorder(TorchDispatchMode):
    """Records the syncing ops dispatched while ``self.armed``."""

    def __init__(self):
        super().__init__()
        self.armed = True
        self.calls = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = str(func.overloadpacket)
        if self.armed and (name in SYNC_OPS or _bool_index(func, args)):
            self.calls.append(str(func))
        return func(*args, **(kwargs or {}))


def _wrapper(model, amp=False, freeze='neck.last_layer'):
    cfg = dict(type='SSLOptimWrapper',
               optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.04),
               clip_grad=dict(type='per_param', max_norm=3.0))
    if amp:  # the recipes' bf16 autocast
        cfg.update(type='SSLAmpOptimWrapper', dtype='bfloat16',
                   loss_scale=dict(enabled=False))
    return SSLOptimWrapperConstructor(
        cfg, dict(freeze={freeze: 1} if freeze else {}))(model)


def _syncs_in_step(model, raw, amp=False, freeze='neck.last_layer'):
    model.train()
    optim_wrapper = _wrapper(model, amp, freeze)
    data = model.data_preprocessor(raw, True)  # outside the checked region
    recorder = SyncRecorder()

    stepped = []

    def disarm(*_):
        recorder.armed = False  # torch's optimizer step from here on

    optim_wrapper.optimizer.register_step_pre_hook(disarm)
    optim_wrapper.optimizer.register_step_post_hook(
        lambda *_: stepped.append(True))  # its kernels are queued
    before = [p.detach().clone() for p in model.parameters()]
    with recorder, optim_wrapper.optim_context(model):
        losses = model._run_forward(data, mode='loss')
        loss, _ = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
    moved = any(not torch.equal(a, p) for a, p in zip(before,
                                                        model.parameters()))
    assert moved and stepped  # a real step ran
    return recorder.calls


def tiny_ibot(preprocessor='iBOTDataPreprocessor'):
    """test_ibot's model with ``preprocessor`` (same arguments)."""
    model = test_ibot.tiny_ibot()
    model.data_preprocessor = MODELS.build(dict(
        type=preprocessor, mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], to_rgb=False))
    return model


@pytest.mark.parametrize('amp', [False, True])
def test_ibot_step_has_no_host_sync(amp):
    calls = _syncs_in_step(tiny_ibot(), test_ibot.batch(), amp)
    assert calls == []


def test_without_the_index_one_sync_remains():
    """mmpretrain's SelfSupDataPreprocessor makes no index: the model
    finds the masked tokens with nonzero (the plain path, still correct)."""
    calls = _syncs_in_step(tiny_ibot('SelfSupDataPreprocessor'),
                           test_ibot.batch())
    assert calls == ['aten.nonzero.default']


@pytest.mark.parametrize('amp', [False, True])
def test_ibot_equi_recon_step_has_no_host_sync(amp):
    model = test_ibot_equi_recon.build()
    calls = _syncs_in_step(model, test_ibot_equi_recon.raw_batch(), amp)
    assert calls == []


def test_cross_attention_decoder_and_rescue_step_has_no_host_sync():
    model = test_ibot_equi_recon.build(
        decoder=dict(type='CrossAttnReconDecoder', patch_size=8,
                     embed_dims=16, num_heads=2, channels=(8, 8, 8, 8)),
        topk=dict(type='EasySampleRescue', ratio=0.5, loss_weight=0.5))
    calls = _syncs_in_step(model, test_ibot_equi_recon.raw_batch())
    assert calls == []


@pytest.mark.parametrize('separate_head', [False, True])
@pytest.mark.parametrize('centering', ['sinkhorn_knopp', 'centering'])
def test_dinov2_step_has_no_host_sync(separate_head, centering):
    """Sinkhorn-Knopp, KoLeo's nearest neighbours and separate heads
    stay on the device."""
    model = test_dinov2.tiny_dinov2(separate_head=separate_head,
                                    centering=centering, registers=2)
    calls = _syncs_in_step(model, test_ibot.batch(), freeze='last_layer')
    assert calls == []


def test_dinov2_equi_recon_step_has_no_host_sync():
    model = test_dinov2_equi_recon.build(separate_head=True)
    calls = _syncs_in_step(model, test_ibot_equi_recon.raw_batch(),
                           freeze='last_layer')
    assert calls == []


def test_vicreg_equi_recon_step_has_no_host_sync():
    calls = _syncs_in_step(test_vicreg_equi_recon.build(),
                           test_vicreg_equi_recon.raw_batch(), freeze=None)
    assert calls == []


def test_sie_theta_step_has_no_host_sync():
    """SIE(condition='theta') reads θ from the data samples on the
    device (one stack, no host round trip)."""
    calls = _syncs_in_step(test_sie.build_theta(), test_sie.theta_batch(),
                           freeze=None)
    assert calls == []


def test_recorder_sees_boolean_indexing():
    """The check can fail: today's boolean-mask gather is caught."""
    x, m = torch.randn(3, 4), torch.rand(3, 4) > 0.5
    with SyncRecorder() as rec:
        x[m]
        float(x.sum())
        x.masked_select(m)
    assert any('nonzero' in c or 'index' in c for c in rec.calls)
    assert any('_local_scalar_dense' in c for c in rec.calls)
    assert any('masked_select' in c for c in rec.calls)


def _loss_and_grads(model, raw):
    model.train()
    model.zero_grad()
    losses = model._run_forward(model.data_preprocessor(raw, True),
                                mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()
             if p.grad is not None}
    return {k: v.detach() for k, v in losses.items()}, grads


def test_host_index_gives_the_plain_path_loss_and_gradients():
    """iBOTDataPreprocessor's index == the device nonzero of the plain
    SelfSupDataPreprocessor path: every loss term and gradient bit-equal."""
    a = _loss_and_grads(tiny_ibot(), test_ibot.batch())
    b = _loss_and_grads(tiny_ibot('SelfSupDataPreprocessor'),
                        test_ibot.batch())
    assert a[0].keys() == b[0].keys() and a[1].keys() == b[1].keys()
    for x, y in ((a[0], b[0]), (a[1], b[1])):
        for k in x:
            torch.testing.assert_close(x[k], y[k], rtol=0, atol=0,
                                       equal_nan=True, msg=k)
