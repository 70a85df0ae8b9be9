"""fp32 losses under bf16 autocast (issue 13, speed switch 2).

Every loss upcasts its inputs to (at least) fp32 and runs its softmax /
log-softmax / centring / MSE / cosine with autocast off. So a loss given
bf16 inputs inside ``torch.autocast('cpu', dtype=torch.bfloat16)`` must
equal, bit for bit, the same loss on ``inputs.float()`` outside autocast,
and be float32. (A loss that let autocast run its einsum or matmul in bf16
would differ in the low bits and fail here.)
"""
import pytest
import torch

from mmequi.models.losses import iBOTLoss, ReconLoss, VICRegLoss
from mmequi.models.losses.sie_loss import SIELoss
from mmequi.models.utils import EasySampleRescue


def bf16(*shape, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g) * 3).to(torch.bfloat16)


def _check(fn, inputs):
    """fn(*bf16 inputs) under bf16 autocast == fn(*fp32 copies) without."""
    with torch.autocast('cpu', dtype=torch.bfloat16):
        got = fn(*inputs)
    ref = fn(*(x.float() for x in inputs))
    got = got if isinstance(got, dict) else {'loss': got}
    ref = ref if isinstance(ref, dict) else {'loss': ref}
    assert got.keys() == ref.keys()
    for k in ref:
        assert got[k].dtype == torch.float32, k
        torch.testing.assert_close(got[k], ref[k], rtol=0, atol=0,
                                   equal_nan=True, msg=k)


def test_ibot_loss():
    G, L, B, N, K, K2 = 2, 3, 4, 6, 32, 24
    masks = torch.rand(G * B, N, generator=torch.Generator().manual_seed(0))
    masks = masks > 0.5
    M = int(masks.sum())
    inputs = (bf16((G + L) * B, K, seed=1), bf16(M, K2, seed=2),
              bf16(G * B, K, seed=3), bf16(G * B, N, K2, seed=4))

    def fn(s_cls, s_patch, t_cls, t_patch):
        loss = iBOTLoss(out_dim=K, patch_out_dim=K2, num_global=G,
                        num_local=L)  # fresh centres each call
        loss.center.normal_(generator=torch.Generator().manual_seed(5))
        loss.center2.normal_(generator=torch.Generator().manual_seed(6))
        out = loss(s_cls, s_patch, t_cls, t_patch, masks, teacher_temp=0.04,
                   teacher_patch_temp=0.07)
        out['center'] = loss.center.clone()  # the centre update too
        out['center2'] = loss.center2.clone()
        return out

    _check(fn, inputs)


def test_recon_loss():
    _check(ReconLoss(loss_weight=0.5),
           (bf16(2, 3, 3, 8, 8, seed=0), bf16(2, 3, 3, 8, 8, seed=1)))


def test_vicreg_loss():
    _check(VICRegLoss(gather=False), (bf16(8, 16, seed=0),
                                      bf16(8, 16, seed=1)))


def test_sie_loss():
    _check(SIELoss(), (bf16(8, 12, seed=0), bf16(8, 12, seed=1),
                       bf16(8, 6, seed=2), bf16(8, 6, seed=3),
                       bf16(8, 6, seed=4)))


def test_easy_sample_rescue_loss():
    _check(EasySampleRescue().loss, (bf16(6, 16, seed=0),
                                     bf16(6, 16, seed=1)))


@pytest.mark.parametrize('fn', [
    lambda x, y: torch.nn.functional.linear(x, y),
])
def test_the_check_can_fail(fn):
    """A matmul left to autocast runs in bf16: the check catches it."""
    with pytest.raises(AssertionError):
        _check(fn, (bf16(8, 64, seed=0), bf16(8, 64, seed=1)))
