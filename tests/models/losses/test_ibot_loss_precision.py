"""The iBOT loss is computed in fp32 even inside a bf16 autocast region."""
import torch

from mmequi.models.losses import iBOTLoss


def _inputs(G=2, L=2, B=3, N=6, K=4096):
    g = torch.Generator().manual_seed(0)
    masks = torch.rand(G * B, N, generator=g) > 0.5
    return (torch.randn((G + L) * B, K, generator=g) * 3,
            torch.randn(int(masks.sum()), K, generator=g) * 3,
            torch.randn(G * B, K, generator=g) * 3,
            torch.randn(G * B, N, K, generator=g) * 3, masks)


def test_autocast_does_not_lower_the_loss_precision():
    args = _inputs()
    ref = iBOTLoss(out_dim=4096, patch_out_dim=4096, num_local=2)(
        *args, teacher_temp=0.04, teacher_patch_temp=0.07)
    loss = iBOTLoss(out_dim=4096, patch_out_dim=4096, num_local=2)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = loss(*args, teacher_temp=0.04, teacher_patch_temp=0.07)
    for k in ref:
        assert out[k].dtype == torch.float32
        torch.testing.assert_close(out[k], ref[k], rtol=1e-6, atol=1e-6)
    # bf16 logits (as the neck emits under autocast) are upcast, not used raw
    bf = [a.bfloat16() if a.dtype == torch.float32 else a for a in args]
    out = iBOTLoss(out_dim=4096, patch_out_dim=4096, num_local=2)(
        *bf, teacher_temp=0.04, teacher_patch_temp=0.07)
    assert all(v.dtype == torch.float32 for v in out.values())
