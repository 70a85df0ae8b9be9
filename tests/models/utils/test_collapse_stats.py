"""Collapse figures against hand-derived values and a naive loop."""
import math

import pytest
import torch

from mmequi.models.utils.collapse_stats import teacher_collapse_stats


def _naive(p):
    """mean_r H(p_r) / ln K and exp(H(mean_r p_r)) with Python loops."""
    rows, k = len(p), len(p[0])
    h = 0.0
    for row in p:
        h += -sum(x * math.log(x) for x in row if x > 0)
    mean = [sum(p[r][j] for r in range(rows)) / rows for j in range(k)]
    h_mean = -sum(x * math.log(x) for x in mean if x > 0)
    return h / rows / math.log(k), math.exp(h_mean)


def test_hand_derived_extremes():
    k = 8
    out = teacher_collapse_stats(
        [torch.full((5, k), 1 / k),                      # uniform
         torch.eye(k)[[3, 3, 3, 3]],                     # one prototype
         torch.eye(k)[[0, 1, 2, 3]]],                    # sharp, spread
        ['u', 'o', 's'])
    assert out['u_entropy'] == pytest.approx(1.0)
    assert out['u_protos'] == pytest.approx(k)
    assert out['o_entropy'] == pytest.approx(0.0, abs=1e-6)
    assert out['o_protos'] == pytest.approx(1.0)
    assert out['s_entropy'] == pytest.approx(0.0, abs=1e-6)
    assert out['s_protos'] == pytest.approx(4.0)  # 4 prototypes, equally


def test_random_rows_match_a_loop():
    g = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(7, 11, generator=g) * 3, -1)
    out = teacher_collapse_stats([p], ['t'])
    ent, protos = _naive(p.double().tolist())
    assert float(out['t_entropy']) == pytest.approx(ent, rel=1e-5)
    assert float(out['t_protos']) == pytest.approx(protos, rel=1e-5)


def test_no_rows_is_nan_and_bad_shapes_raise():
    out = teacher_collapse_stats([torch.zeros(0, 4)], ['t'])
    assert math.isnan(out['t_entropy']) and math.isnan(out['t_protos'])
    with pytest.raises(ValueError, match=r'\(R, K\)'):
        teacher_collapse_stats([torch.zeros(4)], ['t'])
    with pytest.raises(ValueError, match='names'):
        teacher_collapse_stats([torch.zeros(1, 4)], [])


def test_ibot_loss_reports_the_teacher_figures():
    """The loss's figures are those of softmax((t - c) / τ) of its inputs
    (before the centre update)."""
    from mmequi.models.losses import iBOTLoss
    g = torch.Generator().manual_seed(1)
    G, L, B, N, K = 2, 1, 3, 4, 6
    loss = iBOTLoss(out_dim=K, patch_out_dim=K, num_local=L)
    loss.center.normal_(generator=g)
    loss.center2.normal_(generator=g)
    c1, c2 = loss.center.clone(), loss.center2.clone()
    t_cls = torch.randn(G * B, K, generator=g)
    t_patch = torch.randn(G * B, N, K, generator=g)
    masks = torch.rand(G * B, N, generator=g) > 0.5
    out = loss(torch.randn((G + L) * B, K, generator=g),
               torch.randn(int(masks.sum()), K, generator=g), t_cls,
               t_patch, masks, teacher_temp=0.04, teacher_patch_temp=0.07)
    ent, protos = _naive(torch.softmax((t_cls - c1) / 0.04, -1).tolist())
    assert float(out['teacher_cls_entropy']) == pytest.approx(ent, rel=1e-5)
    assert float(out['teacher_cls_protos']) == pytest.approx(protos,
                                                             rel=1e-5)
    ent, protos = _naive(torch.softmax(
        (t_patch[masks] - c2[0]) / 0.07, -1).tolist())
    assert float(out['teacher_patch_entropy']) == pytest.approx(ent,
                                                                rel=1e-5)
    assert float(out['teacher_patch_protos']) == pytest.approx(protos,
                                                               rel=1e-5)
    assert not any(out[k].requires_grad for k in out if 'teacher' in k)
    quiet = iBOTLoss(out_dim=K, patch_out_dim=K, num_local=L, monitor=False)
    assert set(quiet(torch.randn((G + L) * B, K), torch.randn(
        int(masks.sum()), K), t_cls, t_patch, masks, teacher_temp=0.04,
        teacher_patch_temp=0.07)) == {'loss_cls', 'loss_patch'}
