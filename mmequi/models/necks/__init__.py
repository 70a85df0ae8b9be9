from .ibot_neck import WeightNormLinear, iBOTNeck
from .mlp_neck import MLPNeck
from .simple_fpn import SimpleFPN

__all__ = ['iBOTNeck', 'WeightNormLinear', 'MLPNeck', 'SimpleFPN']
