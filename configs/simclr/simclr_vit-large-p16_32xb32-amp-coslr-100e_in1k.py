# Plain SimCLR (Chen et al., ICML 2020), ViT-L/16, ImageNet-1k: the paper's
# Table 4 row "SimCLR" next to "SimCLR + ours" (Wang et al., AAAI-26, arXiv
# 2503.18753). The "+ ours" config with the method switched off and nothing
# else changed (tests/configs/test_baseline_configs.py checks the diff):
#   model.head.d_equi = 0                  no decoders; InfoNCE on all 512
#                                          dims of the projected [CLS]
#   model.data_preprocessor.transform =    no g_θ: view 2 is the usual
#       dict(type='identity')              augmented view
#   model.data_preprocessor.num_intermediate = 0   no targets
# Same class (SimCLREquiRecon), pipeline, schedule and runtime.
_base_ = ['../equi_recon/'
          'simclr-equi_vit-large-p16_32xb32-amp-coslr-100e_in1k_all-rot.py',
          './_base_/plain.py']

model = {{_base_.method_off}}
