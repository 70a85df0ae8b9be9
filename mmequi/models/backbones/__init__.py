from .ibot_vit import iBOTViT

__all__ = ['iBOTViT']
