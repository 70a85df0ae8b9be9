from .ssl_constructor import SSLOptimWrapperConstructor
from .ssl_optim_wrapper import SSLAmpOptimWrapper, SSLOptimWrapper

__all__ = ['SSLOptimWrapperConstructor', 'SSLOptimWrapper',
           'SSLAmpOptimWrapper']
