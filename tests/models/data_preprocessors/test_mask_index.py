"""Host-made masked-token indices (issue 13: no host sync in the step)."""
import pytest
import torch
from mmpretrain.structures import DataSample

from mmequi.models.data_preprocessors import (add_mask_token_index,
                                              gather_mask_token_index)


def samples(B=3, G=2, h=4, w=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    out = []
    for b in range(B):
        s = DataSample()
        m = torch.rand(G, h, w, generator=g) > 0.6
        if b == 1:
            m[:] = False  # an image without masked tokens
        s.set_mask(m)
        out.append(s)
    return out


@pytest.mark.parametrize('G', [1, 2, 3])
def test_index_is_the_row_major_nonzero_of_the_view_major_mask(G):
    data = samples(G=G)
    add_mask_token_index(data)
    # the model's layout: (B, G, h, w) -> (G*B, N), row g*B + b
    masks = torch.stack([s.mask for s in data]).transpose(0, 1)
    masks = masks.flatten(0, 1).flatten(1)
    index = gather_mask_token_index(data, G, masks.shape[1])
    assert index.dtype == torch.int64
    torch.testing.assert_close(index, masks.flatten().nonzero()[:, 0],
                               rtol=0, atol=0)
    x = torch.randn(*masks.shape, 7)
    assert torch.equal(x.flatten(0, 1).index_select(0, index), x[masks])


def test_survives_the_move_to_the_device_dtype_and_order():
    data = samples()
    add_mask_token_index(data)
    moved = [s.to('cpu') for s in data]  # as cast_data does
    masks = torch.stack([s.mask for s in data]).transpose(0, 1)
    masks = masks.flatten(0, 1).flatten(1)
    assert torch.equal(gather_mask_token_index(moved, 2, 20),
                       masks.flatten().nonzero()[:, 0])


def test_no_masks_no_index_and_clear_errors():
    plain = [DataSample() for _ in range(2)]
    add_mask_token_index(plain)
    assert gather_mask_token_index(plain, 2, 20) is None
    mixed = samples(B=2)
    mixed.append(DataSample())
    with pytest.raises(ValueError, match='carry no "mask"'):
        add_mask_token_index(mixed)
    data = samples(B=3)
    add_mask_token_index(data)
    with pytest.raises(ValueError, match=r'\(B, G, N\) = \(3, 2, 20\)'):
        gather_mask_token_index(data[:2], 2, 20)  # re-batched
