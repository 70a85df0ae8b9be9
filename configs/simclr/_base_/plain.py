# The plain base method from a "+ ours" config (Wang et al., AAAI-26, arXiv
# 2503.18753): the three model keys that switch the method off, the one copy
# (configs/simclr and configs/vicreg use it as
# ``model = {{_base_.method_off}}`` after the "+ ours" config). No g_θ on
# view 2 (the identity family, θ of 0 values), no intermediate targets, no
# equivariant part (d_equi = 0: the base loss sees the whole embedding, the
# head builds no decoders).
method_off = dict(
    data_preprocessor=dict(transform=dict(_delete_=True, type='identity'),
                           num_intermediate=0),
    head=dict(d_equi=0))
