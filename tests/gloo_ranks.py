"""Run a function on W gloo processes and collect what each rank returns
(the multi-rank tests of the losses that gather across ranks)."""
import os
from pathlib import Path
from typing import Any, Callable, List

import torch
import torch.multiprocessing as mp


def _worker(rank: int, fn: Callable[[int], Any], world: int,
            init_file: str, out_dir: str) -> None:
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=world)
    try:
        torch.save(fn(rank), os.path.join(out_dir, f'rank{rank}.pt'))
    finally:
        dist.destroy_process_group()


def run_on_gloo_ranks(fn: Callable[[int], Any], world: int,
                      tmp_path: Path) -> List[Any]:
    """``[fn(0), ..., fn(world - 1)]``, each computed in its own process of
    a gloo process group of ``world`` ranks (``fn``: a module-level function
    of the rank returning tensors / containers of tensors)."""
    mp.spawn(_worker, args=(fn, world, str(tmp_path / 'init'),
                            str(tmp_path)), nprocs=world, join=True)
    return [torch.load(tmp_path / f'rank{r}.pt') for r in range(world)]
