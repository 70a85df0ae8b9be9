from .ibot_neck import WeightNormLinear, iBOTNeck

__all__ = ['iBOTNeck', 'WeightNormLinear']
