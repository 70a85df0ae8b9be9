"""DPTDepthHead: the decode-head API mmseg's DepthEstimator calls (forward,
loss, predict), checked against independent computations: output bound
sigmoid(b) * max_depth, the SiLog loss written out in numpy (holes skipped),
the resize rules of predict_by_feat, finite gradients everywhere."""
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

import mmequi  # noqa: F401  (registers the head in mmseg's MODELS)
from mmequi.models.heads import DPTDepthHead


def _head(**kw) -> DPTDepthHead:
    torch.manual_seed(0)
    cfg = dict(in_channels=[8] * 4, post_process_channels=[4, 8, 8, 16],
               channels=16, max_depth=10.0)
    cfg.update(kw)
    head = DPTDepthHead(**cfg)
    head.init_weights()
    return head


def _feats(b=2, h=4, w=6, c=8, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(b, c, h, w, generator=g) for _ in range(4)]


def _sample(depth: torch.Tensor):
    from mmseg.structures import SegDataSample
    s = SegDataSample()
    s.gt_depth_map = PixelData(data=depth[None])
    return s


def _silog_numpy(pred: np.ndarray, gt: np.ndarray) -> float:
    """Eigen et al. 2014 scale-invariant log error, lambda 0.5, per image
    over the pixels with gt > 0, averaged over the batch."""
    out = []
    for p, g in zip(pred.reshape(len(pred), -1), gt.reshape(len(gt), -1)):
        valid = g > 1e-6
        d = np.log(g[valid]) - np.log(p[valid])
        out.append(np.sqrt(np.mean(d ** 2) - 0.5 * np.mean(d) ** 2))
    return float(np.mean(out))


def test_is_registered_in_mmseg():
    from mmseg.registry import MODELS
    assert MODELS.get('DPTDepthHead') is DPTDepthHead
    head = MODELS.build(dict(type='DPTDepthHead', in_channels=[8] * 4,
                             post_process_channels=[4, 4, 4, 4],
                             channels=8))
    assert (head.num_classes, head.out_channels) == (1, 1)
    assert head.loss_decode[0].loss_name == 'loss_silog'


def test_forward_shape_and_bound():
    head = _head()
    out = head(_feats(h=4, w=6))  # a 64x96 image
    assert out.shape == (2, 1, 64, 96)
    assert out.min() > 0 and out.max() < 10.0
    # last conv constant: every pixel is sigmoid(b) * max_depth
    with torch.no_grad():
        head.depth_conv3.weight.zero_()
        head.depth_conv3.bias.fill_(0.5)
    out = head(_feats(h=4, w=6))
    torch.testing.assert_close(
        out, torch.full_like(out, 10.0 / (1 + np.exp(-0.5))))
    # odd grids: the stride-32 level is rounded up and resized in fusion
    assert _head()(_feats(b=1, h=3, w=5)).shape == (1, 1, 48, 80)


def test_loss_is_silog_and_skips_holes():
    head = _head()
    g = torch.Generator().manual_seed(2)
    gt = torch.rand(2, 1, 16, 24, generator=g) * 9 + 0.5
    gt[0, 0, :3, :5] = 0  # no measurement
    pred = torch.rand(2, 1, 16, 24, generator=g) * 9 + 0.5
    samples = [_sample(gt[i, 0]) for i in range(2)]
    loss = head.loss_by_feat(pred, samples)
    assert set(loss) == {'loss_silog'}
    want = _silog_numpy(pred.numpy(), gt.numpy())
    assert loss['loss_silog'].item() == pytest.approx(want, rel=1e-5)
    # a holes-only change of the prediction does not change the loss
    pred2 = pred.clone()
    pred2[0, 0, :3, :5] = 7.0
    assert head.loss_by_feat(pred2, samples)['loss_silog'].item() == \
        pytest.approx(want, rel=1e-6)
    # prediction at a lower resolution is resized to the ground truth: a
    # constant c gives the SiLog of the constant map
    const = torch.full((2, 1, 4, 6), 3.0)
    assert head.loss_by_feat(const, samples)['loss_silog'].item() == \
        pytest.approx(_silog_numpy(np.full(gt.shape, 3.0), gt.numpy()),
                      rel=1e-5)


def test_loss_backward_reaches_every_parameter():
    head = _head()
    feats = [f.requires_grad_() for f in _feats(h=2, w=2)]
    gt = torch.rand(2, 32, 32) * 5 + 1
    loss = head.loss(feats, [_sample(gt[0]), _sample(gt[1])])['loss_silog']
    assert torch.isfinite(loss)
    loss.backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert all(f.grad is not None for f in feats)


def test_predict_resizes_to_window_or_padded_input():
    head = _head()
    feats = _feats(b=1, h=2, w=2)
    # sliding window: img_shape is the window's torch.Size
    out = head.predict(feats, [dict(img_shape=torch.Size((40, 36)),
                                    pad_shape=(64, 64))])
    assert out.shape == (1, 1, 40, 36)
    out = head.predict(feats, [dict(img_shape=(30, 32), pad_shape=(48, 48))])
    assert out.shape == (1, 1, 48, 48)
    out = head.predict(feats, [dict(img_shape=(30, 32))])
    assert out.shape == (1, 1, 30, 32)


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match='in_channels'):
        DPTDepthHead(in_channels=[8] * 3)
    with pytest.raises(ValueError, match='max_depth'):
        DPTDepthHead(in_channels=[8] * 4, max_depth=0)
    with pytest.raises(ValueError, match='expected 4 feature maps'):
        _head()(_feats()[:3])
