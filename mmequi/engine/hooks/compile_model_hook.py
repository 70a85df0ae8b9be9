"""Opt-in ``torch.compile`` of parts of the model (issue 13 speed switch).

``nn.Module.compile`` compiles a module in place: its ``__call__`` runs the
compiled graph, but the module, its parameters and so every state-dict key
stay as they are (``torch.compile(module)`` would wrap it and prefix the
keys with ``_orig_mod.``). Checkpoints written by a compiled run therefore
load into an uncompiled model and vice versa.

Usage (config)::

    custom_hooks = [..., dict(type='CompileModelHook',
                              modules=('backbone', 'teacher.backbone'))]

The compile itself happens lazily, on the first forward of each module
(and again for each new input shape, e.g. the global and the local crops:
two graphs per backbone with ``dynamic=None``).
"""
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

__all__ = ['CompileModelHook', 'compile_submodules']


def compile_submodules(model: nn.Module, modules: Sequence[str],
                       **compile_kwargs) -> None:
    """``model.get_submodule(name).compile(**compile_kwargs)`` for every
    dotted ``name`` in ``modules`` (in place; state-dict keys unchanged).
    A name that is not a submodule is a KeyError naming it and the model's
    top-level children; nothing is compiled then."""
    targets = []
    for name in modules:
        try:
            targets.append(model.get_submodule(name))
        except AttributeError as err:
            children = sorted(n for n, _ in model.named_children())
            raise KeyError(
                f'CompileModelHook: {type(model).__name__} has no submodule '
                f'{name!r} ({err}); its top-level children are {children}'
            ) from None
    for module in targets:
        module.compile(**compile_kwargs)


@HOOKS.register_module()
class CompileModelHook(Hook):
    """Compile the named submodules of the (unwrapped) model with
    ``nn.Module.compile`` before training.

    Args:
        modules: dotted submodule names (default: the student and the
            teacher backbone of iBOT, ``('backbone', 'teacher.backbone')``;
            VICReg has only ``'backbone'``).
        backend: ``torch.compile`` backend (``'inductor'``; ``'aot_eager'``
            needs no C++ compiler, used by the tests).
        mode: ``torch.compile`` mode (None, ``'max-autotune'``, ...).
        dynamic: ``torch.compile`` dynamic-shape setting (None: decided by
            torch after the first recompilation).

    Default off (a config opts in by adding the hook). The loss equals the
    uncompiled model's within fp32 rounding (tested with ``aot_eager``).
    """

    priority = 'VERY_HIGH'  # before anything runs a forward

    def __init__(self,
                 modules: Sequence[str] = ('backbone', 'teacher.backbone'),
                 backend: str = 'inductor',
                 mode: Optional[str] = None,
                 dynamic: Optional[bool] = None) -> None:
        if isinstance(modules, str) or not modules:
            raise ValueError('CompileModelHook: modules must be a non-empty '
                             f'sequence of submodule names, got {modules!r}')
        self.modules = tuple(modules)
        self.backend: Union[str, object] = backend
        self.mode = mode
        self.dynamic = dynamic

    def before_train(self, runner) -> None:
        model = runner.model
        if is_model_wrapper(model):
            model = model.module
        compile_submodules(model, self.modules, backend=self.backend,
                           mode=self.mode, dynamic=self.dynamic)
        print_log(f'CompileModelHook: compiled {list(self.modules)} '
                  f'(backend={self.backend!r}, mode={self.mode!r}, '
                  f'dynamic={self.dynamic!r})', logger='current')
