"""DINOv2 + equivariance-coherent reconstruction of intermediate transforms.

Wang et al., AAAI-26 (arXiv 2503.18753): "DINOv2 + ours" splits the
2048-wide head output into z_inv (2048 − d_equi, the DINOv2 losses) and
z_equi (d_equi = 512, the K decoders), exactly as :class:`iBOTEquiRecon`
does for iBOT::

    z = heads(tokens)                 (G*B, 1+N, K_out)
    z_inv  = z[..., :K_out − d_equi]  -> DINOv2Loss (teacher split alike)
    z_equi = z[..., K_out − d_equi:]  -> decoders, patch tokens of v1, v2
    L = L_DINOv2(z_inv) + λ · (1/K) Σ_k MSE(D_k([z1_equi ; z2_equi]), u_k)

The split, the decoders and the targets are :class:`iBOTEquiRecon`'s; the
distillation (Sinkhorn-Knopp, KoLeo) and the head layout
(``separate_head``) are :class:`DINOv2`'s (the MRO is DINOv2EquiRecon ->
iBOTEquiRecon -> DINOv2 -> iBOT). With separate heads the [CLS] split is
taken from the DINO head and the patch split (and z_equi) from the iBOT
head. ``d_equi = 0``: exactly :class:`DINOv2`'s loss and gradients.
"""
from mmpretrain.registry import MODELS

from .dinov2 import DINOv2
from .ibot_equi_recon import iBOTEquiRecon


@MODELS.register_module()
class DINOv2EquiRecon(iBOTEquiRecon, DINOv2):
    """DINOv2 with the reconstruction task.

    Args:
        backbone, neck, separate_head: as :class:`DINOv2`.
        loss: a :class:`DINOv2Loss` config; ``out_dim`` / ``patch_out_dim``
            derived as in :class:`iBOTEquiRecon` (head widths − d_equi).
        head: :class:`~mmequi.models.heads.EquiReconHead` config.
        data_preprocessor: an ``EquiReconDataPreprocessor`` config.
    """
