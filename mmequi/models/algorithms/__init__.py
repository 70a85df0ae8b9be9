from .ibot import iBOT

__all__ = ['iBOT']
