# The control arm of the VICReg pair of the one-GPU experiment:
# vicreg-equi_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py with
# d_equi = 0 and nothing else changed: the VICReg loss sees the same 128-d
# invariant embedding (the projector outputs 128 instead of 256), the same
# views and g_θ on the second view.
_base_ = ['./vicreg-equi_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py']

model = dict(head=dict(d_equi=0), projector=dict(out_channels=128))
