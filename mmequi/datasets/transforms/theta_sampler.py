"""Draw the parameters ``theta`` of the transformation ``g_theta`` per sample.

Reference: Wang et al., *Self-Supervised Learning Based on Transformed Image
Reconstruction for Equivariance-Coherent Feature Representation*, AAAI-26
(arXiv:2503.18753). The second global view ``u`` of every image is
transformed into ``v2 = g_theta(u)``; ``theta`` is drawn here, in the data
pipeline, with numpy's *global* generator (which ``EpochSeedHook`` /
``epoch_worker_init_fn`` reseed per epoch and worker), and stored in
``results['equi_theta']``. ``PackInputs(algorithm_keys=['crop_params',
'equi_theta'])`` then records it in the data sample, and
:class:`~mmequi.models.data_preprocessors.EquiReconDataPreprocessor` applies
exactly that ``theta`` (batched, on the device) and builds the intermediate
reconstruction targets.
"""
from typing import Dict, Union

from mmcv.transforms import BaseTransform
from mmpretrain.registry import TRANSFORMS

from mmequi.models.utils.param_transforms import (ParamTransform,
                                                  build_param_transform)

__all__ = ['SampleTransformParams']


@TRANSFORMS.register_module()
class SampleTransformParams(BaseTransform):
    """Add ``results['equi_theta']``: one parameter vector ``theta``, a
    float32 array ``(dim,)``, drawn uniformly in the ranges of ``transform``
    with numpy's global generator. The image itself is not modified.

    Args:
        transform: config of the parametrised transformation, e.g.
            ``dict(type='rotation', max_angle=45.0)`` (see
            :func:`~mmequi.models.utils.param_transforms.build_param_transform`
            ; types ``rotation``, ``color``, ``blur``, ``translation``,
            ``se2``), or a built :class:`ParamTransform`. Use the same config
            in the data preprocessor.
    """

    #: Key written into ``results`` (and read by the data preprocessor).
    key = 'equi_theta'

    def __init__(self, transform: Union[dict, ParamTransform] = dict(
            type='rotation', max_angle=45.0)) -> None:
        self.param_transform = build_param_transform(transform)

    def transform(self, results: Dict) -> Dict:
        """Add ``results['equi_theta']`` (float32 ``(dim,)``)."""
        results[self.key] = self.param_transform.sample(1, rng=None)[0]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(transform={self.param_transform!r})'
