# iBOT + ours with the cross-attention reconstruction of [X] (Wang, Krajsek,
# Scharr, arXiv 2412.03314, row "cross_atten_recon"): a cross-attention block
# blends the two views' equivariant tokens (queries from view 1, keys/values
# from view 2), then decodes. Targets = intermediate rotations.
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(head=dict(
    decoder=dict(_delete_=True, type='CrossAttnReconDecoder', patch_size=16)))
