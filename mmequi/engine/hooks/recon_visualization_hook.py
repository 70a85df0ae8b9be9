"""Show what the reconstruction decoders learn.

Every ``interval`` training iterations (and after the last one) the hook
takes the current batch, runs the model's data preprocessor and
``reconstruct``, and writes one image grid per call to the visualiser's
backends (``LocalVisBackend`` -> ``<work_dir>/<timestamp>/vis_data/
vis_image/recon_<iteration>.png``, ``TensorboardVisBackend`` -> TensorBoard). Each row
is one sample::

    u | û_1 | u_1 | ... | û_K | u_K | v2 = g_θ(u)

(u: the second global view before g_θ; û_k: reconstruction; u_k: target).
The hook leaves the run as it was: the global random states are restored
(:func:`~mmequi.utils.preserved_rng`) and the batch's data samples are
copies.
"""
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...models.heads.equi_recon_head import find_equi_recon_head
from ...param_transforms import to_uint8
from ...utils.rng import preserved_rng


@HOOKS.register_module()
class ReconVisualizationHook(Hook):
    """Args:
        interval: iterations between two grids (> 0).
        num_samples: rows per grid.
        name: image name prefix in the backends.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 500, num_samples: int = 4,
                 name: str = 'recon') -> None:
        if interval <= 0 or num_samples <= 0:
            raise ValueError(f'interval={interval} and num_samples='
                             f'{num_samples} must be > 0')
        self.interval, self.num_samples, self.name = (interval, num_samples,
                                                      name)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        last = runner.iter + 1 == runner.max_iters
        if not (self.every_n_train_iters(runner, self.interval) or last):
            return
        image = self.render(runner.model, data_batch)
        if image is not None:
            # LocalVisBackend writes <name>_<step>.png
            runner.visualizer.add_image(self.name, image,
                                        step=runner.iter + 1)

    @torch.no_grad()
    def render(self, model, data_batch) -> Optional[np.ndarray]:
        """The grid as an (H, W, 3) uint8 RGB array (None without
        decoders)."""
        from torchvision.utils import make_grid
        if is_model_wrapper(model):
            model = model.module
        if find_equi_recon_head(model) is None:
            return None
        n = self.num_samples
        inputs = data_batch['inputs']
        batch = dict(inputs=inputs[:n] if isinstance(inputs, torch.Tensor)
                     else [v[:n] for v in inputs],
                     data_samples=[ds.clone() for ds in
                                   data_batch['data_samples'][:n]])
        pre = model.data_preprocessor
        was_training = model.training
        model.eval()
        try:
            with preserved_rng():
                if hasattr(pre, 'expand'):  # views made on the device
                    batch = pre.expand(batch)
                    pre = pre.inner
                data = pre(batch, True)
            recon = model.reconstruct(data['inputs'], data['data_samples'])
        finally:
            model.train(was_training)
        u01 = pre.pixels.to_unit(pre.cast_data(
            batch['inputs'][pre.view_index]))
        theta = torch.stack([torch.as_tensor(ds.equi_theta) for ds in
                             data['data_samples']]).to(u01.device).float()
        v2, targets = pre.make_targets(u01, theta)  # [0, 1]
        columns = [u01]
        for k, rec in enumerate(recon):
            columns += [pre.pixels.denormalize(rec).clamp(0, 1), targets[k]]
        columns.append(v2)
        tiles = torch.stack(columns, dim=1).flatten(0, 1)  # (n*cols, 3,H,W)
        grid = make_grid(tiles.float().cpu(), nrow=len(columns), padding=2)
        return to_uint8(grid.permute(1, 2, 0)).numpy()
