"""check_class_labels: labels outside [0, C) are a ValueError naming the
head, C, the offending label and the config key; valid labels pass."""
import pytest
import torch

from mmequi.utils import check_class_labels


def test_valid_labels_pass():
    check_class_labels(torch.tensor([0, 3, 1]), 4, 'head', 'k')
    check_class_labels(torch.zeros(0, dtype=torch.long), 1, 'head', 'k')


def test_too_large_and_negative_labels():
    with pytest.raises(ValueError) as err:
        check_class_labels(torch.tensor([[0, 7], [2, 1]]), 4, 'the head',
                           'model.head.num_classes')
    assert str(err.value) == (
        'the head has 4 classes (labels 0..3) but the largest label seen is '
        '7; set model.head.num_classes to the number of classes of the '
        'dataset (at least 8) or check the labels')
    with pytest.raises(ValueError, match=r'a label is -1 \(negative\).*'
                       r'at least 4\)'):
        check_class_labels(torch.tensor([-1, 2]), 4, 'h', 'k')
