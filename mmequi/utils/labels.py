"""Class labels against the size of the head that scores them (issue 14).

``F.cross_entropy`` with a label ``>= C`` fails deep inside torch
(``Target 4 is out of bounds``, or a device-side assert on CUDA) without
saying which head, how many classes it has or what to change.
"""
import torch

__all__ = ['check_class_labels']


def check_class_labels(labels: torch.Tensor, num_classes: int, what: str,
                       key: str) -> None:
    """Raise a ValueError naming ``what`` (the head), its class count, the
    largest (or a negative) label seen and the config ``key`` to change
    when an integer label falls outside ``[0, num_classes)``.

    ``labels``: integer tensor of any shape. One host read of its min and
    max (both in one transfer)."""
    if labels.numel() == 0:
        return
    lo, hi = (int(v) for v in torch.stack(
        [labels.min(), labels.max()]).tolist())
    if lo >= 0 and hi < num_classes:
        return
    seen = f'the largest label seen is {hi}' if hi >= num_classes else \
        f'a label is {lo} (negative)'
    raise ValueError(
        f'{what} has {num_classes} classes (labels 0..{num_classes - 1}) but '
        f'{seen}; set {key} to the number of classes of the dataset '
        f'(at least {max(hi + 1, num_classes)}) or check the labels')
