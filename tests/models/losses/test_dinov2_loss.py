"""DINOv2Loss against an independent loop of the published DINOv2 formulas
(Oquab et al., TMLR 2024: DINO [CLS] loss over the global cross pairs and
the (global, local) pairs normalised by their number, iBOT patch loss over
masked tokens, KoLeo on each global view's [CLS] features, Sinkhorn-Knopp
teacher) and a hand-computed tiny case."""
import math

import mmequi  # noqa: F401  (registries)
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.registry import MODELS

from mmequi.models.losses import DINOv2Loss, iBOTLoss

from .test_koleo_loss import _naive as naive_koleo
from .test_sinkhorn_knopp import _naive as naive_sk

G, L, B, N, K, C = 2, 3, 4, 6, 5, 7
TAU_T, TAU_S = 0.05, 0.1


def _inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    masks = torch.rand(G * B, N, generator=g) < 0.4
    masks[1] = False  # an image without masked tokens
    M = int(masks.sum())
    return dict(
        s_cls=torch.randn((G + L) * B, K, generator=g),
        s_patch=torch.randn(M, K, generator=g),
        t_cls=torch.randn(G * B, K, generator=g),
        t_patch=torch.randn(G * B, N, K, generator=g),
        masks=masks,
        feats=torch.randn(G * B, C, generator=g))


def _reference(x, koleo_weight):
    """The published computation, view by view, in loops (float64)."""
    s_cls = x['s_cls'].double().view(G + L, B, K)
    t = naive_sk(x['t_cls'], TAU_T).view(G, B, K)  # SK over the G*B rows
    masks = x['masks']
    rows = x['t_patch'].flatten(0, 1)[masks.flatten()]  # (M, K)
    tp = naive_sk(rows, TAU_T)  # SK over the masked tokens

    def ce(p, logits):
        return -(p * F.log_softmax(logits / TAU_S, -1)).sum().item()

    # DINO: teacher global q vs student global 1-q (cross pairs), and every
    # local crop vs every teacher global; each term a batch mean
    terms = [sum(ce(t[1 - q, b], s_cls[q, b]) for b in range(B)) / B
             for q in range(G)]
    terms += [sum(ce(t[q, b], s_cls[G + v, b]) for b in range(B)) / B
              for v in range(L) for q in range(G)]
    dino = sum(terms) / (G * (G - 1) + G * L)
    # iBOT patches: per image Σ masked CE / max(count, 1), / (G*B) images
    s_patch = x['s_patch'].double()
    patch, m = 0.0, 0
    for img in range(G * B):
        count = int(masks[img].sum())
        for _ in range(count):
            patch += ce(tp[m], s_patch[m]) / count
            m += 1
    patch /= G * B
    koleo = koleo_weight * sum(naive_koleo(f)
                               for f in x['feats'].chunk(G))
    return dino, patch, koleo


def _loss(**kw):
    return DINOv2Loss(out_dim=K, patch_out_dim=K, num_global=G, num_local=L,
                      student_temp=TAU_S, **kw)


def _call(loss, x, **kw):
    return loss(x['s_cls'], x['s_patch'], x['t_cls'], x['t_patch'],
                x['masks'], teacher_temp=TAU_T, teacher_patch_temp=TAU_T,
                student_global_cls=x['feats'], **kw)


@pytest.mark.parametrize('seed', [0, 1])
def test_against_loop_reference(seed):
    x = _inputs(seed)
    out = _call(_loss(), x)
    dino, patch, koleo = _reference(x, 0.1)
    assert out['loss_cls'].item() == pytest.approx(dino, rel=1e-5)
    assert out['loss_patch'].item() == pytest.approx(patch, rel=1e-5)
    assert out['loss_koleo'].item() == pytest.approx(koleo, rel=1e-5)


def test_masked_rows_form_gives_the_same_losses():
    """The algorithm's form (masked teacher rows + per-image mean)."""
    x = _inputs(2)
    full = _call(_loss(), x)
    rows = x['t_patch'].flatten(0, 1)[x['masks'].flatten()]
    y = dict(x, t_patch=rows)
    part = _call(_loss(), y, teacher_patch_mean=x['t_patch'].mean(1))
    for key in ('loss_cls', 'loss_patch', 'loss_koleo'):
        torch.testing.assert_close(part[key], full[key])


def test_hand_computed_tiny_case():
    """G=2, L=0, B=1, K=2: Sinkhorn-Knopp runs over the G*B = 2 rows; two
    equal rows get the uniform target (each column splits evenly), however
    peaked their softmax; student view 0 has softmax(s/τ) = (3/4, 1/4), view 1 uniform:
    L_DINO = (CE(u, s1) + CE(u, s0)) / 2 = (ln 2 + ln 4 − ½ ln 3) / 2."""
    loss = DINOv2Loss(out_dim=2, patch_out_dim=2, num_global=2, num_local=0,
                      koleo_weight=0.0)
    s_cls = torch.tensor([[0.1 * math.log(3), 0.0], [0.0, 0.0]])
    out = loss(s_cls, torch.zeros(0, 2), torch.tensor([[5.0, 1.0],
                                                       [5.0, 1.0]]),
               torch.zeros(2, 4, 2), torch.zeros(2, 4, dtype=torch.bool),
               teacher_temp=0.04, teacher_patch_temp=0.04)
    expected = (math.log(2) + math.log(4) - 0.5 * math.log(3)) / 2
    assert out['loss_cls'].item() == pytest.approx(expected, abs=1e-6)
    assert out['loss_patch'].item() == 0.0 and 'loss_koleo' not in out


def test_centering_mode_is_ibot_plus_koleo():
    x = _inputs(3)
    ours = _loss(centering='centering', koleo_weight=0.1)
    ref = iBOTLoss(out_dim=K, patch_out_dim=K, num_global=G, num_local=L,
                   student_temp=TAU_S)
    for module in (ours, ref):
        module.center.normal_()
        module.center2.normal_()
    ref.load_state_dict(ours.state_dict())
    a = _call(ours, x)
    b = ref(x['s_cls'], x['s_patch'], x['t_cls'], x['t_patch'], x['masks'],
            teacher_temp=TAU_T, teacher_patch_temp=TAU_T)
    for key in b:
        torch.testing.assert_close(a[key], b[key])
    torch.testing.assert_close(ours.center, ref.center)  # both updated
    assert a['loss_koleo'].item() == pytest.approx(
        0.1 * sum(naive_koleo(f) for f in x['feats'].chunk(G)), rel=1e-5)


def test_sinkhorn_mode_leaves_centres_alone():
    loss = _loss()
    _call(loss, _inputs())
    assert not loss.center.any() and not loss.center2.any()


def test_config_errors():
    with pytest.raises(ValueError, match='centering'):
        _loss(centering='softmax')
    with pytest.raises(ValueError, match='student_global_cls'):
        x = _inputs()
        _loss()(x['s_cls'], x['s_patch'], x['t_cls'], x['t_patch'],
                x['masks'], teacher_temp=TAU_T, teacher_patch_temp=TAU_T)
    built = MODELS.build(dict(type='DINOv2Loss'))
    assert (built.out_dim, built.num_local, built.koleo_weight,
            built.centering) == (65536, 8, 0.1, 'sinkhorn_knopp')
