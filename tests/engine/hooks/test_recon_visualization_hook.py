import numpy as np
import pytest
import torch

from mmequi.engine.hooks import ReconVisualizationHook
from tests.models.algorithms.test_ibot_equi_recon import build, raw_batch


def test_grid_layout_and_content():
    model = build()
    batch = raw_batch()
    img = ReconVisualizationHook(num_samples=2).render(model, batch)
    # 2 rows x (u, û1, u1, û2, u2, v2), 32 px tiles, make_grid padding 2
    assert img.dtype == np.uint8 and img.shape == (2 * 34 + 2, 6 * 34 + 2, 3)
    u = batch['inputs'][1][0].permute(1, 2, 0).numpy()  # first sample's u
    np.testing.assert_allclose(img[2:34, 2:34].astype(int), u.astype(int),
                               atol=1)
    assert model.training  # restored


def test_no_decoders_no_image_and_bad_args():
    model = build(d_equi=0)
    assert ReconVisualizationHook().render(model, raw_batch()) is None
    with pytest.raises(ValueError, match='interval'):
        ReconVisualizationHook(interval=0)
    torch.manual_seed(0)


def test_render_leaves_the_run_unchanged():
    """Own RNG and copies of the data samples: the training batch and the
    global generator are as they were."""
    model = build()
    batch = raw_batch()
    torch.manual_seed(7)
    state = torch.get_rng_state()
    ReconVisualizationHook(num_samples=2).render(model, batch)
    assert torch.equal(torch.get_rng_state(), state)
    assert all('equi_theta' not in ds for ds in batch['data_samples'])
