# VICReg + ours + rescuing easy samples ([E], VISAPP 2025): the strong views'
# [CLS] embeddings must match the other original view's (cosine, stop-grad).
_base_ = ['./vicreg-equi_vit-small-p16_8xb128-amp-coslr-100e_in1k_all-rot.py']

model = dict(head=dict(
    topk=dict(type='EasySampleRescue', ratio=0.25, loss_weight=0.5)))
