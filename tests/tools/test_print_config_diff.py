"""tools/analysis_tools/print_config_diff.py: a dump of a config tree, and a
diff that tells Runner-level changes from helper-variable changes and from a
mere move of a setting into a _base_ file."""
import importlib.util
import os.path as osp

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location(
    'print_config_diff',
    osp.join(REPO, 'tools', 'analysis_tools', 'print_config_diff.py'))
pcd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pcd)

BASE = "model = dict(type='M', depth=2)\nsteps = 3\n"


def _tree(root, leaf: str, base: str = BASE):
    (root / '_base_').mkdir(parents=True)
    (root / '_base_' / 'm.py').write_text(base)
    (root / 'a.py').write_text("_base_ = ['./_base_/m.py']\n" + leaf)
    return str(root)


def test_moving_a_setting_into_a_base_is_no_difference(tmp_path, capsys):
    before = _tree(tmp_path / 'b', "model = dict(width=8)\n")
    after = _tree(tmp_path / 'a', '',
                  BASE.replace("depth=2)", "depth=2, width=8)"))
    assert pcd.dump(before, str(tmp_path / 'd0')) == 1  # _base_ skipped
    pcd.dump(after, str(tmp_path / 'd1'))
    assert pcd.diff(str(tmp_path / 'd0'), str(tmp_path / 'd1')) == 0
    assert '1 configs: 1 identical' in capsys.readouterr().out


def test_runner_and_helper_differences_are_told_apart(tmp_path, capsys):
    before = _tree(tmp_path / 'b', "model = dict(width=8)\n")
    after = _tree(tmp_path / 'a', "model = dict(width=16)\nsteps = 4\n")
    pcd.dump(before, str(tmp_path / 'd0'))
    pcd.dump(after, str(tmp_path / 'd1'))
    assert pcd.diff(str(tmp_path / 'd0'), str(tmp_path / 'd1')) == 1
    out = capsys.readouterr().out
    assert 'RUNNER .model.width: 8 -> 16' in out
    assert 'helper .steps: 3 -> 4' in out


def test_key_diffs_lists_and_missing_keys():
    old = dict(hooks=[dict(a=1), dict(b=2)], gone=1)
    new = dict(hooks=[dict(a=1), dict(b=3, c=0)], new=2)
    assert pcd.key_diffs(old, new) == [
        '.gone: removed 1', '.hooks[1].b: 2 -> 3', '.hooks[1].c: added 0',
        '.new: added 2']


def test_a_config_that_fails_to_load_counts(tmp_path, capsys):
    before = _tree(tmp_path / 'b', '')
    after = _tree(tmp_path / 'a', '')
    (tmp_path / 'a' / 'a.py').write_text("_base_ = ['./_base_/gone.py']\n")
    pcd.dump(before, str(tmp_path / 'd0'))
    pcd.dump(after, str(tmp_path / 'd1'))
    assert pcd.diff(str(tmp_path / 'd0'), str(tmp_path / 'd1')) == 1
    assert 'after: ERROR' in capsys.readouterr().out
