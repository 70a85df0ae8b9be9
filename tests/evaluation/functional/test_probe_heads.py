"""Probe heads on fixed features: the linear classifier on separable /
unrelated toys, ridge R² against an independent numpy solve."""
import numpy as np
import torch

from mmequi.evaluation.functional import fit_linear_probe, ridge_r2


def _blobs(n, c=5, d=16, seed=0, shift=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(c, d, generator=torch.Generator().manual_seed(9))
    y = (torch.arange(n) + shift) % c
    return centres[y] * 4 + torch.randn(n, d, generator=g), y


def test_linear_probe_separable_and_not():
    xtr, ytr = _blobs(200)
    xva, yva = _blobs(100, seed=1)
    acc = fit_linear_probe(xtr, ytr, xva, yva, 5, epochs=30, batch_size=32)
    assert acc[1] == 100.0 and acc[5] == 100.0
    # labels unrelated to the features: near chance (20 %)
    rnd = torch.randint(0, 5, (100, ), generator=torch.Generator().
                        manual_seed(3))
    assert fit_linear_probe(xtr, ytr, xva, rnd, 5, epochs=30,
                            batch_size=32)[1] < 50.0
    # no global RNG use: same result, untouched global state
    state = torch.get_rng_state()
    again = fit_linear_probe(xtr, ytr, xva, yva, 5, epochs=30, batch_size=32,
                             optimizer=dict(type='SGD', lr=0.1,
                                            momentum=0.9))
    assert torch.equal(state, torch.get_rng_state()) and again[1] == 100.0


def test_ridge_r2_separates_signal_from_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 10, generator=g)
    y = x @ torch.randn(10, 1, generator=g) + 0.01 * torch.randn(
        300, 1, generator=g)
    assert ridge_r2(x[:200], y[:200], x[200:], y[200:], alpha=1e-3) > 0.99
    noise = torch.randn(300, 1, generator=g)
    assert ridge_r2(x[:200], noise[:200], x[200:], noise[200:]) < 0.1


def test_ridge_r2_matches_numpy_solution():
    """The same ridge fit (standardised features, unpenalised intercept)
    solved as an augmented least-squares problem in numpy; SIE's R²
    (1 - SSE / SST over all entries, about the global mean)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(120, 6)) * rng.uniform(0.5, 3, 6) + 2.0
    y = x[:, :2] @ rng.normal(size=(2, 3)) + rng.normal(size=(120, 3))
    alpha = 5.0
    tr, va = slice(0, 80), slice(80, None)
    mean, std = x[tr].mean(0), x[tr].std(0, ddof=1)
    z = (x - mean) / std
    # min |z w + b - y|² + alpha |w|²  <=>  lstsq on [z 1; sqrt(a) I 0]
    a = np.block([[z[tr], np.ones((80, 1))],
                  [np.sqrt(alpha) * np.eye(6), np.zeros((6, 1))]])
    rhs = np.concatenate([y[tr], np.zeros((6, 3))])
    coef = np.linalg.lstsq(a, rhs, rcond=None)[0]
    pred = z[va] @ coef[:6] + coef[6]
    ref = 1 - (((y[va] - pred) ** 2).sum()
               / ((y[va] - y[va].mean()) ** 2).sum())
    got = ridge_r2(torch.from_numpy(x[tr]), torch.from_numpy(y[tr]),
                   torch.from_numpy(x[va]), torch.from_numpy(y[va]),
                   alpha=alpha)
    np.testing.assert_allclose(got, ref, rtol=1e-9)


def test_linear_probe_labels_beyond_num_classes_are_a_clear_error():
    import pytest
    xtr, ytr = _blobs(20)  # labels 0..4
    with pytest.raises(ValueError, match=(
            r'fit_linear_probe \(train labels\) has 4 classes .* largest '
            r'label seen is 4; set num_classes')):
        fit_linear_probe(xtr, ytr, xtr, ytr % 4, 4, epochs=1)
    with pytest.raises(ValueError, match=r'\(val labels\) has 5 classes'):
        fit_linear_probe(xtr, ytr, xtr, ytr + 1, 5, epochs=1)
