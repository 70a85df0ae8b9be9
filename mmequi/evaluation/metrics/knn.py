"""Weighted k-nearest-neighbour classification on frozen features.

The k-NN protocol of DINO and iBOT (Caron et al., "Emerging Properties in
Self-Supervised Vision Transformers", ICCV 2021, Sec. 4 and
``eval_knn.py``; Zhou et al., "iBOT", ICLR 2022), whose weighted vote goes
back to Wu et al., "Unsupervised Feature Learning via Non-Parametric
Instance Discrimination", CVPR 2018::

    f <- f / ||f||_2                      train (N, D) and test (M, D)
    s_ij = <f_test_i, f_train_j>          cosine similarity
    N_i  = the k train samples with the largest s_ij
    vote_ic = sum_{j in N_i, y_j = c} exp(s_ij / T)      (k = 20, T = 0.07)
    prediction = classes sorted by vote_ic, descending

A test sample counts as correct at top-m when its class is among the first
m classes of that order. Ties between equal votes (e.g. the many classes
with no vote at all) are broken in favour of the lower class index, i.e.
the order of a stable descending sort, so the result is deterministic
(DINO's ``probs.sort`` leaves such ties to the backend) and equals
scikit-learn's ``KNeighborsClassifier`` for ``weighting='uniform'``
(its majority vote returns the lowest tied class).

:class:`KNNAccuracy` holds the protocol's settings as an mmengine metric;
it needs the train-set ("bank") features, which a metric cannot see, so it
is driven by :class:`~mmequi.engine.runner.KNNTestLoop` (see there).
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

__all__ = ['knn_classify', 'class_ranks', 'knn_accuracy', 'KNNAccuracy']

WEIGHTINGS = ('exp', 'uniform')


def _check_inputs(train_feats: torch.Tensor, train_labels: torch.Tensor,
                  test_feats: torch.Tensor, k: int, temperature: float,
                  num_classes: Optional[int], weighting: str) -> int:
    if train_feats.dim() != 2 or test_feats.dim() != 2:
        raise ValueError(f'features must be (N, D) and (M, D), got '
                         f'{tuple(train_feats.shape)} and '
                         f'{tuple(test_feats.shape)}')
    if train_feats.shape[1] != test_feats.shape[1]:
        raise ValueError(f'train features have {train_feats.shape[1]} '
                         f'dims, test features {test_feats.shape[1]}')
    if train_labels.shape != (train_feats.shape[0], ):
        raise ValueError(f'train_labels must be ({train_feats.shape[0]},), '
                         f'got {tuple(train_labels.shape)}')
    if not 1 <= k <= train_feats.shape[0]:
        raise ValueError(f'k={k} must be in 1..{train_feats.shape[0]} (the '
                         f'number of train features)')
    if weighting not in WEIGHTINGS:
        raise ValueError(f'weighting={weighting!r}: choose from '
                         f'{WEIGHTINGS}')
    if weighting == 'exp' and not temperature > 0:
        raise ValueError(f'temperature must be > 0, got {temperature}')
    if train_labels.numel() and int(train_labels.min()) < 0:
        raise ValueError('train_labels must be >= 0')
    top = int(train_labels.max()) + 1 if train_labels.numel() else 0
    if num_classes is None:
        return top
    if top > num_classes:
        raise ValueError(f'train label {top - 1} >= num_classes='
                         f'{num_classes}')
    return int(num_classes)


@torch.no_grad()
def knn_classify(train_feats: torch.Tensor,
                 train_labels: torch.Tensor,
                 test_feats: torch.Tensor,
                 k: int = 20,
                 temperature: float = 0.07,
                 num_classes: Optional[int] = None,
                 chunk_size: int = 256,
                 weighting: str = 'exp',
                 normalize: bool = True) -> torch.Tensor:
    """Class votes of the weighted k-NN classifier (module docstring).

    Args:
        train_feats: (N, D) bank features (any float dtype; the
            similarities are computed in it, the votes in float32).
        train_labels: (N,) integer labels in ``[0, num_classes)``.
        test_feats: (M, D) query features.
        k: neighbours per query (DINO/iBOT: 20).
        temperature: T of the weights ``exp(sim / T)`` (DINO/iBOT: 0.07).
        num_classes: C; ``max(train_labels) + 1`` if None.
        chunk_size: queries per similarity block: memory is
            ``chunk_size x N`` similarities, not ``M x N``.
        weighting: ``'exp'`` (the protocol) or ``'uniform'`` (every
            neighbour votes 1: the plain majority vote).
        normalize: L2-normalise both feature sets first (a normalised copy
            of ``train_feats`` is made). Pass False for features that are
            already unit-norm (e.g. normalised in place to save memory).

    Returns:
        votes (M, C) float32 on ``test_feats.device``.
    """
    num_classes = _check_inputs(train_feats, train_labels, test_feats, k,
                                temperature, num_classes, weighting)
    if chunk_size < 1:
        raise ValueError(f'chunk_size must be >= 1, got {chunk_size}')
    if normalize:
        train_feats = F.normalize(train_feats, dim=1)
    train_labels = train_labels.to(train_feats.device).long()
    votes = torch.zeros(test_feats.shape[0], num_classes,
                        dtype=torch.float32, device=test_feats.device)
    for start in range(0, test_feats.shape[0], chunk_size):
        q = test_feats[start:start + chunk_size].to(train_feats)
        if normalize:
            q = F.normalize(q, dim=1)
        sim = q @ train_feats.t()  # (b, N)
        top_sim, top_idx = sim.topk(k, dim=1)  # (b, k)
        del sim
        neighbour_labels = train_labels[top_idx]  # (b, k)
        if weighting == 'exp':
            weight = (top_sim.float() / temperature).exp()
        else:
            weight = torch.ones_like(top_sim, dtype=torch.float32)
        chunk_votes = torch.zeros(q.shape[0], num_classes,
                                  dtype=torch.float32, device=q.device)
        chunk_votes.scatter_add_(1, neighbour_labels, weight)
        votes[start:start + q.shape[0]] = chunk_votes.to(votes.device)
    return votes


def class_ranks(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Rank (0 = first) of each sample's true class when the classes are
    sorted by ``scores`` (M, C) descending, ties to the lower class index
    (a stable descending sort). Top-m correct <=> rank < m. (M,) long."""
    if scores.dim() != 2 or labels.shape != (scores.shape[0], ):
        raise ValueError(f'scores must be (M, C) and labels (M,), got '
                         f'{tuple(scores.shape)} and {tuple(labels.shape)}')
    labels = labels.to(scores.device).long()
    if labels.numel() and not (0 <= int(labels.min())
                               and int(labels.max()) < scores.shape[1]):
        raise ValueError(f'labels must be in [0, {scores.shape[1]})')
    true = scores.gather(1, labels[:, None])  # (M, 1)
    cls = torch.arange(scores.shape[1], device=scores.device)[None]
    ahead = (scores > true) | ((scores == true) & (cls < labels[:, None]))
    return ahead.sum(1)


def knn_accuracy(train_feats: torch.Tensor, train_labels: torch.Tensor,
                 test_feats: torch.Tensor, test_labels: torch.Tensor,
                 topk: Sequence[int] = (1, 5), **kwargs) -> Dict[int, float]:
    """Top-m accuracies in percent ``{m: acc}`` of :func:`knn_classify`
    (``kwargs`` are its arguments)."""
    votes = knn_classify(train_feats, train_labels, test_feats, **kwargs)
    return topk_accuracy(votes, test_labels, topk)


def topk_accuracy(scores: torch.Tensor, labels: torch.Tensor,
                  topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """Top-m accuracies in percent ``{m: acc}`` of class scores (M, C)
    against labels (M,), ties as :func:`class_ranks`."""
    ranks = class_ranks(scores, labels)
    return {int(m): float((ranks < m).float().mean() * 100) for m in topk}


@METRICS.register_module()
class KNNAccuracy(BaseMetric):
    """Weighted k-NN top-m accuracy (percent) of frozen features.

    Use as ``test_evaluator`` together with
    ``test_cfg=dict(type='KNNTestLoop', bank_dataloader=...)``; the loop
    extracts the bank and test features and calls
    :meth:`compute_from_features`. Results: ``{prefix}/top{m}``, e.g.
    ``knn/top1``, ``knn/top5``. Several instances with different ``k`` /
    ``prefix`` share one feature extraction.

    Args:
        k, temperature, weighting, chunk_size: see :func:`knn_classify`
            (defaults: the DINO/iBOT protocol, k = 20, T = 0.07).
        topk: the m of the reported top-m accuracies.
        prefix: key prefix, default ``'knn'``.
    """

    default_prefix = 'knn'

    def __init__(self, k: int = 20, temperature: float = 0.07,
                 topk: Sequence[int] = (1, 5), weighting: str = 'exp',
                 chunk_size: int = 256, prefix: Optional[str] = None,
                 collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if weighting not in WEIGHTINGS:
            raise ValueError(f'KNNAccuracy: weighting={weighting!r}, choose '
                             f'from {WEIGHTINGS}')
        if k < 1 or not temperature > 0 or chunk_size < 1:
            raise ValueError(f'KNNAccuracy: need k >= 1, temperature > 0, '
                             f'chunk_size >= 1; got k={k}, temperature='
                             f'{temperature}, chunk_size={chunk_size}')
        topk = (topk, ) if isinstance(topk, int) else tuple(topk)
        if not topk or any(int(m) < 1 for m in topk):
            raise ValueError(f'KNNAccuracy: topk={topk} must be >= 1')
        self.k, self.temperature = int(k), float(temperature)
        self.topk = tuple(int(m) for m in topk)
        self.weighting, self.chunk_size = weighting, int(chunk_size)

    def describe(self) -> str:
        weights = ('exp(sim / T)' if self.weighting == 'exp' else
                   'uniform')
        return (f'k={self.k}, T={self.temperature:g}, weights {weights}, '
                f'cosine similarity of L2-normalised features')

    def process(self, data_batch, data_samples) -> None:
        raise RuntimeError(
            'KNNAccuracy needs the train-set features, which a metric does '
            "not see: use test_cfg=dict(type='KNNTestLoop', "
            'bank_dataloader=...) with this test_evaluator')

    def compute_metrics(self, results: list) -> dict:
        self.process(None, None)
        return {}

    @torch.no_grad()
    def compute_from_features(self, bank_feats: torch.Tensor,
                              bank_labels: torch.Tensor,
                              test_feats: torch.Tensor,
                              test_labels: torch.Tensor,
                              num_classes: Optional[int] = None,
                              normalized: bool = False,
                              rank: int = 0,
                              world_size: int = 1) -> Dict[str, float]:
        """Top-m accuracies on the whole test set.

        In a distributed run every rank holds the full bank and test
        features and classifies the test rows ``rank::world_size``; the
        hit counts are summed over ranks (``mmengine.dist.all_reduce``),
        so every rank returns the same numbers.
        """
        from mmengine.dist import all_reduce
        if test_labels.shape != (test_feats.shape[0], ):
            raise ValueError(f'test_labels must be ({test_feats.shape[0]},)'
                             f', got {tuple(test_labels.shape)}')
        rows = torch.arange(rank, test_feats.shape[0], world_size,
                            device=test_feats.device)
        votes = knn_classify(bank_feats, bank_labels, test_feats[rows],
                             k=self.k, temperature=self.temperature,
                             num_classes=num_classes,
                             chunk_size=self.chunk_size,
                             weighting=self.weighting,
                             normalize=not normalized)
        ranks = class_ranks(votes, test_labels.to(votes.device)[rows])
        hits = torch.tensor([float((ranks < m).sum()) for m in self.topk],
                            dtype=torch.float64, device=test_feats.device)
        if world_size > 1:
            all_reduce(hits, op='sum')
        total = test_feats.shape[0]
        prefix = self.prefix or self.default_prefix
        return {f'{prefix}/top{m}': float(h) * 100.0 / total
                for m, h in zip(self.topk, hits.tolist())}
