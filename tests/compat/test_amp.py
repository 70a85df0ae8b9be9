"""AmpOptimWrapper on a CPU-only machine."""
import logging

import pytest
import torch
import torch.nn as nn
from mmengine.optim import AmpOptimWrapper

from mmequi.compat.distributed import accelerator_available

pytestmark = pytest.mark.skipif(accelerator_available(),
                                reason='tests the CPU path')


def _wrapper(**kwargs):
    model = nn.Linear(8, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    return model, AmpOptimWrapper(optimizer=opt, **kwargs)


def test_bf16_autocast_and_update():
    torch.manual_seed(0)
    model, wrapper = _wrapper()
    assert wrapper.cast_dtype == torch.bfloat16
    before = model.weight.detach().clone()
    x = torch.randn(5, 8)
    with wrapper.optim_context(model):
        out = model(x)
    assert out.dtype == torch.bfloat16
    loss = out.float().pow(2).mean()
    wrapper.backward(loss)
    grad = model.weight.grad.clone()
    assert grad.abs().sum() > 0
    wrapper.step()
    # no loss scaling on CPU: plain SGD step w' = w - lr * dL/dw
    torch.testing.assert_close(model.weight.detach(), before - 0.1 * grad)
    assert wrapper.state_dict()['loss_scaler'] == {}


def test_clip_grad_and_float16_request():
    model, wrapper = _wrapper(dtype='float16', clip_grad=dict(max_norm=1e-3))
    assert wrapper.cast_dtype == torch.bfloat16
    with wrapper.optim_context(model):
        loss = model(torch.randn(3, 8) * 100).float().sum()
    wrapper.backward(loss)
    wrapper.step()
    norm = torch.cat([p.grad.flatten() for p in model.parameters()]).norm()
    assert norm <= 1e-3 * (1 + 1e-4)


def test_full_precision_request_is_refused():
    with pytest.raises(ValueError, match='only bfloat16'):
        _wrapper(dtype='float32')
    with pytest.raises(ValueError, match='not one of'):
        _wrapper(dtype='int8')


def test_warns_on_cpu_without_native_bf16(monkeypatch):
    from mmengine.logging import MMLogger

    from mmequi.compat import amp
    records = []
    logger = MMLogger.get_current_instance()
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        monkeypatch.setattr(amp, 'cpu_has_native_bf16', lambda: False)
        _wrapper()
        monkeypatch.setattr(amp, 'cpu_has_native_bf16', lambda: True)
        _wrapper()
    finally:
        logger.removeHandler(handler)
    slow = [r for r in records if 'no native bfloat16' in r.getMessage()]
    assert len(slow) == 1 and slow[0].levelno == logging.WARNING


def test_full_precision_config_helper():
    from mmequi.utils import full_precision
    amp_cfg = dict(type='SSLAmpOptimWrapper', dtype='bfloat16',
                   loss_scale=dict(enabled=False), clip_grad=None,
                   optimizer=dict(type='AdamW', lr=1e-3))
    out = full_precision(amp_cfg)
    assert out == dict(type='SSLOptimWrapper', clip_grad=None,
                       optimizer=dict(type='AdamW', lr=1e-3))
    assert amp_cfg['type'] == 'SSLAmpOptimWrapper'  # input untouched
    plain = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    assert full_precision(plain) == plain
