"""mmpretrain's ``SelfSupDataPreprocessor`` plus iBOT's masked-token index.

The index (:func:`~mmequi.models.data_preprocessors.mask_index.
add_mask_token_index`) is made on the host from the CPU block masks before
the batch moves to the device, so that :class:`~mmequi.models.iBOT` gathers
the masked tokens without a device->host sync (issue 13).
"""
from mmpretrain.models.utils.data_preprocessor import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

from .mask_index import add_mask_token_index

__all__ = ['iBOTDataPreprocessor']


@MODELS.register_module()
class iBOTDataPreprocessor(SelfSupDataPreprocessor):
    """:class:`SelfSupDataPreprocessor` (same arguments, same output) that
    also stores ``mask_token_index`` in every data sample carrying a block
    ``mask`` (see :mod:`~mmequi.models.data_preprocessors.mask_index`)."""

    def forward(self, data: dict, training: bool = False):
        if isinstance(data, dict):
            add_mask_token_index(data.get('data_samples'))
        return super().forward(data, training)
