"""CompileModelHook: opt-in torch.compile of the backbones (issue 13)."""
import copy
import io
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import HOOKS

from mmequi.engine.hooks import CompileModelHook
from tests.models.algorithms import test_ibot


class FakeWrapper(torch.nn.Module):
    """A model wrapper (``is_model_wrapper`` is true for DDP-likes)."""

    def __init__(self, module):
        super().__init__()
        self.module = module


def _loss_and_grads(model, data):
    model.zero_grad()
    torch.manual_seed(5)  # drop path: the same draws in both runs
    losses = model._run_forward(data, mode='loss')
    loss, _ = model.parse_losses(losses)
    loss.backward()
    return ({k: v.detach() for k, v in losses.items()},
            {n: p.grad.clone() for n, p in model.named_parameters()
             if p.grad is not None})


def test_compiled_backbones_give_the_same_loss_and_keep_the_keys():
    torch._dynamo.reset()
    plain = test_ibot.tiny_ibot().train()
    compiled = copy.deepcopy(plain)
    data = plain.data_preprocessor(test_ibot.batch(), True)
    ref = _loss_and_grads(plain, data)

    hook = HOOKS.build(dict(type='CompileModelHook', backend='aot_eager'))
    assert isinstance(hook, CompileModelHook)
    runner = SimpleNamespace(model=compiled)
    hook.before_train(runner)
    assert compiled.backbone._compiled_call_impl is not None
    assert compiled.teacher.backbone._compiled_call_impl is not None
    assert compiled.neck._compiled_call_impl is None  # only those named

    got = _loss_and_grads(compiled, data)
    for x, y in ((got[0], ref[0]), (got[1], ref[1])):
        assert x.keys() == y.keys()
        for k in y:
            torch.testing.assert_close(x[k], y[k], rtol=1e-5, atol=1e-6,
                                       equal_nan=True, msg=k)

    # state-dict keys unchanged; the checkpoint loads into a plain model
    assert list(compiled.state_dict()) == list(plain.state_dict())
    buf = io.BytesIO()
    torch.save(compiled.state_dict(), buf)
    buf.seek(0)
    fresh = test_ibot.tiny_ibot()
    fresh.load_state_dict(torch.load(buf, weights_only=True), strict=True)
    for k, v in compiled.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
    torch._dynamo.reset()


def test_unwraps_the_model_and_names_a_missing_module(monkeypatch):
    compiled = []
    monkeypatch.setattr(torch.nn.Module, 'compile',
                        lambda self, **kw: compiled.append((self, kw)))
    model = test_ibot.tiny_ibot()
    monkeypatch.setattr('mmequi.engine.hooks.compile_model_hook.'
                        'is_model_wrapper',
                        lambda m: isinstance(m, FakeWrapper))
    hook = CompileModelHook(modules=('backbone', ), mode='max-autotune')
    hook.before_train(SimpleNamespace(model=FakeWrapper(model)))
    assert [m for m, _ in compiled] == [model.backbone]
    assert compiled[0][1] == dict(backend='inductor', mode='max-autotune',
                                  dynamic=None)
    bad = CompileModelHook(modules=('backbone', 'teacher.bakbone'))
    with pytest.raises(KeyError, match="'teacher.bakbone'.*children"):
        bad.before_train(SimpleNamespace(model=model))
    assert len(compiled) == 1  # nothing compiled on an error
    with pytest.raises(ValueError, match='non-empty sequence'):
        CompileModelHook(modules='backbone')
