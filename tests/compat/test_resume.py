"""Checkpoint rotation, last_checkpoint and resume (mmequi.compat.resume).

The end-to-end tests run tools/train.py on the toy-shapes demo and SIGKILL a
real training process at a fixed point (mmequi.testing.crash_hooks, no
timing), then resume and compare the final weights and optimizer moments with
an uninterrupted run, bit for bit.
"""
import logging
import os
import os.path as osp
import shutil
import textwrap

import pytest
import torch
from mmengine.logging import MMLogger

from mmequi.compat.checkpoint import load_checkpoint_file
from mmequi.compat.resume import (RNG_KEY, find_resume_checkpoint,
                                  stale_temp_files)
from mmequi.testing.crash_hooks import ENV
from tests.conftest import DEMO_CFG, data_root_options, run_tool, train_cmd


# ---------------------------------------------------------------- units
def _fake_ckpt(path, it, epoch):
    torch.save({'meta': {'iter': it, 'epoch': epoch},
                'state_dict': {'w': torch.full((2, ), float(it))}}, path)


@pytest.fixture
def work_dir(tmp_path):
    d = tmp_path / 'wd'
    d.mkdir()
    _fake_ckpt(d / 'epoch_1.pth', 4, 1)
    _fake_ckpt(d / 'epoch_2.pth', 8, 2)
    _fake_ckpt(d / 'iter_8.pth', 8, 1)  # same iteration, unfinished epoch
    _fake_ckpt(d / 'iter_6.pth', 6, 1)
    return d


@pytest.fixture
def warnings_seen():
    """WARNING records of mmengine's current logger during the test."""
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    logger = MMLogger.get_current_instance()
    h = Keep(level=logging.WARNING)
    logger.addHandler(h)
    yield records
    logger.removeHandler(h)


def test_valid_pointer_is_used_silently(work_dir, warnings_seen):
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_6.pth'))
    assert find_resume_checkpoint(str(work_dir)) == str(
        work_dir / 'iter_6.pth')
    assert not warnings_seen


@pytest.mark.parametrize('pointer, why', [
    (None, 'does not exist'),
    ('', 'is empty'),
    ('{d}/epoch_3.pth', 'which does not exist'),
    ('{d}/truncated.pth', 'incomplete'),
])
def test_bad_pointer_falls_back_to_newest_complete(work_dir, warnings_seen,
                                                   pointer, why):
    # a newer checkpoint cut off mid-write must not be picked either
    _fake_ckpt(work_dir / 'full.pth', 12, 3)
    data = (work_dir / 'full.pth').read_bytes()
    (work_dir / 'truncated.pth').write_bytes(data[:len(data) // 2])
    os.remove(work_dir / 'full.pth')
    if pointer is not None:
        (work_dir / 'last_checkpoint').write_text(
            pointer.format(d=work_dir))
    got = find_resume_checkpoint(str(work_dir))
    # iteration 8 twice: the epoch checkpoint (epoch 2) is the later one
    assert got == str(work_dir / 'epoch_2.pth')
    msg = ' '.join(r.getMessage() for r in warnings_seen)
    assert why in msg and 'epoch_2.pth (iteration 8, epoch 2)' in msg


def test_no_complete_checkpoint_is_an_error_naming_the_work_dir(tmp_path):
    d = tmp_path / 'empty_wd'
    d.mkdir()
    (d / 'last_checkpoint').write_text('')
    (d / 'epoch_1.pth').write_bytes(b'PK\x03\x04 cut')
    with pytest.raises(FileNotFoundError, match=f'work dir {d} holds no'):
        find_resume_checkpoint(str(d))


def test_resume_in_an_empty_work_dir_starts_from_scratch(tmp_path, caplog):
    """A job that always passes --resume (requeued SLURM job) starts from
    scratch the first time, saying so; a broken pointer alone is refused."""
    from mmengine.logging import MMLogger
    MMLogger.get_instance('test_resume_empty')
    assert find_resume_checkpoint(str(tmp_path)) is None
    (tmp_path / 'last_checkpoint').write_text('')
    with pytest.raises(FileNotFoundError, match='holds no complete'):
        find_resume_checkpoint(str(tmp_path))


def test_stale_temp_files_pattern(tmp_path):
    names = ['.epoch_3.pth.ab12cd.tmp', '.last_checkpoint.x1.tmp',
             'epoch_3.pth', '.hidden.tmp', 'notes.tmp']
    for n in names:
        (tmp_path / n).write_text('x')
    assert [osp.basename(p) for p in stale_temp_files(str(tmp_path))] == \
        names[:2]


# ------------------------------------------------------------ end to end
ITERS_PER_EPOCH = 4  # 32 toy images, batch 8


def _config(tmp_path, checkpoint: str) -> str:
    """The demo config plus the (dormant) kill hook and a checkpoint hook."""
    path = tmp_path / 'cfg.py'
    path.write_text(textwrap.dedent(f"""
        _base_ = [{DEMO_CFG!r}]
        custom_imports = dict(
            imports=['mmequi', 'mmequi.testing.crash_hooks'],
            allow_failed_imports=False)
        custom_hooks = [dict(type='EpochSeedHook'),
                        dict(type='SigkillHook')]
        default_hooks = dict(checkpoint={checkpoint})
        """))
    return str(path)


def _train(cfg, wd, root, *extra, kill=None):
    opts = data_root_options(root) + [
        'train_cfg.max_epochs=3', 'randomness.deterministic=True',
        'train_dataloader.batch_size=8', 'default_hooks.logger.interval=1']
    cmd = train_cmd(cfg, wd, '--no-validate', *extra, options=opts)
    if kill is None:  # in-process (fast)
        return run_tool(cmd)
    proc = run_tool(cmd, env={ENV: kill}, check=False)  # a real process
    assert proc.returncode == -9, proc.stdout[-3000:]
    return proc


def _assert_same_state(path_a, path_b):
    a, b = load_checkpoint_file(path_a), load_checkpoint_file(path_b)
    assert a['meta']['iter'] == b['meta']['iter'] == 3 * ITERS_PER_EPOCH
    for k in a['state_dict']:
        torch.testing.assert_close(a['state_dict'][k], b['state_dict'][k],
                                   rtol=0, atol=0, msg=k)
    sa, sb = a['optimizer']['state'], b['optimizer']['state']
    assert sa.keys() == sb.keys() and sa
    for k in sa:
        torch.testing.assert_close(sa[k]['exp_avg'], sb[k]['exp_avg'],
                                   rtol=0, atol=0)


ITER_HOOK = ("dict(type='CheckpointHook', by_epoch=False, interval=6, "
             'max_keep_ckpts=3)')


@pytest.fixture(scope='module')
def straight(toy_shapes, tmp_path_factory):
    """An uninterrupted 3-epoch run with iteration checkpoints 6 and 12."""
    tmp = tmp_path_factory.mktemp('straight')
    wd = str(tmp / 'wd')
    _train(_config(tmp, ITER_HOOK), wd, toy_shapes)
    return wd


@pytest.mark.timeout(240)
def test_kill_during_save_keeps_previous_checkpoint_and_resumes(
        toy_shapes, straight, tmp_path):
    cfg = _config(tmp_path, "dict(type='CheckpointHook', interval=1, "
                  'max_keep_ckpts=1)')
    wd = str(tmp_path / 'wd')
    # killed inside the write of epoch_3.pth (iteration 12)
    _train(cfg, wd, toy_shapes, kill=f'save:{3 * ITERS_PER_EPOCH}')
    assert osp.isfile(osp.join(wd, 'epoch_2.pth'))  # not rotated away yet
    assert not osp.exists(osp.join(wd, 'epoch_3.pth'))
    with open(osp.join(wd, 'last_checkpoint')) as f:
        assert f.read() == osp.join(wd, 'epoch_2.pth')
    stale = stale_temp_files(wd)
    assert len(stale) == 1 and 'epoch_3.pth' in stale[0]

    # what a kill inside mmengine's own non-atomic write left behind
    open(osp.join(wd, 'last_checkpoint'), 'w').close()
    out = _train(cfg, wd, toy_shapes, '--resume').stdout
    assert f'{wd}/last_checkpoint is empty; resuming from the newest ' \
        f'complete checkpoint in {wd} instead: {wd}/epoch_2.pth' in out
    assert f'removed temp files of interrupted checkpoint writes: ' \
        f'{stale[0]}' in out
    assert not stale_temp_files(wd)
    assert sorted(f for f in os.listdir(wd) if f.endswith('.pth')) == \
        ['epoch_3.pth']  # rotation still keeps one
    _assert_same_state(osp.join(straight, 'iter_12.pth'),
                       osp.join(wd, 'epoch_3.pth'))


@pytest.mark.timeout(240)
def test_mid_epoch_resume_is_exact(toy_shapes, straight, tmp_path):
    cfg = _config(tmp_path, ITER_HOOK)
    wd = str(tmp_path / 'wd')
    # iter_6 is saved after 2 of the 4 batches of epoch 1; die at iter 8
    _train(cfg, wd, toy_shapes, kill='iter:8')
    assert load_checkpoint_file(osp.join(wd, 'iter_6.pth'))['meta'][
        'epoch'] == 1
    out = _train(cfg, wd, toy_shapes, '--resume').stdout
    _assert_same_state(osp.join(straight, 'iter_12.pth'),
                       osp.join(wd, 'iter_12.pth'))
    assert sorted(f for f in os.listdir(wd) if f.endswith('.pth')) == \
        ['iter_12.pth', 'iter_6.pth']  # 12 steps in all, not 14
    assert 'resuming inside epoch 1 at iteration 6: drawing and dropping ' \
        'the 2 of 4 batches' in out
    # the main-process random state was stored in the checkpoint
    assert RNG_KEY in load_checkpoint_file(
        osp.join(wd, 'iter_6.pth'))['meta']


def test_resume_of_finished_run_trains_nothing(toy_shapes, straight,
                                               tmp_path):
    wd = str(tmp_path / 'done')
    shutil.copytree(straight, wd,
                    ignore=shutil.ignore_patterns('2*'))  # not the logs
    with open(osp.join(wd, 'last_checkpoint'), 'w') as f:
        f.write(osp.join(wd, 'iter_12.pth'))
    before = open(osp.join(wd, 'iter_12.pth'), 'rb').read()
    out = _train(_config(tmp_path, ITER_HOOK), wd, toy_shapes,
                 '--resume').stdout
    assert 'the run is finished (epoch 2/3, iteration 12/12); nothing to ' \
        'train' in out
    assert 'Iter(train)' not in out and 'Epoch(train)' not in out
    assert sorted(f for f in os.listdir(wd) if f.endswith('.pth')) == \
        ['iter_12.pth', 'iter_6.pth']
    assert open(osp.join(wd, 'iter_12.pth'), 'rb').read() == before


IBOT_CFG = osp.join(osp.dirname(DEMO_CFG), '..', 'ibot',
                    'ibot_vit-tiny-p16_1xb8-4e_toy-shapes-64px.py')


@pytest.mark.timeout(240)
def test_mid_epoch_resume_restores_step_randomness(toy_shapes_64, tmp_path):
    """iBOT draws random numbers in the main process during the step, so
    here the restored random state matters, not only the data stream."""
    from mmengine.config import Config
    hooks = Config.fromfile(IBOT_CFG).custom_hooks + [
        dict(type='SigkillHook')]
    cfg = tmp_path / 'ibot.py'
    cfg.write_text(textwrap.dedent(f"""
        _base_ = [{osp.abspath(IBOT_CFG)!r}]
        custom_imports = dict(
            imports=['mmequi', 'mmequi.testing.crash_hooks'],
            allow_failed_imports=False)
        custom_hooks = {hooks!r}
        default_hooks = dict(checkpoint=dict(
            type='CheckpointHook', by_epoch=False, interval=3,
            max_keep_ckpts=3))
        """))
    opts = ['train_dataloader.dataset.data_root=' + toy_shapes_64,
            'randomness.deterministic=True', 'train_cfg.max_epochs=3']

    def train(wd, *extra, env=None):
        proc = run_tool(train_cmd(str(cfg), wd, *extra, options=opts),
                        env=env, check=env is None)
        return proc

    straight, wd = str(tmp_path / 'straight'), str(tmp_path / 'wd')
    train(straight)
    # 2 batches per epoch: iter_3 is saved after batch 1 of epoch 1
    assert train(wd, env={ENV: 'iter:4'}).returncode == -9
    out = train(wd, '--resume').stdout
    assert 'resuming inside epoch 1 at iteration 3' in out
    a = load_checkpoint_file(osp.join(straight, 'iter_6.pth'))
    b = load_checkpoint_file(osp.join(wd, 'iter_6.pth'))
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for k in a['state_dict']:
        torch.testing.assert_close(a['state_dict'][k], b['state_dict'][k],
                                   rtol=0, atol=0, msg=k)
