# [X] (Wang, Krajsek, Scharr, arXiv 2412.03314; "cross_atten_recon" of
# AAAI-26 Table 1): VICReg on the invariant 256 of a 512-d [CLS] embedding,
# a cross-attention block over the two views' equivariant 256-d patch tokens
# and a decoder reconstructing view 1 (MSE), ViT-S/16 on ImageNet-1k.
# Model: ../_base_/models/cross-attn-recon_vit-small-p16.py (what [X]
# publishes and what is ours is listed there). Data: the two global views of
# VICReg + ours (224 px, no local crops), the target is v1 itself.
# Recipe: not published by [X] for a ViT -- ours: the VICReg + ours recipe of
# AAAI-26 (Sec. "Pretraining"): 800 epochs, batch 2048 = 16 GPUs x 128, AdamW
# lr = 1e-4 x B/256 = 8e-4, cosine, warm-up 10 epochs and weight decay 0.05
# (ours, see the schedule file), bf16 autocast.
_base_ = ['../_base_/models/cross-attn-recon_vit-small-p16.py',
          '../_base_/datasets/imagenet_bs128_vicreg.py',
          '../_base_/schedules/imagenet_bs2048_adamw-coslr-800e_vicreg.py',
          './_base_/cross-attn-recon_runtime.py']
