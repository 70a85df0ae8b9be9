# iBOT + ours (intermediate targets, AAAI-26 arXiv 2503.18753) with a
# cross-attention decoder: each of the K = 2 decoders of the intermediate
# rotations blends the two views' equivariant tokens in one cross-attention
# block (queries from view 1, keys/values from view 2) before the conv
# decoder. The block is borrowed from [X] (Wang, Krajsek, Scharr, arXiv
# 2412.03314); this config is our variant, not [X]'s model, which
# reconstructs a view on a VICReg base: configs/cross_attn_recon/.
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(head=dict(
    decoder=dict(_delete_=True, type='CrossAttnReconDecoder', patch_size=16)))
