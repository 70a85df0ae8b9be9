# SimCLR + ours' optimisation. The paper does not publish it (Table 4 gives
# the row only); ours, not published: the 100-epoch AdamW schedule of
# VICReg + ours (10 warm-up epochs, cosine to 1e-6, bf16 autocast, gradient
# clipping at 3; the base file) with lr = 1.5e-4 * B/256 (6e-4 at batch
# 1024) and weight decay 0.1 -- the scaling rule and decay of MoCo v3's ViT
# recipe (Chen, Xie and He, ICCV 2021).
_base_ = ['./imagenet_bs1024_adamw-coslr-100e_vicreg.py']

optim_wrapper = dict(optimizer=dict(lr=6e-4, weight_decay=0.1))
