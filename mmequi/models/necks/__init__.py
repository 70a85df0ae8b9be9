from .ibot_neck import WeightNormLinear, iBOTNeck
from .mlp_neck import MLPNeck
from .separate_heads_neck import SeparateHeadsNeck
from .simple_fpn import SimpleFPN
from .vit_linear_features import ViTLinearFeatures  # noqa: F401

__all__ = ['iBOTNeck', 'WeightNormLinear', 'MLPNeck', 'SeparateHeadsNeck',
           'SimpleFPN']
