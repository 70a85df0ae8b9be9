"""Independent oracle for ``mmequi.models.losses.iBOTLoss``.

The reference below follows the iBOT paper's loss (Zhou et al., ICLR 2022)
in the formulation of the official ``iBOTLoss``: the student patch head is
evaluated on *all* tokens and the per-token cross-entropy is multiplied by
the mask; the module under test instead receives only the masked student
patch logits (in ``masks.nonzero()`` order).  The reference is written with
explicit Python loops over teacher views, student views, images and tokens,
using float64 and 1-D soft-max helpers; it never calls the module.
"""
import math

import pytest
import torch

from mmequi.models.losses import iBOTLoss

DT = torch.float64
TOL = dict(rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------
# naive reference
# --------------------------------------------------------------------------
def _log_softmax_1d(x: torch.Tensor) -> torch.Tensor:
    """log-softmax of a single 1-D vector, written out by hand."""
    assert x.dim() == 1
    z = x - x.max().detach()
    return z - torch.log(torch.exp(z).sum())


def _ce_1d(teacher_logits, centre, t_temp, student_logits, s_temp):
    """-sum_k softmax((t - c) / t_temp)_k * log_softmax(s / s_temp)_k."""
    p = torch.exp(_log_softmax_1d((teacher_logits - centre) / t_temp))
    log_q = _log_softmax_1d(student_logits / s_temp)
    return -(p * log_q).sum()


def reference(student_cls, student_patch_full, teacher_cls, teacher_patch,
              masks, *, num_global, num_local, teacher_temp,
              teacher_patch_temp, center, center2, student_temp=0.1,
              center_momentum=0.9, center_momentum2=0.9, lambda_cls=1.0,
              lambda_patch=1.0):
    """Returns (loss_cls, loss_patch, new_center, new_center2).

    ``student_patch_full``: (G*B, N, K2) student patch logits of every token.
    Teacher tensors and centres are treated as constants.
    """
    G, V = num_global, num_global + num_local
    B = teacher_cls.shape[0] // G
    N = masks.shape[1]
    assert student_cls.shape[0] == V * B
    assert teacher_patch.shape[:2] == masks.shape == (G * B, N)
    teacher_cls = teacher_cls.detach()
    teacher_patch = teacher_patch.detach()
    c1 = center.detach().reshape(-1)
    c2 = center2.detach().reshape(-1)

    # [CLS]: every teacher global view q vs every other student view v
    pair_losses = []
    for q in range(G):
        for v in range(V):
            if v == q:
                continue
            total = 0.
            for b in range(B):
                total = total + _ce_1d(teacher_cls[q * B + b], c1,
                                       teacher_temp, student_cls[v * B + b],
                                       student_temp)
            pair_losses.append(total / B)
    loss_cls = lambda_cls * sum(pair_losses) / len(pair_losses)

    # patches: same global view only, masked tokens, per-image mean
    view_losses = []
    for q in range(G):
        total = 0.
        for b in range(B):
            i = q * B + b
            img_sum, count = 0., 0.
            for n in range(N):
                m = 1. if bool(masks[i, n]) else 0.
                ce = _ce_1d(teacher_patch[i, n], c2, teacher_patch_temp,
                            student_patch_full[i, n], student_temp)
                img_sum = img_sum + m * ce  # official: multiply by the mask
                count += m
            total = total + img_sum / max(count, 1.)
        view_losses.append(total / B)
    loss_patch = lambda_patch * sum(view_losses) / G

    # centre EMA (no gradients), from the pre-call centres
    with torch.no_grad():
        cls_sum = torch.zeros_like(c1)
        for i in range(G * B):
            cls_sum = cls_sum + teacher_cls[i]
        cls_mean = cls_sum / (G * B)
        patch_sum = torch.zeros_like(c2)
        for i in range(G * B):
            img = torch.zeros_like(c2)
            for n in range(N):
                img = img + teacher_patch[i, n]
            patch_sum = patch_sum + img / N
        patch_mean = patch_sum / (G * B)
        new_c1 = (center_momentum * c1 +
                  (1 - center_momentum) * cls_mean).reshape(1, -1)
        new_c2 = (center_momentum2 * c2 +
                  (1 - center_momentum2) * patch_mean).reshape(1, 1, -1)
    return loss_cls, loss_patch, new_c1, new_c2


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def make_inputs(G=2, L=3, B=4, N=9, K=7, K2=5, seed=0, mask_ratio=0.4,
                unmasked_images=(1, -2), scale=3.):
    g = torch.Generator().manual_seed(seed)
    V = G + L
    sc = torch.randn(V * B, K, generator=g, dtype=DT) * scale
    sp_full = torch.randn(G * B, N, K2, generator=g, dtype=DT) * scale
    tc = torch.randn(G * B, K, generator=g, dtype=DT) * scale
    tp = torch.randn(G * B, N, K2, generator=g, dtype=DT) * scale
    masks = torch.rand(G * B, N, generator=g) < mask_ratio
    for i in unmasked_images:
        masks[i] = False
    return sc, sp_full, tc, tp, masks


def build(K=7, K2=5, G=2, L=3, **kw):
    return iBOTLoss(out_dim=K, patch_out_dim=K2, num_global=G, num_local=L,
                    **kw).double()


def call(loss_fn, sc, sp_full, tc, tp, masks, tt, tt2):
    """Call the module with only the masked student patch logits."""
    out = loss_fn(sc, sp_full[masks], tc, tp, masks, teacher_temp=tt,
                  teacher_patch_temp=tt2)
    assert isinstance(out, dict)
    assert set(out) >= {'loss_cls', 'loss_patch'}
    return out


def ref(loss_fn, sc, sp_full, tc, tp, masks, tt, tt2, G, L, **kw):
    return reference(sc, sp_full, tc, tp, masks, num_global=G, num_local=L,
                     teacher_temp=tt, teacher_patch_temp=tt2,
                     center=loss_fn.center.clone(),
                     center2=loss_fn.center2.clone(), **kw)


def close(a, b, **kw):
    a = torch.as_tensor(a, dtype=DT)
    b = torch.as_tensor(b, dtype=DT)
    torch.testing.assert_close(a.detach().to(DT), b.detach().to(DT),
                               **{**TOL, **kw})


def check_against_reference(G, L, tt, tt2, init=None, seed=0, **kw):
    B, N, K, K2 = 4, 9, 7, 5
    sc, sp_full, tc, tp, masks = make_inputs(G=G, L=L, B=B, N=N, K=K, K2=K2,
                                             seed=seed)
    loss_fn = build(K, K2, G, L, **kw)
    if init is not None:
        with torch.no_grad():
            loss_fn.center.copy_(init[0])
            loss_fn.center2.copy_(init[1])
    exp_cls, exp_patch, exp_c1, exp_c2 = ref(loss_fn, sc, sp_full, tc, tp,
                                             masks, tt, tt2, G, L, **kw)
    out = call(loss_fn, sc, sp_full, tc, tp, masks, tt, tt2)
    assert out['loss_cls'].shape == torch.Size([])
    assert out['loss_patch'].shape == torch.Size([])
    close(out['loss_cls'], exp_cls)
    close(out['loss_patch'], exp_patch)
    assert loss_fn.center.shape == (1, K)
    assert loss_fn.center2.shape == (1, 1, K2)
    close(loss_fn.center, exp_c1)
    close(loss_fn.center2, exp_c2)
    return out, (exp_cls, exp_patch, exp_c1, exp_c2)


# --------------------------------------------------------------------------
# tests of the oracle itself
# --------------------------------------------------------------------------
def test_reference_closed_form_uniform_logits():
    """Sanity of the oracle: all-equal logits give CE = log(K)."""
    G, L, B, N, K, K2 = 2, 2, 3, 4, 6, 5
    sc = torch.zeros((G + L) * B, K, dtype=DT)
    tc = torch.zeros(G * B, K, dtype=DT)
    sp = torch.zeros(G * B, N, K2, dtype=DT)
    tp = torch.ones(G * B, N, K2, dtype=DT)
    masks = torch.zeros(G * B, N, dtype=torch.bool)
    masks[:, 0] = True  # every image has one masked token
    lc, lp, c1, c2 = reference(sc, sp, tc, tp, masks, num_global=G,
                               num_local=L, teacher_temp=0.04,
                               teacher_patch_temp=0.07,
                               center=torch.zeros(1, K, dtype=DT),
                               center2=torch.zeros(1, 1, K2, dtype=DT))
    assert math.isclose(float(lc), math.log(K), rel_tol=1e-12)
    assert math.isclose(float(lp), math.log(K2), rel_tol=1e-12)
    close(c1, torch.zeros(1, K, dtype=DT))
    close(c2, torch.full((1, 1, K2), 0.1, dtype=DT))


# --------------------------------------------------------------------------
# module vs reference
# --------------------------------------------------------------------------
def test_registered_and_defaults():
    from mmpretrain.registry import MODELS
    m = MODELS.build(dict(type='iBOTLoss', out_dim=7, patch_out_dim=5,
                          num_global=2, num_local=3))
    assert isinstance(m, iBOTLoss)
    # defaults: student_temp 0.1, momenta 0.9, lambdas 1.0
    m = m.double()
    sc, sp_full, tc, tp, masks = make_inputs(seed=11)
    e_cls, e_patch, e_c1, e_c2 = ref(m, sc, sp_full, tc, tp, masks, 0.04,
                                     0.07, 2, 3)
    out = call(m, sc, sp_full, tc, tp, masks, 0.04, 0.07)
    close(out['loss_cls'], e_cls)
    close(out['loss_patch'], e_patch)
    close(m.center, e_c1)
    close(m.center2, e_c2)


def test_random_logits_and_masks_match_reference():
    """G=2, L=3, B=4, N=9, K=7, K2=5, random masks, two images unmasked."""
    out, _ = check_against_reference(G=2, L=3, tt=0.04, tt2=0.04)
    assert torch.isfinite(out['loss_cls']) and torch.isfinite(
        out['loss_patch'])


def test_distinct_teacher_temps_match_reference():
    out, (e_cls, e_patch, _, _) = check_against_reference(
        G=2, L=3, tt=0.04, tt2=0.09, seed=3)
    # the test discriminates: swapping the two temperatures changes values
    sc, sp_full, tc, tp, masks = make_inputs(seed=3)
    swapped = reference(sc, sp_full, tc, tp, masks, num_global=2,
                        num_local=3, teacher_temp=0.09,
                        teacher_patch_temp=0.04,
                        center=torch.zeros(1, 7, dtype=DT),
                        center2=torch.zeros(1, 1, 5, dtype=DT))
    assert abs(float(swapped[0]) - float(e_cls)) > 1e-3
    assert abs(float(swapped[1]) - float(e_patch)) > 1e-3


def test_only_global_views_L0():
    """L=0: only the 2 cross-global [CLS] pairs (g1<-g2, g2<-g1)."""
    out, (e_cls, _, _, _) = check_against_reference(G=2, L=0, tt=0.05,
                                                     tt2=0.06, seed=5)
    # independent closed form of the two-pair mean
    sc, sp_full, tc, tp, masks = make_inputs(G=2, L=0, seed=5)
    B = 4

    def ce(t, s):
        return _ce_1d(t, torch.zeros(7, dtype=DT), 0.05, s, 0.1)

    two = sum(ce(tc[b], sc[B + b]) + ce(tc[B + b], sc[b])
              for b in range(B)) / (2 * B)
    close(out['loss_cls'], two)


def test_lambda_weights():
    kw = dict(lambda_cls=0.5, lambda_patch=2.0)
    out, _ = check_against_reference(G=2, L=3, tt=0.04, tt2=0.07, seed=7,
                                     **kw)
    base, _ = check_against_reference(G=2, L=3, tt=0.04, tt2=0.07, seed=7)
    close(out['loss_cls'], 0.5 * base['loss_cls'])
    close(out['loss_patch'], 2.0 * base['loss_patch'])


def test_custom_student_temp_and_momenta():
    check_against_reference(G=2, L=2, tt=0.04, tt2=0.07, seed=8,
                            student_temp=0.2, center_momentum=0.8,
                            center_momentum2=0.6)


def test_nonzero_initial_centres_use_old_then_update():
    g = torch.Generator().manual_seed(21)
    c1 = torch.randn(1, 7, generator=g, dtype=DT) * 2
    c2 = torch.randn(1, 1, 5, generator=g, dtype=DT) * 2
    out, (e_cls, e_patch, e_c1, e_c2) = check_against_reference(
        G=2, L=3, tt=0.04, tt2=0.07, init=(c1, c2), seed=9)
    # sanity: using the *new* centres would give clearly different losses
    sc, sp_full, tc, tp, masks = make_inputs(seed=9)
    wrong = reference(sc, sp_full, tc, tp, masks, num_global=2, num_local=3,
                      teacher_temp=0.04, teacher_patch_temp=0.07,
                      center=e_c1, center2=e_c2)
    assert abs(float(wrong[0]) - float(e_cls)) > 1e-4
    assert abs(float(wrong[1]) - float(e_patch)) > 1e-4
    # and the centres really moved from their initial values
    assert not torch.allclose(e_c1, c1) and not torch.allclose(e_c2, c2)


def test_two_consecutive_calls():
    G, L = 2, 3
    loss_fn = build(G=G, L=L)
    c1 = torch.zeros(1, 7, dtype=DT)
    c2 = torch.zeros(1, 1, 5, dtype=DT)
    for step, seed in enumerate((31, 32)):
        sc, sp_full, tc, tp, masks = make_inputs(seed=seed)
        e_cls, e_patch, c1, c2 = reference(
            sc, sp_full, tc, tp, masks, num_global=G, num_local=L,
            teacher_temp=0.04 + 0.01 * step, teacher_patch_temp=0.07,
            center=c1, center2=c2)
        out = call(loss_fn, sc, sp_full, tc, tp, masks, 0.04 + 0.01 * step,
                   0.07)
        close(out['loss_cls'], e_cls)
        close(out['loss_patch'], e_patch)
        close(loss_fn.center, c1)
        close(loss_fn.center2, c2)


def test_all_unmasked_patch_loss_is_zero_and_backprops_zeros():
    G, L, B, N, K, K2 = 2, 3, 4, 9, 7, 5
    sc, sp_full, tc, tp, masks = make_inputs(mask_ratio=0.0, seed=13)
    assert masks.sum() == 0
    # the student patch logits come out of a head with parameters
    W = torch.randn(K2, K2, dtype=DT, requires_grad=True)
    sp_masked = sp_full[masks] @ W  # (0, K2)
    sc = sc.clone().requires_grad_(True)
    loss_fn = build(K, K2, G, L)
    e_cls, e_patch, e_c1, e_c2 = ref(loss_fn, sc, sp_full, tc, tp, masks,
                                     0.04, 0.07, G, L)
    out = loss_fn(sc, sp_masked, tc, tp, masks, teacher_temp=0.04,
                  teacher_patch_temp=0.07)
    assert float(e_patch) == 0.0
    assert torch.isfinite(out['loss_patch'])
    assert float(out['loss_patch'].detach()) == 0.0
    assert torch.isfinite(out['loss_cls'])
    close(out['loss_cls'], e_cls)
    close(loss_fn.center, e_c1)
    close(loss_fn.center2, e_c2)  # centre2 still updated from all tokens
    # the patch branch stays in the graph (DDP-friendly): zero gradients
    assert out['loss_patch'].requires_grad
    (out['loss_cls'] + out['loss_patch']).backward()
    assert W.grad is not None
    assert torch.equal(W.grad, torch.zeros_like(W))
    assert sc.grad is not None and torch.isfinite(sc.grad).all()


def test_fully_masked_images_only():
    """Every token masked in every image: mask count = N everywhere."""
    G, L = 2, 1
    sc, sp_full, tc, tp, masks = make_inputs(G=G, L=L, mask_ratio=1.1,
                                             unmasked_images=(), seed=17)
    assert bool(masks.all())
    loss_fn = build(G=G, L=L)
    e = ref(loss_fn, sc, sp_full, tc, tp, masks, 0.04, 0.07, G, L)
    out = call(loss_fn, sc, sp_full, tc, tp, masks, 0.04, 0.07)
    close(out['loss_cls'], e[0])
    close(out['loss_patch'], e[1])


def test_gradients_match_reference_and_teacher_gets_none():
    G, L, B, N, K, K2 = 2, 3, 4, 9, 7, 5
    sc0, sp_full0, tc, tp, masks = make_inputs(seed=23)
    g = torch.Generator().manual_seed(99)
    c1 = torch.randn(1, K, generator=g, dtype=DT)
    c2 = torch.randn(1, 1, K2, generator=g, dtype=DT)
    a, b = 0.7, 1.3

    # reference gradients (autograd through the looped float64 reference,
    # full student patch tensor built from the masked leaf)
    sc_r = sc0.clone().requires_grad_(True)
    spm_r = sp_full0[masks].clone().requires_grad_(True)
    full_r = sp_full0.clone()
    full_r[masks] = spm_r
    lc, lp, _, _ = reference(sc_r, full_r, tc, tp, masks, num_global=G,
                             num_local=L, teacher_temp=0.04,
                             teacher_patch_temp=0.07, center=c1, center2=c2)
    (a * lc + b * lp).backward()

    # module gradients; teacher inputs require grad but must get none
    loss_fn = build(K, K2, G, L)
    with torch.no_grad():
        loss_fn.center.copy_(c1)
        loss_fn.center2.copy_(c2)
    sc_m = sc0.clone().requires_grad_(True)
    spm_m = sp_full0[masks].clone().requires_grad_(True)
    tc_m = tc.clone().requires_grad_(True)
    tp_m = tp.clone().requires_grad_(True)
    out = loss_fn(sc_m, spm_m, tc_m, tp_m, masks, teacher_temp=0.04,
                  teacher_patch_temp=0.07)
    close(out['loss_cls'], lc)
    close(out['loss_patch'], lp)
    (a * out['loss_cls'] + b * out['loss_patch']).backward()

    assert sc_m.grad is not None and spm_m.grad is not None
    close(sc_m.grad, sc_r.grad)
    close(spm_m.grad, spm_r.grad)
    assert tc_m.grad is None
    assert tp_m.grad is None
    # the centre update is gradient-free
    for buf in (loss_fn.center, loss_fn.center2):
        assert buf.grad_fn is None and not buf.requires_grad


def test_gradients_finite_differences_tiny():
    """Central differences on the module itself (momentum 1 keeps the
    centres fixed across the repeated calls)."""
    G, L, B, N, K, K2 = 2, 1, 2, 3, 3, 4
    sc, sp_full, tc, tp, masks = make_inputs(G=G, L=L, B=B, N=N, K=K, K2=K2,
                                             seed=29, unmasked_images=(1,),
                                             scale=1.)
    masks[0, 0] = True
    loss_fn = build(K, K2, G, L, center_momentum=1.0, center_momentum2=1.0)
    spm = sp_full[masks].clone()

    def f(x_cls, x_patch):
        out = loss_fn(x_cls, x_patch, tc, tp, masks, teacher_temp=0.05,
                      teacher_patch_temp=0.08)
        return out['loss_cls'] + 0.5 * out['loss_patch']

    assert torch.autograd.gradcheck(f, (sc.clone().requires_grad_(True),
                                        spm.requires_grad_(True)),
                                    eps=1e-6, atol=1e-5, rtol=1e-4)


# --------------------------------------------------------------------------
# errors and state
# --------------------------------------------------------------------------
@pytest.mark.parametrize('delta', [1, -1])
def test_student_patch_count_mismatch_raises(delta):
    sc, sp_full, tc, tp, masks = make_inputs(seed=37)
    M = int(masks.sum())
    assert M > 1
    spm = sp_full[masks]
    bad = (torch.cat([spm, spm[:1]]) if delta > 0 else spm[:-1])
    loss_fn = build()
    with pytest.raises((ValueError, AssertionError)) as info:
        loss_fn(sc, bad, tc, tp, masks, teacher_temp=0.04,
                teacher_patch_temp=0.07)
    msg = str(info.value).lower()
    assert msg, 'the error should explain the mismatch'
    assert (str(M) in msg or str(M + delta) in msg or 'mask' in msg), msg


def test_centres_are_persistent_buffers_in_state_dict():
    loss_fn = build()
    sd = loss_fn.state_dict()
    assert 'center' in sd and 'center2' in sd
    assert sd['center'].shape == (1, 7)
    assert sd['center2'].shape == (1, 1, 5)
    assert torch.count_nonzero(sd['center']) == 0
    assert torch.count_nonzero(sd['center2']) == 0
    # after a step the updated centres survive a state-dict round trip
    sc, sp_full, tc, tp, masks = make_inputs(seed=41)
    call(loss_fn, sc, sp_full, tc, tp, masks, 0.04, 0.07)
    fresh = build()
    fresh.load_state_dict(loss_fn.state_dict())
    close(fresh.center, loss_fn.center, rtol=0, atol=0)
    close(fresh.center2, loss_fn.center2, rtol=0, atol=0)
    assert torch.count_nonzero(fresh.center) > 0


def test_float32_module_and_inputs_match_reference():
    """Default (float32) buffers with float32 inputs, as in real training;
    looser tolerance for single precision."""
    G, L = 2, 3
    sc, sp_full, tc, tp, masks = make_inputs(seed=43)
    loss_fn = iBOTLoss(out_dim=7, patch_out_dim=5, num_global=G, num_local=L)
    with torch.no_grad():
        loss_fn.center.copy_(torch.linspace(-1, 1, 7).view(1, 7))
        loss_fn.center2.copy_(torch.linspace(1, -1, 5).view(1, 1, 5))
    e = ref(loss_fn, sc, sp_full, tc, tp, masks, 0.04, 0.07, G, L)
    f32 = [x.float() for x in (sc, sp_full, tc, tp)]
    out = call(loss_fn, *f32, masks, 0.04, 0.07)
    tol = dict(rtol=1e-5, atol=1e-5)
    close(out['loss_cls'], e[0], **tol)
    close(out['loss_patch'], e[1], **tol)
    close(loss_fn.center, e[2], **tol)
    close(loss_fn.center2, e[3], **tol)


def test_masked_teacher_rows_with_their_mean_match_reference():
    """The cheaper input form (teacher patch logits of the masked tokens
    only, plus each image's mean over all tokens for the centre) gives the
    reference's losses, centres, gradients and monitor figures."""
    G, L = 2, 3
    sc, sp_full, tc, tp, masks = make_inputs(seed=47)
    init = (torch.linspace(-1, 1, 7, dtype=DT).view(1, 7),
            torch.linspace(1, -1, 5, dtype=DT).view(1, 1, 5))
    outs, grads, centres = [], [], []
    for masked_form in (False, True):
        loss_fn = build()
        with torch.no_grad():
            loss_fn.center.copy_(init[0])
            loss_fn.center2.copy_(init[1])
        e = ref(loss_fn, sc, sp_full, tc, tp, masks, 0.04, 0.07, G, L)
        s_cls = sc.clone().requires_grad_()
        s_patch = sp_full[masks].clone().requires_grad_()
        extra = dict(teacher_patch_mean=tp.mean(1)) if masked_form else {}
        out = loss_fn(s_cls, s_patch, tc, tp[masks] if masked_form else tp,
                      masks, teacher_temp=0.04, teacher_patch_temp=0.07,
                      **extra)
        close(out['loss_cls'], e[0])
        close(out['loss_patch'], e[1])
        close(loss_fn.center, e[2])
        close(loss_fn.center2, e[3])
        (out['loss_cls'] + out['loss_patch']).backward()
        outs.append(out)
        grads.append((s_cls.grad, s_patch.grad))
        centres.append((loss_fn.center, loss_fn.center2))
    assert set(outs[0]) == set(outs[1])
    for key in outs[0]:
        close(outs[1][key], outs[0][key])
    for a, b in zip(grads[1] + centres[1], grads[0] + centres[0]):
        close(a, b)
    # the mean really feeds the centre: another mean, another centre
    loss_fn = build()
    loss_fn(sc, sp_full[masks], tc, tp[masks], masks, teacher_temp=0.04,
            teacher_patch_temp=0.07, teacher_patch_mean=tp.mean(1) + 1)
    close(loss_fn.center2, e[3] - 0.9 * init[1] + 0.1)  # zero start
    with pytest.raises(ValueError, match='teacher_patch_mean'):
        loss_fn(sc, sp_full[masks], tc, tp[masks], masks, teacher_temp=0.04,
                teacher_patch_temp=0.07, teacher_patch_mean=tp.mean(1)[1:])
    with pytest.raises(ValueError, match='teacher patch'):
        loss_fn(sc, sp_full[masks], tc, tp[masks][1:], masks,
                teacher_temp=0.04, teacher_patch_temp=0.07,
                teacher_patch_mean=tp.mean(1))
