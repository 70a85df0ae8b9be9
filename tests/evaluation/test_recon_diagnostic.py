"""The reconstruction diagnostic against values computed by hand from the
same preprocessed batch."""
import numpy as np
import pytest
import torch

from mmequi.evaluation import BASELINES, recon_diagnostic
from tests.models.algorithms.test_ibot_equi_recon import build, raw_batch


def _mse(a, b):
    return float((a - b).square().mean())


def test_errors_match_a_direct_computation():
    model = build()
    batches = [raw_batch(0), raw_batch(1)]
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    errors, grid = recon_diagnostic(model, batches, seed=5, num_show=2)
    assert torch.equal(torch.rand(3), before)  # RNG untouched
    assert list(errors) == list(BASELINES) + ['samples']
    assert errors['samples'] == 6
    # the same θ draws by hand: seed 5, one preprocessor call per batch
    pre = model.data_preprocessor
    torch.manual_seed(5)
    rows = {k: [] for k in ('model', 'swap_z1', 'copy_v2', 'copy_u')}
    targets_all = []
    for batch in batches:
        data = pre(batch, False)
        views, targets = data['inputs']['views'], data['inputs']['targets']
        preds = model.reconstruct(data['inputs'], data['data_samples'])
        u = pre.pixels.normalize(batch['inputs'][1].float() / 255)
        z, hw = model.equi_features(data['inputs'], data['data_samples'])
        z[0] = z[0][[2, 0, 1]]  # roll by one: sample i gets i - 1's z1
        swapped = model.decode_equi(z, hw)
        for i in range(targets.shape[1]):
            rows['model'].append(np.mean([_mse(p[i], t[i]) for p, t in
                                          zip(preds, targets)]))
            rows['swap_z1'].append(np.mean([_mse(p[i], t[i]) for p, t in
                                            zip(swapped, targets)]))
            rows['copy_v2'].append(np.mean([_mse(views[1][i], t[i])
                                            for t in targets]))
            rows['copy_u'].append(np.mean([_mse(u[i], t[i])
                                           for t in targets]))
        targets_all.append(targets)
    for key, vals in rows.items():
        assert errors[key] == pytest.approx(np.mean(vals), rel=1e-5), key
    t = torch.cat(targets_all, 1)  # (K, n, 3, H, W)
    mean_img = t.mean(1, keepdim=True)
    assert errors['mean_image'] == pytest.approx(
        float((t - mean_img).square().mean()), rel=1e-4)
    assert errors['swap_z2'] != errors['model']
    # 2 rows of v1 | u | (û_k | u_k) x 2 | v2 on 32 px tiles, 2 px padding
    assert grid.shape == (2 + 2 * 34, 2 + 7 * 34, 3) and grid.dtype == np.uint8


def test_refuses_models_without_decoders():
    with pytest.raises(TypeError, match='no reconstruction decoders'):
        recon_diagnostic(build(d_equi=0), [raw_batch()])
