"""Safe loading of runner checkpoints and crash-safe writes."""
import io
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader, save_checkpoint

from mmequi.compat.checkpoint import (UnsafeCheckpointError, atomic_write,
                                      load_checkpoint_file)


def _runner_like_checkpoint() -> dict:
    """What mmengine's Runner.save_checkpoint writes, without a Runner."""
    hub = MessageHub.get_instance('test_checkpoint_hub')
    for i in range(3):
        hub.update_scalar('train/loss', float(i))
    hub.update_info('dataset_meta', dict(classes=('a', 'b'),
                                         palette=np.zeros((2, 3), np.uint8)))
    model = nn.Linear(3, 2)
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    return dict(
        meta=dict(epoch=2, iter=10, seed=np.int64(7), cfg='x = 1',
                  scale=np.float32(0.5), dtype=np.dtype('float64'),
                  hist=np.arange(4.0)),
        state_dict=model.state_dict(),
        message_hub=hub.state_dict(),
        optimizer=opt.state_dict(),
        param_schedulers=[dict(last_step=3, base_values=[0.1])])


def _pickle_globals(path: str) -> set:
    """Every GLOBAL a torch zip checkpoint's pickle references."""
    import pickletools
    import zipfile
    with zipfile.ZipFile(path) as zf:
        data = zf.read(next(n for n in zf.namelist()
                            if n.endswith('data.pkl')))
    out, strings = set(), []
    for op, arg, _ in pickletools.genops(data):
        if op.name == 'GLOBAL':
            out.add(arg.replace(' ', '.'))
        elif op.name == 'STACK_GLOBAL':
            out.add('.'.join(strings[-2:]))
        if isinstance(arg, str):
            strings.append(arg)
    return out


def test_runner_checkpoint_roundtrip_with_weights_only(tmp_path):
    path = str(tmp_path / 'epoch_2.pth')
    ckpt = _runner_like_checkpoint()
    save_checkpoint(ckpt, path)  # mmengine's writer
    globals_ = _pickle_globals(path)
    # the file really needs the allow-list (else this test proves nothing)
    assert 'mmengine.logging.history_buffer.HistoryBuffer' in globals_
    assert any(g.startswith('numpy') for g in globals_)

    loaded = CheckpointLoader.load_checkpoint(path, map_location='cpu')
    assert loaded['meta']['seed'] == 7 and loaded['meta']['epoch'] == 2
    np.testing.assert_array_equal(loaded['meta']['hist'], np.arange(4.0))
    assert loaded['meta']['dtype'] == np.dtype('float64')
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    assert buf.mean() == pytest.approx(1.0) and buf.max() == 2.0
    np.testing.assert_array_equal(
        loaded['message_hub']['runtime_info']['dataset_meta']['palette'],
        np.zeros((2, 3), np.uint8))
    for k, v in ckpt['state_dict'].items():
        torch.testing.assert_close(loaded['state_dict'][k], v)


def test_pretrained_init_cfg_loads_runner_checkpoint(tmp_path):
    from mmpretrain.registry import MODELS
    path = str(tmp_path / 'full.pth')
    src = MODELS.build(dict(type='mmpretrain.LinearClsHead', num_classes=3,
                            in_channels=4))
    ckpt = _runner_like_checkpoint()
    ckpt['state_dict'] = src.state_dict()
    save_checkpoint(ckpt, path)
    dst = MODELS.build(dict(type='mmpretrain.LinearClsHead', num_classes=3,
                            in_channels=4,
                            init_cfg=dict(type='Pretrained', checkpoint=path)))
    dst.init_weights()
    torch.testing.assert_close(dst.fc.weight, src.fc.weight)


class _Evil:

    def __reduce__(self):
        return (os.system, ('echo pwned > /dev/null', ))


def test_code_carrying_checkpoint_is_refused(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'payload': _Evil()}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(path)
    msg = str(info.value)
    assert path in msg and 'system' in msg and 'never falls back' in msg


def test_env_override_cannot_disable_safety(tmp_path):
    """TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD must not turn the loader unsafe."""
    path = str(tmp_path / 'evil.pth')
    marker = tmp_path / 'ran'
    torch.save({'x': _Marker(str(marker))}, path)
    code = ('import mmequi; from mmengine.runner.checkpoint import '
            f'CheckpointLoader as C; C.load_checkpoint({path!r})')
    env = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD='1')
    proc = subprocess.run([sys.executable, '-c', code], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert 'UnsafeCheckpointError' in proc.stderr
    assert not marker.exists()


class _Marker:

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def test_getattr_is_restricted_to_history_buffer():
    """A pickle may call getattr only on HistoryBuffer statistics."""

    class Sneaky:

        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__init__'))

    buf = io.BytesIO()
    torch.save({'x': Sneaky()}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        torch.load(buf, weights_only=True)


def test_numpy1_names_load(tmp_path):
    """Checkpoints pickled under numpy 1.x module paths still load."""
    path = str(tmp_path / 'np1.pth')
    torch.save({'a': np.arange(3)}, path)
    # rewrite the pickle to use numpy 1.x's ``numpy.core`` module path
    import zipfile
    with zipfile.ZipFile(path) as zf:
        items = {n: zf.read(n) for n in zf.namelist()}
    name = next(n for n in items if n.endswith('data.pkl'))
    assert b'numpy._core.multiarray' in items[name]
    items[name] = items[name].replace(b'numpy._core.multiarray',
                                      b'numpy.core.multiarray')
    with zipfile.ZipFile(path, 'w') as zf:
        for n, data in items.items():
            zf.writestr(n, data)
    np.testing.assert_array_equal(load_checkpoint_file(path)['a'],
                                  np.arange(3))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old complete checkpoint')

    def boom(*args, **kwargs):
        raise KeyboardInterrupt  # e.g. SIGINT while the rename is pending

    monkeypatch.setattr(os, 'replace', boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(b'new' * 1000, str(target))
    assert target.read_bytes() == b'old complete checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_mmengine_save_checkpoint_is_atomic(tmp_path, monkeypatch):
    """mmengine's save path goes through the atomic writer."""
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.basename(src), os.path.basename(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', spy)
    path = str(tmp_path / 'ck.pth')
    save_checkpoint({'state_dict': {'w': torch.ones(2)}}, path)
    assert len(seen) == 1 and seen[0][1] == 'ck.pth'
    assert seen[0][0].startswith('.ck.pth.') and seen[0][0].endswith('.tmp')
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask
    torch.testing.assert_close(
        load_checkpoint_file(path)['state_dict']['w'], torch.ones(2))


def _advice_and_global(msg: str, path: str) -> None:
    """A refusal names the file, never ends with torch's boilerplate, and
    ends with our advice followed by the refused global."""
    assert path in msg
    assert 'Please file an issue' not in msg
    assert 'tools/model_converters' in msg
    assert msg.rstrip().endswith(('builtins.open', 'io.open')), msg


@pytest.mark.parametrize('form', ['legacy', 'raw-protocol2',
                                  'raw-protocol4', 'raw-protocol5'])
def test_legacy_and_raw_pickle_refusals_name_the_global(tmp_path, form):
    """Legacy ``torch.save`` files and raw pickles: torch's own message
    names no global (protocol 4/5: 'Unsupported operand') or ends with
    'Please file an issue'; ours names it (pickle opcodes read without
    unpickling) and the pickle does not run."""
    path = str(tmp_path / f'{form}.pth')
    marker = tmp_path / 'ran'
    obj = {'w': torch.ones(2), 'x': _Marker(str(marker))}
    if form == 'legacy':
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        with open(path, 'wb') as f:
            pickle.dump(obj, f, protocol=int(form[-1]))
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(path)
    _advice_and_global(str(info.value), path)
    assert not marker.exists()


def test_zip_refusal_ends_with_the_global(tmp_path):
    path = str(tmp_path / 'evil.pth')
    torch.save({'x': _Marker(str(tmp_path / 'ran'))}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint_file(path)
    _advice_and_global(str(info.value), path)


@pytest.mark.parametrize('legacy', [False, True])
def test_truncated_checkpoint_names_the_file(tmp_path, legacy):
    """Every prefix of a checkpoint (a killed write, a broken download)
    is reported as incomplete with the file's path, never as unsafe."""
    from mmequi.compat.checkpoint import IncompleteCheckpointError
    full = tmp_path / 'full.pth'
    torch.save({'state_dict': {'w': torch.ones(64)}, 'meta': {'epoch': 3}},
               str(full), _use_new_zipfile_serialization=not legacy)
    data = full.read_bytes()
    path = str(tmp_path / 'epoch_3.pth')
    for cut in range(0, len(data), 13):
        with open(path, 'wb') as f:
            f.write(data[:cut])
        with pytest.raises(IncompleteCheckpointError) as info:
            CheckpointLoader.load_checkpoint(path)
        assert (f'is not a complete checkpoint (truncated or not a torch '
                f'file): {path}') in str(info.value), (cut, str(info.value))
    assert issubclass(IncompleteCheckpointError, RuntimeError)


def test_text_file_is_not_a_checkpoint(tmp_path):
    from mmequi.compat.checkpoint import IncompleteCheckpointError
    path = tmp_path / 'notes.pth'
    path.write_text('hello\n')
    with pytest.raises(IncompleteCheckpointError, match='notes.pth'):
        load_checkpoint_file(str(path))


def test_disk_full_on_save_names_the_path(tmp_path, monkeypatch):
    """mmengine's save_checkpoint on a full disk: OSError(ENOSPC) naming
    the checkpoint being written; the old file stays, no temp file left."""
    import errno
    target = tmp_path / 'epoch_2.pth'
    target.write_bytes(b'old complete checkpoint')
    real_fdopen = os.fdopen

    class _Full(io.RawIOBase):

        def __init__(self, fd):
            self._f = real_fdopen(fd, 'wb')

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self):
            self._f.close()

    monkeypatch.setattr(os, 'fdopen', lambda fd, mode='r', *a, **k: _Full(fd))
    with pytest.raises(OSError) as info:
        save_checkpoint({'state_dict': {'w': torch.ones(2)}}, str(target))
    assert info.value.errno == errno.ENOSPC
    assert str(target) in str(info.value)
    assert info.value.filename == str(target)
    assert target.read_bytes() == b'old complete checkpoint'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_2.pth']
