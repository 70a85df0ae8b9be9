# The control arm of the one-GPU experiment: the method's config
# ibot-equi_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py with
# d_equi = 0 and nothing else changed (same views, g_θ, θ draws, ViT,
# schedule, data and the same 768 prototypes for the iBOT loss), as the
# demo's ibot-equi-ctrl_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py.
_base_ = ['./ibot-equi_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py']

model = dict(head=dict(d_equi=0), neck=dict(out_channels=768))
custom_hooks = {{_base_.ibot_hooks}}  # the method's hooks less the recon grid
