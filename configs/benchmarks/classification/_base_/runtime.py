# Runtime of the classification transfer configs: configs/_base_/
# default_runtime.py (scope mmpretrain, mmequi imported, epoch reseeding).
_base_ = ['../../../_base_/default_runtime.py']
