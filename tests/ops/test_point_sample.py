"""mmcv.ops.point_sample (pure PyTorch in mmcv: F.grid_sample) vs a
hand-written bilinear loop with zero padding."""
import mmequi  # noqa: F401  (installs the mmcv op backend first)

import math

import numpy as np
import pytest
import torch
from mmcv.ops import point_sample


def ref_point_sample(inp, points, align_corners):
    """inp (N, C, H, W); points (N, P, 2) as (x, y) in [0, 1]."""
    inp = np.asarray(inp, dtype=np.float64)
    n, c, h, w = inp.shape
    out = np.zeros((n, c, points.shape[1]))
    for b in range(n):
        for i, (px, py) in enumerate(np.asarray(points[b], dtype=np.float64)):
            if align_corners:
                x, y = px * (w - 1), py * (h - 1)
            else:
                x, y = px * w - 0.5, py * h - 0.5
            x0, y0 = math.floor(x), math.floor(y)
            for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
                for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                    if 0 <= yy < h and 0 <= xx < w:  # zeros padding
                        out[b, :, i] += wy * wx * inp[b, :, yy, xx]
    return out


@pytest.mark.parametrize('align_corners', [False, True])
def test_point_sample_matches_loop(align_corners):
    g = torch.Generator().manual_seed(0)
    inp = torch.randn(2, 3, 5, 6, generator=g)
    points = torch.rand(2, 17, 2, generator=g) * 1.2 - 0.1  # some outside
    points[0, :4] = torch.tensor([[0., 0.], [1., 1.], [0.5, 0.5], [1., 0.]])
    got = point_sample(inp, points, align_corners=align_corners)
    assert got.shape == (2, 3, 17)
    expect = ref_point_sample(inp.numpy(), points.numpy(), align_corners)
    np.testing.assert_allclose(got.numpy(), expect, rtol=1e-5, atol=1e-5)
    # 4-D points (N, Hgrid, Wgrid, 2) give the same samples
    grid = point_sample(inp, points.view(2, 17, 1, 2),
                        align_corners=align_corners)
    torch.testing.assert_close(grid.view(2, 3, 17), got)
    if align_corners:  # corners hit pixel centres exactly
        torch.testing.assert_close(got[0, :, 0], inp[0, :, 0, 0])
        torch.testing.assert_close(got[0, :, 1], inp[0, :, -1, -1])
