"""pool_features: every read-out by hand on small arange tensors."""
import pytest
import torch

from mmequi.models.utils.pooling import pool_features


def test_pool_features_by_hand():
    tokens = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    torch.testing.assert_close(pool_features(tokens, 'cls'), tokens[:, 0])
    torch.testing.assert_close(pool_features(tokens, 'mean_patch'),
                               (tokens[:, 1] + tokens[:, 2]) / 2)
    both = pool_features((tokens, ), 'cls_mean_patch')
    assert both.shape == (2, 8)
    maps = torch.arange(2 * 4 * 2 * 2, dtype=torch.float32).reshape(
        2, 4, 2, 2)
    gap = pool_features((maps, ), 'gap', channels=(2, 4))
    torch.testing.assert_close(gap, maps[:, 2:].mean(dim=(2, 3)))
    torch.testing.assert_close(pool_features(maps, 'auto'),
                               maps.mean(dim=(2, 3)))
    torch.testing.assert_close(pool_features(tokens, 'auto'), tokens[:, 0])
    with pytest.raises(ValueError, match="feature='gap'"):
        pool_features(maps, 'cls')
    with pytest.raises(ValueError, match='channels'):
        pool_features(maps, 'gap', channels=(0, 5))
