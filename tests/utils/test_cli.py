"""The command-line plumbing shared by tools/train.py and tools/test.py."""
import argparse
import os
import os.path as osp
import subprocess

from mmengine.config import Config

from mmequi.utils import cli


def _parse(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('config')
    cli.add_common_args(parser)
    return cli.finish_args(parser, argv)


def test_common_args_apply_to_the_config(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = _parse(['configs/x/my_cfg.py', '--cfg-options', 'a.b=3', 'c=x',
                   '--launcher', 'pytorch', '--local-rank', '2'])
    assert os.environ['LOCAL_RANK'] == '2'
    cfg = cli.apply_common_args(Config(dict(a=dict(b=1))), args)
    assert cfg.a.b == 3 and cfg.c == 'x' and cfg.launcher == 'pytorch'
    assert cfg.work_dir == osp.join('./work_dirs', 'my_cfg')
    # a launcher's LOCAL_RANK wins over --local-rank
    monkeypatch.setenv('LOCAL_RANK', '5')
    _parse(['c.py', '--local-rank', '1'])
    assert os.environ['LOCAL_RANK'] == '5'


def test_default_work_dir_precedence():
    cfg = Config(dict(work_dir='from_cfg'))
    cli.default_work_dir(cfg, None, 'a/b.py')
    assert cfg.work_dir == 'from_cfg'
    cli.default_work_dir(cfg, 'given', 'a/b.py')
    assert cfg.work_dir == 'given'
    cfg = Config(dict())
    cli.default_work_dir(cfg, None, 'a/b.c.py')
    assert cfg.work_dir == osp.join('./work_dirs', 'b.c')


def test_fix_dataloader():
    cfg = Config(dict(
        train_dataloader=dict(num_workers=0, persistent_workers=True),
        val_dataloader=dict(num_workers=2, persistent_workers=True),
        test_dataloader=None))
    for field in cli.DATALOADERS:
        cli.fix_dataloader(cfg, field)
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.val_dataloader.persistent_workers is True


def test_slurm_master_addr(monkeypatch):
    calls = []

    def fake(cmd, text):
        calls.append(cmd)
        return 'node17\nnode18\n'
    monkeypatch.setattr(subprocess, 'check_output', fake)
    # set, then delete: monkeypatch restores the caller's MASTER_ADDR (or
    # its absence) after the test; a bare delenv of an absent variable
    # records nothing and the value set below leaked into later tests
    # (torchrun then waited for a host 'node17i')
    monkeypatch.setenv('MASTER_ADDR', 'unset-by-test')
    monkeypatch.delenv('MASTER_ADDR')
    monkeypatch.setenv('SLURM_NODELIST', 'node[17-18]')
    monkeypatch.delenv('MMEQUI_MASTER_ADDR_SUFFIX', raising=False)
    cli.setup_slurm_master_addr('slurm')              # no suffix: nothing
    assert 'MASTER_ADDR' not in os.environ and not calls
    monkeypatch.setenv('MMEQUI_MASTER_ADDR_SUFFIX', 'i')
    cli.setup_slurm_master_addr('pytorch')            # not slurm: nothing
    assert 'MASTER_ADDR' not in os.environ
    cli.setup_slurm_master_addr('slurm')
    assert os.environ['MASTER_ADDR'] == 'node17i'
    assert calls == [['scontrol', 'show', 'hostnames', 'node[17-18]']]


def test_build_runner_uses_runner_type():
    from mmengine.registry import RUNNERS

    @RUNNERS.register_module(name='_CliTestRunner', force=True)
    class _Fake:
        @classmethod
        def from_cfg(cls, cfg):
            return ('built', cfg.tag)
    cfg = Config(dict(runner_type='_CliTestRunner', tag=7,
                      default_scope='mmpretrain'))
    assert cli.build_runner(cfg) == ('built', 7)


def test_release_process_group(tmp_path):
    """The tools destroy the group they initialised (gloo's threads at
    interpreter exit aborted a finished rank) and do nothing without one."""
    import torch.distributed as dist

    from mmequi.utils.cli import release_process_group
    release_process_group()  # no group: a no-op
    assert not dist.is_initialized()
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    assert dist.is_initialized()
    release_process_group()
    assert not dist.is_initialized()
