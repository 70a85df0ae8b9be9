"""Weighted k-NN (DINO/iBOT protocol): against a per-sample Python loop,
scikit-learn's KNeighborsClassifier (uniform weights), and exactly 100 % on
class-separable features."""
import math

import numpy as np
import pytest
import torch

from mmequi.evaluation.metrics.knn import (KNNAccuracy, class_ranks,
                                           knn_accuracy, knn_classify)


def _data(seed=0, n=60, m=23, d=8, c=5):
    g = torch.Generator().manual_seed(seed)
    train = torch.randn(n, d, generator=g)
    test = torch.randn(m, d, generator=g)
    return (train, torch.randint(0, c, (n, ), generator=g), test,
            torch.randint(0, c, (m, ), generator=g), c)


def _naive(train, labels, test, k, T, c, uniform=False):
    """One test sample at a time, plain Python: cosine similarities, the k
    largest, weights exp(s / T) summed per class."""
    out = []
    tr = [[float(v) for v in row] for row in train]
    for q in test.tolist():
        qn = math.sqrt(sum(v * v for v in q))
        sims = []
        for j, row in enumerate(tr):
            rn = math.sqrt(sum(v * v for v in row))
            sims.append((sum(a * b for a, b in zip(q, row)) / (qn * rn), j))
        sims.sort(key=lambda t: -t[0])
        votes = [0.0] * c
        for s, j in sims[:k]:
            votes[int(labels[j])] += 1.0 if uniform else math.exp(s / T)
        out.append(votes)
    return torch.tensor(out)


def _naive_rank(votes, label):
    """Position of the label in a stable descending sort of the votes."""
    order = sorted(range(len(votes)), key=lambda i: -votes[i])  # stable
    return order.index(label)


@pytest.mark.parametrize('uniform', [False, True])
def test_votes_and_ranks_match_naive_loop(uniform):
    train, labels, test, test_labels, c = _data()
    k, T = 7, 0.07
    votes = knn_classify(train, labels, test, k=k, temperature=T,
                         num_classes=c, chunk_size=4,  # several chunks
                         weighting='uniform' if uniform else 'exp')
    ref = _naive(train, labels, test, k, T, c, uniform)
    assert votes.shape == (23, c)
    torch.testing.assert_close(votes, ref.float(), rtol=1e-5, atol=1e-4)
    ranks = class_ranks(votes, test_labels)
    ref_ranks = [_naive_rank(ref[i].tolist(), int(test_labels[i]))
                 for i in range(len(test_labels))]
    assert ranks.tolist() == ref_ranks
    # the chunk size does not change anything
    torch.testing.assert_close(
        knn_classify(train, labels, test, k=k, temperature=T, num_classes=c,
                     chunk_size=1000,
                     weighting='uniform' if uniform else 'exp'), votes)


def test_uniform_variant_matches_sklearn():
    from sklearn.neighbors import KNeighborsClassifier
    train, labels, test, test_labels, c = _data(seed=3, n=80, m=40, c=4)
    k = 9  # odd k and 4 classes: ties still happen, both break to the
    # lowest class index
    clf = KNeighborsClassifier(n_neighbors=k, weights='uniform',
                               metric='cosine', algorithm='brute')
    clf.fit(train.numpy(), labels.numpy())
    votes = knn_classify(train, labels, test, k=k, num_classes=c,
                         weighting='uniform')
    np.testing.assert_array_equal(votes.argmax(1).numpy(),
                                  clf.predict(test.numpy()))
    np.testing.assert_allclose(votes.numpy() / k,
                               clf.predict_proba(test.numpy()), atol=1e-6)
    acc = knn_accuracy(train, labels, test, test_labels, topk=(1, ), k=k,
                       weighting='uniform', num_classes=c)[1]
    assert acc == pytest.approx(
        100 * clf.score(test.numpy(), test_labels.numpy()))


def test_separable_features_give_exactly_100_percent():
    g = torch.Generator().manual_seed(1)
    c, d = 10, 32
    centres = torch.eye(c, d) * 10

    def sample(n):
        y = torch.arange(n) % c
        return centres[y] + 0.3 * torch.randn(n, d, generator=g), y

    (tr, ytr), (te, yte) = sample(200), sample(57)
    acc = knn_accuracy(tr, ytr, te, yte, topk=(1, 5), k=20, temperature=0.07)
    assert acc == {1: 100.0, 5: 100.0}
    metric = KNNAccuracy()
    out = metric.compute_from_features(tr, ytr, te, yte, num_classes=c)
    assert out == {'knn/top1': 100.0, 'knn/top5': 100.0}
    # and a permuted labelling of the test set is (far) from 100 %
    wrong = metric.compute_from_features(tr, ytr, te, (yte + 1) % c,
                                         num_classes=c)
    assert wrong['knn/top1'] == 0.0


def test_rank_tie_breaking_and_rows_split_over_ranks():
    scores = torch.tensor([[1., 1., 0., 0.]] * 4)
    assert class_ranks(scores, torch.tensor([0, 1, 2, 3])).tolist() == \
        [0, 1, 2, 3]
    # rank::world rows + summed hits = all rows (all_reduce is a no-op in
    # one process, so sum the two halves by hand)
    train, labels, test, test_labels, c = _data(seed=5)
    metric = KNNAccuracy(k=5, topk=(1, 2))
    full = metric.compute_from_features(train, labels, test, test_labels, c)
    halves = [metric.compute_from_features(train, labels, test, test_labels,
                                           c, rank=r, world_size=2)
              for r in (0, 1)]
    # world_size=2 without a process group: each half is divided by M
    for key in full:
        assert halves[0][key] + halves[1][key] == pytest.approx(full[key])


def test_errors():
    train, labels, test, test_labels, c = _data()
    with pytest.raises(ValueError, match='k=61'):
        knn_classify(train, labels, test, k=61)
    with pytest.raises(ValueError, match='temperature'):
        knn_classify(train, labels, test, k=3, temperature=0)
    with pytest.raises(ValueError, match='num_classes'):
        knn_classify(train, labels, test, k=3, num_classes=2)
    with pytest.raises(ValueError, match='dims'):
        knn_classify(train, labels, test[:, :3], k=3)
    with pytest.raises(RuntimeError, match='KNNTestLoop'):
        KNNAccuracy().process({}, [])
