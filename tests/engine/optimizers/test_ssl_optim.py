import pytest
import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from mmequi.engine.optimizers import SSLOptimWrapperConstructor


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.fc = nn.Linear(4, 4)
        self.norm = nn.LayerNorm(4)
        self.last_layer = nn.Linear(4, 3, bias=False)
        self.teacher = nn.Linear(4, 4)
        self.teacher.requires_grad_(False)

    def forward(self, x):
        return self.last_layer(self.norm(self.fc(x) + self.cls_token[0, 0]))


def build(wrapper='SSLOptimWrapper', clip=None, **paramwise):
    cfg = dict(type=wrapper, optimizer=dict(type='AdamW', lr=0.1,
                                            weight_decay=0.05))
    if clip:
        cfg['clip_grad'] = clip
    return SSLOptimWrapperConstructor(cfg, paramwise)(Net())


def _names(model, params):
    ids = {id(p) for p in params}
    return sorted(n for n, p in model.named_parameters() if id(p) in ids)


def test_groups_decay_no_decay_freeze_and_teacher_excluded():
    torch.manual_seed(0)
    model = Net()
    wrapper = SSLOptimWrapperConstructor(
        dict(type='SSLOptimWrapper',
             optimizer=dict(type='AdamW', lr=0.1, weight_decay=0.05)),
        dict(no_decay_keys=('cls_token', ), freeze={'last_layer': 1}))(model)
    groups = {(g['weight_decay'], g.get('freeze_epochs', 0)):
              _names(model, g['params'])
              for g in wrapper.optimizer.param_groups}
    assert groups == {
        (0.05, 0): ['fc.weight'],
        (0.0, 0): ['cls_token', 'fc.bias', 'norm.bias', 'norm.weight'],
        (0.05, 1): ['last_layer.weight'],
    }


def test_unknown_keys_are_errors():
    with pytest.raises(KeyError, match='match no trainable'):
        build(no_decay_keys=('pos_embed', ))
    with pytest.raises(KeyError, match='unknown paramwise_cfg'):
        build(bias_decay_mult=0.0)


@pytest.mark.parametrize('wrapper', ['SSLOptimWrapper', 'SSLAmpOptimWrapper'])
def test_per_param_clipping_and_last_layer_freeze(wrapper):
    torch.manual_seed(0)
    model = Net()
    cfg = dict(type=wrapper, optimizer=dict(type='SGD', lr=1.0),
               clip_grad=dict(type='per_param', max_norm=0.5))
    ow = SSLOptimWrapperConstructor(cfg, dict(freeze={'last_layer': 1}))(
        model)
    hub = MessageHub.get_current_instance()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    x = torch.randn(8, 4) * 10
    hub.update_info('epoch', 0)
    with ow.optim_context(model):
        loss = model(x).float().pow(2).sum()
    ow.backward(loss)
    raw = {n: p.grad.clone() for n, p in model.named_parameters()
           if p.grad is not None}
    ow.step()
    ow.zero_grad()
    for n, p in model.named_parameters():
        if n.startswith('teacher'):
            continue
        if n == 'last_layer.weight':  # frozen in epoch 0: untouched
            torch.testing.assert_close(p.detach(), before[n])
            continue
        g = raw[n]
        # each gradient clipped to norm 0.5 separately (official rule)
        coef = min(1.0, 0.5 / (float(g.norm()) + 1e-6))
        torch.testing.assert_close(p.detach(), before[n] - coef * g,
                                   rtol=1e-5, atol=1e-6)
    assert any(float(g.norm()) > 0.5 for g in raw.values())
    # epoch 1: the last layer trains
    hub.update_info('epoch', 1)
    with ow.optim_context(model):
        loss = model(x).float().pow(2).sum()
    ow.update_params(loss)
    assert not torch.equal(model.last_layer.weight.detach(),
                           before['last_layer.weight'])


def test_global_norm_clip_still_available():
    ow = build(clip=dict(max_norm=1.0))
    assert ow.per_param_max_norm is None
    assert ow.clip_grad_kwargs == dict(max_norm=1.0)
    with pytest.raises(ValueError, match='takes only max_norm'):
        build(clip=dict(type='per_param', max_norm=1.0, norm_type=1))


@pytest.mark.parametrize('wrapper', ['SSLOptimWrapper', 'SSLAmpOptimWrapper'])
def test_fused_adamw_is_the_single_tensor_update(wrapper):
    """Speed switch: ``optimizer=dict(type='AdamW', fused=True)`` passes
    through the constructor to torch and, with the per-parameter clip and
    the epoch-0 freeze, moves the parameters as the plain for-loop AdamW
    (foreach=False) does, within fp32 rounding, over 5 steps."""
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', 0)
    finals = {}
    for flags in (dict(fused=True), dict(foreach=False)):
        torch.manual_seed(0)
        model = Net()
        cfg = dict(type=wrapper, clip_grad=dict(type='per_param',
                                                max_norm=0.05),
                   optimizer=dict(type='AdamW', lr=0.1, weight_decay=0.05,
                                  **flags))
        if wrapper == 'SSLAmpOptimWrapper':
            cfg.update(dtype='bfloat16', loss_scale=dict(enabled=False))
        ow = SSLOptimWrapperConstructor(
            cfg, dict(freeze={'last_layer': 1}))(model)
        assert all(g.get(k) == v for g in ow.optimizer.param_groups
                   for k, v in flags.items())
        x = torch.randn(8, 4, generator=torch.Generator().manual_seed(1))
        for _ in range(5):
            with ow.optim_context(model):
                loss = model(x).square().mean()
            ow.update_params(loss)
        finals[tuple(flags)] = {n: p.detach().clone()
                                for n, p in model.named_parameters()}
    fused, plain = finals[('fused', )], finals[('foreach', )]
    torch.manual_seed(0)
    start = dict(Net().named_parameters())
    assert not torch.equal(fused['fc.weight'], start['fc.weight'])
    assert torch.equal(fused['last_layer.weight'],
                       start['last_layer.weight'])  # frozen in epoch 0
    for n in plain:
        torch.testing.assert_close(fused[n], plain[n], rtol=0, atol=1e-6,
                                   msg=n)


def _host_reads_in_wrapper(monkeypatch):
    """Count tensor→host reads (tolist/item/bool/float) made by code in
    ssl_optim_wrapper.py itself."""
    import sys

    from mmequi.engine.optimizers import ssl_optim_wrapper
    here = ssl_optim_wrapper.__file__
    reads = []
    for name in ('tolist', 'item', '__bool__', '__float__'):
        real = getattr(torch.Tensor, name)

        def counted(self, *a, _real=real, _name=name, **k):
            if sys._getframe(1).f_code.co_filename == here:
                reads.append(_name)
            return _real(self, *a, **k)
        monkeypatch.setattr(torch.Tensor, name, counted)
    return reads


@pytest.mark.parametrize('checked', [False, True])
@pytest.mark.parametrize('clip', [None, dict(type='per_param', max_norm=1.)])
def test_one_host_read_per_step(monkeypatch, checked, clip):
    """Issue 14: the finite check adds no host read where the per-parameter
    clip already reads the gradient norm (one read, now before the step),
    and exactly one (the flag) without it; unchecked steps are as before."""
    torch.manual_seed(0)
    model = Net()
    cfg = dict(type='SSLOptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    if clip:
        cfg['clip_grad'] = clip
    ow = SSLOptimWrapperConstructor(cfg)(model)
    if checked:
        ow.enable_finite_check()
    MessageHub.get_current_instance().update_info('epoch', 0)
    loss = model(torch.randn(8, 4)).pow(2).sum()
    reads = _host_reads_in_wrapper(monkeypatch)
    ow.update_params(loss)
    expected = {(False, False): [], (False, True): ['__float__'],
                (True, False): ['__bool__'], (True, True): ['tolist']}
    assert reads == expected[checked, clip is not None]
    if clip is not None:  # the norm is still logged, read or not
        assert MessageHub.get_current_instance().get_scalar(
            'train/grad_norm').current() > 0


def test_finite_flag_is_reduced_over_ranks(monkeypatch):
    """Distributed: another rank's non-finite loss (its flag reduced in by
    all_reduce(min)) makes this rank skip too, its own loss finite."""
    from mmequi.engine.optimizers import ssl_optim_wrapper
    ops = []

    def other_rank_not_finite(data, op='sum', group=None):
        ops.append(op)
        data.zero_()
    monkeypatch.setattr(ssl_optim_wrapper, 'all_reduce',
                        other_rank_not_finite)
    model = Net()
    ow = SSLOptimWrapperConstructor(
        dict(type='SSLOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))(
            model)
    ow.enable_finite_check()
    before = [p.detach().clone() for p in model.parameters()]
    ow.update_params(model(torch.randn(2, 4)).sum())
    assert ops == ['min'] and ow.last_step_skipped
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))
