# SimCLR + ours, ViT-S/16 (paper Table 4 row "SimCLR + ours"; Wang et al.,
# AAAI-26, arXiv 2503.18753). The paper gives no split for SimCLR; ours, not
# published: VICReg + ours' even split of a 512-d token embedding -- the first
# 256 dims of [CLS] are SimCLR's contrastive embedding (NT-Xent, τ = 0.1,
# negatives gathered over all GPUs), the last 256 dims of the patch tokens of
# both views feed the K = 2 reconstruction decoders. The projector's output
# is the contrastive embedding itself (no expander, as SimCLR).
# Everything but the loss -- the data preprocessor with the method's
# transform, K and view_index, the ViT, the 512-d projector and the
# reconstruction head -- is VICReg + ours', taken from its model file; its
# expander and VICReg loss are dropped.
_base_ = ['./vicreg-equi_vit-small-p16.py']

model = dict(
    _delete_=True,  # VICReg + ours' expander and loss
    type='SimCLREquiRecon',
    data_preprocessor={{_base_.model.data_preprocessor}},
    backbone={{_base_.model.backbone}},
    projector={{_base_.model.projector}},  # 512-d
    loss=dict(type='InfoNCELoss', temperature=0.1, gather=True),
    head={{_base_.model.head}},  # d_equi = 256, K from the preprocessor
)
