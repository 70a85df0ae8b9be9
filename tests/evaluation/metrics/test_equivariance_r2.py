import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from sklearn.metrics import r2_score

from mmequi.evaluation import EquivarianceR2, r2_mean, r2_sie


def test_r2_mean_matches_sklearn_uniform_average():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(50, 4)) * [1.0, 10.0, 0.1, 3.0]
    y_hat = y + rng.normal(size=y.shape) * [0.5, 2.0, 0.2, 0.1]
    assert r2_mean(y, y_hat) == pytest.approx(r2_score(y, y_hat), abs=1e-12)


def test_r2_mean_constant_dimension_as_sklearn():
    y = np.array([[1.0, 2.0], [1.0, 3.0], [1.0, 4.0]])
    exact = y.copy()
    off = y + [[0.5, 0.0], [0.0, 0.0], [0.0, 0.0]]
    assert r2_mean(y, exact) == pytest.approx(r2_score(y, exact))
    assert r2_mean(y, off) == pytest.approx(r2_score(y, off))


def test_r2_sie_hand_computed():
    # y = [[0, 2], [2, 4]]: one scalar mean ybar = 2
    # ss_tot = 4 + 0 + 0 + 4 = 8; y_hat = [[1, 2], [2, 3]]: ss_res = 1 + 1
    y = np.array([[0.0, 2.0], [2.0, 4.0]])
    y_hat = np.array([[1.0, 2.0], [2.0, 3.0]])
    assert r2_sie(y, y_hat) == pytest.approx(1 - 2 / 8)
    # per-dimension means (1, 3): each column has ss_tot 2, ss_res 1
    assert r2_mean(y, y_hat) == pytest.approx(0.5)


def test_r2_sie_differs_from_r2_mean_with_offset_dims():
    # dims with different means: the scalar mean inflates ss_tot
    rng = np.random.default_rng(1)
    y = rng.normal(size=(100, 2)) + [0.0, 10.0]
    y_hat = y + rng.normal(size=y.shape)
    ybar = y.mean()
    expected = 1 - ((y - y_hat) ** 2).sum() / ((y - ybar) ** 2).sum()
    assert r2_sie(y, y_hat) == pytest.approx(expected)
    assert r2_sie(y, y_hat) > r2_mean(y, y_hat) + 0.3


def test_one_dimensional_targets_agree():
    rng = np.random.default_rng(2)
    y = rng.normal(size=30)
    y_hat = y + 0.3 * rng.normal(size=30)
    assert r2_sie(y, y_hat) == pytest.approx(r2_score(y, y_hat))
    assert r2_mean(y, y_hat) == pytest.approx(r2_score(y, y_hat))


def test_shape_errors():
    with pytest.raises(ValueError, match='differ in shape'):
        r2_sie(np.zeros((3, 2)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match='at least 2'):
        r2_mean(np.zeros((1, 2)), np.zeros((1, 2)))


def test_metric_through_evaluator_and_missing_key():
    rng = np.random.default_rng(3)
    y = rng.normal(size=(20, 4)).astype(np.float32)
    y_hat = (y + 0.2 * rng.normal(size=y.shape)).astype(np.float32)
    ev = Evaluator(EquivarianceR2(tasks=['rot']))
    for i in range(0, 20, 8):  # batches of 8, 8, 4
        ev.process([dict(pred_rot=torch.from_numpy(p),
                         gt_rot=torch.from_numpy(t))
                    for p, t in zip(y_hat[i:i + 8], y[i:i + 8])])
    out = ev.evaluate(20)
    assert out['r2/rot_mean'] == pytest.approx(r2_score(y, y_hat), abs=1e-6)
    assert out['r2/rot_sie'] == pytest.approx(r2_sie(y, y_hat), abs=1e-6)
    assert out['r2/rot_mse'] == pytest.approx(((y - y_hat) ** 2).mean(),
                                              rel=1e-5)
    metric = EquivarianceR2(tasks=['hue'])
    with pytest.raises(KeyError, match='pred_hue'):
        metric.process(None, [dict(pred_rot=torch.zeros(2))])
    with pytest.raises(ValueError, match='non-empty'):
        EquivarianceR2(tasks='rot')
