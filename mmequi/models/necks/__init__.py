from .ibot_neck import WeightNormLinear, iBOTNeck
from .mlp_neck import MLPNeck

__all__ = ['iBOTNeck', 'WeightNormLinear', 'MLPNeck']
