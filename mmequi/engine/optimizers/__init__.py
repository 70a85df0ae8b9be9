from .layer_decay_constructor import ViTLayerDecayOptimWrapperConstructor
from .ssl_constructor import SSLOptimWrapperConstructor
from .ssl_optim_wrapper import SSLAmpOptimWrapper, SSLOptimWrapper

__all__ = ['ViTLayerDecayOptimWrapperConstructor',
           'SSLOptimWrapperConstructor', 'SSLOptimWrapper',
           'SSLAmpOptimWrapper']
