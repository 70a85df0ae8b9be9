"""MeanCornerError (DeTone et al. 2016: mean over samples of the mean over
the 4 corners of the L2 corner distance, pixels) on a hand-computed
2-sample example, through mmengine's Evaluator as in a val loop."""
import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmpretrain.structures import DataSample

from mmequi.evaluation import MeanCornerError, corner_errors

GT = np.array([[[10.0, -5.0], [0.0, 3.0], [-7.0, 2.0], [1.0, 1.0]],
               [[0.0, 0.0], [4.0, 4.0], [-2.0, 6.0], [3.0, -3.0]]])
# sample 0: corner errors (3, 4) -> 5, 0, 0, 0          mean 1.25
# sample 1: (1, 0) -> 1, (0, 2) -> 2, (6, 8) -> 10, 0   mean 3.25
ERR = np.array([[[3.0, 4.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]],
                [[1.0, 0.0], [0.0, -2.0], [-6.0, 8.0], [0.0, 0.0]]])
PRED = GT + ERR
MACE = (1.25 + 3.25) / 2
# zero prediction: |gt| per corner
ZERO = np.mean([np.mean([np.hypot(*c) for c in s]) for s in GT])


def _samples():
    out = []
    for p, g in zip(PRED, GT):
        s = DataSample()
        s.set_field(torch.tensor(g, dtype=torch.float32), 'gt_offsets')
        s.set_field(torch.tensor(p, dtype=torch.float32), 'pred_offsets')
        out.append(s)
    return out


def test_corner_errors_by_hand():
    np.testing.assert_allclose(corner_errors(PRED, GT), [1.25, 3.25])
    np.testing.assert_allclose(
        corner_errors(PRED.reshape(2, 8), GT.reshape(2, 8)), [1.25, 3.25])
    with pytest.raises(ValueError, match='differ in shape'):
        corner_errors(PRED[:1], GT)


def test_metric_through_evaluator():
    evaluator = Evaluator(MeanCornerError())
    samples = _samples()
    evaluator.process(samples[:1])  # two batches
    evaluator.process(samples[1:])
    metrics = evaluator.evaluate(2)
    assert set(metrics) == {'homography/mace', 'homography/mace_zero'}
    assert metrics['homography/mace'] == pytest.approx(MACE, abs=1e-6)
    assert metrics['homography/mace_zero'] == pytest.approx(ZERO, abs=1e-5)
    # an exact prediction scores 0
    exact = Evaluator(MeanCornerError(prefix='h'))
    s = _samples()[0]
    s.pred_offsets = s.gt_offsets.clone()
    exact.process([s])
    assert exact.evaluate(1)['h/mace'] == 0.0


def test_missing_prediction_is_named():
    evaluator = Evaluator(MeanCornerError())
    s = DataSample()
    s.set_field(torch.zeros(4, 2), 'gt_offsets')
    with pytest.raises(KeyError, match='pred_offsets'):
        evaluator.process([s])
