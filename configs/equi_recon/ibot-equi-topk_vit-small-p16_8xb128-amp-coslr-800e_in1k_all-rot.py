# iBOT + ours + rescuing easy samples ([E], Wang, Krajsek, Scharr, VISAPP
# 2025): the 25 % most similar view pairs of each batch get strongly
# augmented views and an extra cosine loss (weight 0.5). k, w and the strong
# recipe are not published: see mmequi/models/utils/easy_rescue.py.
_base_ = ['./ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py']

model = dict(head=dict(
    topk=dict(type='EasySampleRescue', ratio=0.25, loss_weight=0.5)))
