# The control arm of the demo (make demo, "iBOT (control)"): the method's
# config ibot-equi_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py with
# the reconstruction switched off and nothing else changed: the same views,
# the same g_θ on the second global view (φ ~ U(-45°, 45°)), the same θ
# draws (same seed), the same ViT, schedule and data, and the same 192
# prototypes for the iBOT loss (the method's z_inv). d_equi = 0 removes the
# 64 z_equi outputs, the decoders and L_recon: the one change under test.
_base_ = ['./ibot-equi_vit-tiny-p16_1xb64-6e_toy-3diebench-64px_all-rot.py']

model = dict(head=dict(d_equi=0), neck=dict(out_channels=192))
custom_hooks = {{_base_.ibot_hooks}}  # the method's hooks less the recon grid
