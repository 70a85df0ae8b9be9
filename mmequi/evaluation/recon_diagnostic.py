"""Do the reconstruction decoders use both views?

The method (Wang et al., AAAI-26, arXiv 2503.18753) asks K decoders to
reconstruct the intermediate images u_k = g_{kθ/(K+1)}(u) from the
equivariant features [z1 ; z2] of the plain view v1 and the transformed
view v2 = g_θ(u). A decoder that ignores v1 can still lower the loss by
producing a blurry copy of v2; then the features need not encode θ at all.
This diagnostic puts the decoders' error next to baselines that use one
view or none (all errors are the training loss's MSE in normalised pixels,
averaged over the K targets and the evaluated samples)::

    model       D_k([z1 ; z2])
    swap_z1     D_k([z1 of another image ; z2])   v1's features replaced
    swap_z2     D_k([z1 ; z2 of another image])   v2's features replaced
    copy_v2     û_k = v2                          the transformed view
    copy_u      û_k = u   (not an input of the model: the scale of g_θ's
                           change between u and u_k)
    mean_image  û_k = the per-pixel mean of u_k over the evaluated set

How to read it: ``model`` well below ``copy_v2`` and ``mean_image`` means
the decoders undo part of g_θ; ``swap_z1`` above ``model`` means they use
v1 (equal: v1 is ignored); ``swap_z2`` far above ``model`` means they read
the content from v2. The "another image" is the next one in the batch
(a roll by one), so batches need at least two samples.

:func:`recon_grid` draws ``v1 | u | û_1 | u_1 | ... | û_K | u_K | v2``
per sample. The diagnostic restores the global random states afterwards
(:func:`~mmequi.utils.preserved_rng`; θ is drawn from ``seed``), so a
training run that calls it is unchanged.
"""
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np
import torch
from mmengine.model import is_model_wrapper

from ..models.heads.equi_recon_head import find_equi_recon_head
from ..param_transforms import PixelNormalizer, to_uint8
from ..utils.rng import preserved_rng

__all__ = ['recon_diagnostic', 'BASELINES']

#: The rows of the diagnostic, in order.
BASELINES = ('model', 'swap_z1', 'swap_z2', 'copy_v2', 'copy_u',
             'mean_image')


def _mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-sample MSE (B,) of (B, 3, H, W) images."""
    return (pred.float() - target.float()).square().flatten(1).mean(1)


@torch.no_grad()
def recon_diagnostic(model, batches: Iterable[dict], seed: int = 0,
                     max_batches: Optional[int] = None, num_show: int = 4
                     ) -> Tuple[Dict[str, float], Optional[np.ndarray]]:
    """Errors of the decoders and of the baselines (module docstring).

    Args:
        model: an :class:`~mmequi.models.iBOTEquiRecon` or
            :class:`~mmequi.models.VICRegEquiRecon` (or a wrapper of one)
            whose ``head`` has ``d_equi > 0``, with an
            :class:`~mmequi.models.data_preprocessors.EquiReconDataPreprocessor`.
        batches: collated batches of its training pipeline (held-out data),
            e.g. a dataloader.
        seed: seed of the θ draws.
        max_batches: stop after this many batches.
        num_show: rows of the returned picture (0: no picture).

    Returns:
        ``(errors, grid)``: ``errors[name]`` for every name in
        :data:`BASELINES`, plus ``errors['samples']``; ``grid`` an
        (H, W, 3) uint8 RGB picture of the first batch (see
        :func:`recon_grid`), or None.
    """
    if is_model_wrapper(model):
        model = model.module
    if find_equi_recon_head(model) is None:
        raise TypeError(f'{type(model).__name__} has no reconstruction '
                        'decoders (an equi-recon model with d_equi > 0 is '
                        'needed)')
    pre = model.data_preprocessor
    # BatchMultiCropDataPreprocessor makes the views on the device first
    expand = getattr(pre, 'expand', None)
    pre = getattr(pre, 'inner', pre)
    vi = pre.view_index
    sums = {name: 0.0 for name in BASELINES if name != 'mean_image'}
    t_sum = t_sq = None  # per-pixel sums of the targets (K, 3, H, W)
    n, grid = 0, None
    was_training = model.training
    model.eval()
    try:
        with preserved_rng():
            torch.manual_seed(seed)
            for b, batch in enumerate(batches):
                if max_batches is not None and b >= max_batches:
                    break
                if expand is not None:
                    batch = expand(batch)
                samples = [ds.clone() for ds in batch['data_samples']]
                data = pre(dict(inputs=batch['inputs'],
                                data_samples=samples), False)
                inputs, samples = data['inputs'], data['data_samples']
                views, targets = inputs['views'], inputs['targets']
                if targets.shape[1] < 2:
                    raise ValueError('recon_diagnostic needs batches of at '
                                     'least 2 samples (features are swapped '
                                     'between images)')
                u = pre.pixels.normalize(
                    pre.pixels.to_unit(pre.cast_data(batch['inputs'][vi])))
                v2 = views[vi]
                z, hw = model.equi_features(inputs, samples)  # (2, B, N, d)
                other = z.roll(1, dims=1)
                preds = {'model': model.decode_equi(z, hw)}
                for name, view in (('swap_z1', 1 - vi), ('swap_z2', vi)):
                    zs = z.clone()
                    zs[view] = other[view]
                    preds[name] = model.decode_equi(zs, hw)
                preds['copy_v2'] = [v2] * len(targets)
                preds['copy_u'] = [u] * len(targets)
                for name, pred in preds.items():
                    err = torch.stack([_mse(p, t) for p, t in
                                       zip(pred, targets)]).mean(0)  # (B,)
                    sums[name] += float(err.sum())
                t = targets.float()
                t_sum = t.sum(1) if t_sum is None else t_sum + t.sum(1)
                t_sq = (t.square().sum(1) if t_sq is None
                        else t_sq + t.square().sum(1))
                n += targets.shape[1]
                if grid is None and num_show:
                    grid = recon_grid(pre.pixels, views[1 - vi], u,
                                      preds['model'], targets, v2, num_show)
    finally:
        model.train(was_training)
    if n == 0:
        raise ValueError('recon_diagnostic got no batch')
    errors = {name: s / n for name, s in sums.items()}
    mean = t_sum / n
    errors['mean_image'] = float((t_sq / n - mean.square()).mean())
    errors['samples'] = n
    return {k: errors[k] for k in BASELINES + ('samples', )}, grid


def recon_grid(pixels: PixelNormalizer, v1: torch.Tensor, u: torch.Tensor,
               recon: List[torch.Tensor], targets: torch.Tensor,
               v2: torch.Tensor, num: int) -> np.ndarray:
    """``v1 | u | û_1 | u_1 | ... | û_K | u_K | v2`` (normalised inputs)
    for the first ``num`` samples as an (H, W, 3) uint8 RGB grid; the
    views are resized to the size of u where they differ; ``pixels``
    undoes the normalisation (the data preprocessor's ``pixels``)."""
    import torch.nn.functional as F
    from torchvision.utils import make_grid
    size = u.shape[-2:]

    def unit(x):
        x = pixels.denormalize(x[:num].float()).clamp(0, 1)
        if x.shape[-2:] != size:
            x = F.interpolate(x, size=size, mode='bilinear',
                              align_corners=False)
        return x

    columns = [unit(v1), unit(u)]
    for rec, tgt in zip(recon, targets):
        columns += [unit(rec), unit(tgt)]
    columns.append(unit(v2))
    tiles = torch.stack(columns, dim=1).flatten(0, 1).cpu()
    grid = make_grid(tiles, nrow=len(columns), padding=2, pad_value=1.0)
    return to_uint8(grid.permute(1, 2, 0)).numpy()
