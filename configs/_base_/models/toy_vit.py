# The small ViT of the CPU demo (make demo): 128 dims, 4 layers, 4 heads,
# patch 16 on 64 px renders (4 x 4 patch tokens + [CLS]). Variables only:
#   model = dict(backbone=dict(arch={{_base_.toy_vit_arch_override}}))  # pretraining
#   model = dict(backbone={{_base_.toy_vit}})                            # probes
toy_vit_dims = 128
toy_vit_arch = dict(embed_dims=toy_vit_dims, num_layers=4, num_heads=4,
                    feedforward_channels=4 * toy_vit_dims)
# (_delete_: replaces a base backbone's arch, e.g. iBOT's 'deit-small')
toy_vit_arch_override = dict(toy_vit_arch, _delete_=True)
toy_vit = dict(_delete_=True, type='iBOTViT', arch=toy_vit_arch, img_size=64,
               patch_size=16, qkv_bias=True,
               drop_path_rate=0.0)  # (_delete_: replaces a base backbone)
