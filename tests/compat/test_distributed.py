"""CPU distributed fixes: gloo launch, DDP on CPU modules, SyncBN on CPU."""
import os
import subprocess
import sys
import textwrap

import torch
import torch.multiprocessing as mp
import torch.nn as nn

from mmequi.compat import distributed as compat_dist

C, N_PER_RANK, WORLD = 3, 4, 2


def _global_batch() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(N_PER_RANK * WORLD, C, 5, 5, generator=g,
                       dtype=torch.float64) * 3 + 1


def _loss_weights() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(N_PER_RANK * WORLD, C, 5, 5, generator=g,
                       dtype=torch.float64)


def _syncbn_worker(rank: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist

    import mmequi  # noqa: F401
    dist.init_process_group('gloo', init_method=f'file://{init_file}',
                            rank=rank, world_size=WORLD)
    bn = nn.SyncBatchNorm(C, momentum=0.3).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        bn.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    sl = slice(rank * N_PER_RANK, (rank + 1) * N_PER_RANK)
    x = _global_batch()[sl].clone().requires_grad_(True)
    y = bn(x)
    (y * _loss_weights()[sl]).sum().backward()
    torch.save(dict(y=y.detach(), gx=x.grad, gw=bn.weight.grad,
                    gb=bn.bias.grad, rm=bn.running_mean, rv=bn.running_var,
                    n=bn.num_batches_tracked),
               os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_syncbn_on_cpu_equals_batchnorm_on_the_global_batch(tmp_path):
    mp.spawn(_syncbn_worker, args=(str(tmp_path / 'init'), str(tmp_path)),
             nprocs=WORLD, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in range(WORLD)]

    ref = nn.BatchNorm2d(C, momentum=0.3).double()
    with torch.no_grad():
        ref.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        ref.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    x = _global_batch().requires_grad_(True)
    y = ref(x)
    (y * _loss_weights()).sum().backward()

    torch.testing.assert_close(torch.cat([r['y'] for r in ranks]), y.detach())
    torch.testing.assert_close(torch.cat([r['gx'] for r in ranks]), x.grad)
    # parameter grads: each rank holds its share; DDP would sum/average them
    torch.testing.assert_close(sum(r['gw'] for r in ranks), ref.weight.grad)
    torch.testing.assert_close(sum(r['gb'] for r in ranks), ref.bias.grad)
    for r in ranks:
        torch.testing.assert_close(r['rm'], ref.running_mean)
        torch.testing.assert_close(r['rv'], ref.running_var)
        assert int(r['n']) == 1


def _run_single_rank(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1',
               MASTER_ADDR='127.0.0.1', MASTER_PORT='29641')
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          env=env, capture_output=True, text=True,
                          timeout=180)


def test_init_dist_and_ddp_on_cpu_with_nccl_config():
    proc = _run_single_rank('''
        import torch, torch.nn as nn
        import mmequi
        from mmengine.dist import init_dist
        from mmengine.model import MMDistributedDataParallel
        init_dist('pytorch', backend='nccl')   # what every config says
        import torch.distributed as dist
        print('BACKEND', dist.get_backend())
        m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.SyncBatchNorm(4))
        ddp = MMDistributedDataParallel(module=m, device_ids=[0],
                                        broadcast_buffers=False)
        print('DEVICE_IDS', ddp.device_ids)
        out = ddp(torch.randn(2, 3, 6, 6))
        out.sum().backward()
        print('GRAD', float(m[0].weight.grad.abs().sum()) > 0)
        dist.destroy_process_group()
    ''')
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'BACKEND gloo' in proc.stdout
    assert 'DEVICE_IDS None' in proc.stdout
    assert 'GRAD True' in proc.stdout
    assert 'using the gloo backend instead of nccl' in proc.stdout + \
        proc.stderr


def test_accelerator_path_is_untouched(monkeypatch):
    """With a GPU the wrapped launcher gets its arguments unchanged and
    torch.cuda.set_device stays the real one."""
    seen = {}

    def fake_init(backend, **kwargs):
        seen['backend'] = backend
        seen['set_device'] = torch.cuda.set_device

    wrapped = compat_dist._cpu_safe_init(fake_init)
    monkeypatch.setattr(compat_dist, 'accelerator_available', lambda: True)
    real = torch.cuda.set_device
    wrapped('nccl')
    assert seen == {'backend': 'nccl', 'set_device': real}

    monkeypatch.setattr(compat_dist, 'accelerator_available', lambda: False)
    wrapped('nccl')
    assert seen['backend'] == 'gloo' and seen['set_device'] is not real
    assert torch.cuda.set_device is real  # restored afterwards
