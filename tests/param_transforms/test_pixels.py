"""The one pixel normaliser reproduces, bit for bit, each formula it
replaced (the equi-recon preprocessor's ``[0, 1]`` form, the probe
preprocessor's and online probe hook's 0..255 form) and converts uint8 with
an explicit channel flip."""
import pytest
import torch

from mmequi.param_transforms import PixelNormalizer, to_uint8, to_unit

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _stats():
    return (torch.tensor(MEAN).view(-1, 1, 1),
            torch.tensor(STD).view(-1, 1, 1))


def _pixels(seed=0):
    g = torch.Generator().manual_seed(seed)
    u8 = torch.randint(0, 256, (4, 3, 9, 11), dtype=torch.uint8, generator=g)
    return u8, u8.float() / 255.0


def test_unit_form_is_the_old_equi_recon_formula():
    mean, std = _stats()
    _, x01 = _pixels()
    pix = PixelNormalizer(MEAN, STD, value_max=1.0)
    y = pix.normalize(x01)
    assert torch.equal(y, (x01 - mean / 255.0) / (std / 255.0))
    assert torch.equal(pix.denormalize(y),
                       y * (std / 255.0) + mean / 255.0)
    torch.testing.assert_close(pix.denormalize(y), x01, atol=1e-6, rtol=0)
    off = PixelNormalizer(value_max=1.0)
    assert torch.equal(off.normalize(x01), x01)
    assert torch.equal(off.denormalize(x01), x01)


def test_byte_form_is_the_old_probe_and_hook_formula():
    mean, std = _stats()
    u8, x01 = _pixels(1)
    pix = PixelNormalizer(MEAN, STD, value_max=255.0)
    y = pix.normalize(x01)
    assert torch.equal(y, (x01 * 255.0 - mean) / std)
    assert torch.equal(pix.denormalize(y), (y * std + mean) / 255.0)
    # matches mmpretrain's ClsDataPreprocessor output (u8 - mean) / std
    torch.testing.assert_close(y, (u8.float() - mean) / std, atol=1e-5,
                               rtol=0)
    off = PixelNormalizer(value_max=255.0)
    assert torch.equal(off.normalize(x01), x01 * 255.0)
    assert torch.equal(off.denormalize(x01 * 255.0), x01 * 255.0 / 255.0)


def test_integer_statistics_and_statistics_not_in_state_dict():
    pix = PixelNormalizer([100, 110, 120], [50, 60, 70])
    _, x01 = _pixels(2)
    mean = torch.tensor([100.0, 110.0, 120.0]).view(3, 1, 1)
    std = torch.tensor([50.0, 60.0, 70.0]).view(3, 1, 1)
    assert torch.equal(pix.normalize(x01), (x01 - mean / 255) / (std / 255))
    assert pix.state_dict() == {}
    assert pix.to('cpu').offset.device.type == 'cpu'


def test_to_unit_flip_and_to_uint8():
    u8, x01 = _pixels(3)
    assert torch.equal(to_unit(u8), x01)
    assert torch.equal(to_unit(u8, bgr_to_rgb=True), x01.flip(1))
    assert torch.equal(PixelNormalizer(bgr_to_rgb=True).to_unit(u8),
                       u8.flip(1).float() / 255.0)
    assert torch.equal(PixelNormalizer().to_unit(u8), x01)
    assert torch.equal(to_uint8(x01), u8)
    # rounds half to even and clamps
    x = torch.tensor([-0.5, 0.5 / 255, 1.5 / 255, 1.2])
    assert to_uint8(x).tolist() == [0, 0, 2, 255]


def test_errors():
    with pytest.raises(ValueError, match='both mean and std'):
        PixelNormalizer(MEAN, None)
    with pytest.raises(ValueError, match='value_max=2.0'):
        PixelNormalizer(MEAN, STD, value_max=2.0)
    with pytest.raises(ValueError, match='3 values'):
        PixelNormalizer([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(ValueError, match='must be > 0'):
        PixelNormalizer(MEAN, [1.0, 0.0, 1.0])


def test_builds_on_the_meta_device():
    """Configs are checked by building models on the meta device: the
    normaliser must not read tensor values while it is built."""
    with torch.device('meta'):
        pix = PixelNormalizer(MEAN, STD)
    assert pix.offset.is_meta and pix.scale.shape == (3, 1, 1)
