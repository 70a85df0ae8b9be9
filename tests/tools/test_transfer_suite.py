"""tools/benchmarks/run_transfer_suite.sh end to end on CPU: a runner-style
iBOT ViT-S checkpoint → exports → tasks on tiny generated fixtures (real
formats), 2 training iterations each, test, one table whose numbers are the
test tool's.

To keep CI time down the end-to-end runs cover one task per export kind and
launcher path (ADE20K: mmpretrain-key export; MPII: the cls-free export;
homography; k-NN: test only, on the pretraining checkpoint itself). COCO
Mask R-CNN, COCO keypoints and the linear probe run through the same tools
in tests/tools/test_{mmdet,mmpose,classification}_transfer.py, and their
suite commands (data-root keys included) are checked by the dry run."""
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from mmequi.testing import make_ade20k, make_coco, make_mpii, make_nyu
from tests.conftest import REPO, run_tool

SUITE = osp.join(REPO, 'tools', 'benchmarks', 'run_transfer_suite.sh')
#: the end-to-end runs call the script behind SUITE (``exec python
#: run_transfer_suite.py "$@"``, checked by test_dry_run_commands) through
#: run_tool, which runs it and the tools it starts in this process
SUITE_PY = SUITE.replace('.sh', '.py')
IBOT_CFG = osp.join(REPO, 'configs', 'ibot',
                    'ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py')


def _loaders(task, *items):
    return [f'{task}:{s}_dataloader.{k}' for s in ('train', 'val', 'test')
            for k in ('num_workers=0', 'persistent_workers=False', *items)]


def tiny_options():
    """2 iterations at tiny sizes; no validation during training (the suite
    tests the last checkpoint)."""
    seg = ['model.data_preprocessor.size=(64,64)',
           'train_dataloader.dataset.pipeline.2.scale=(256,64)',
           'train_dataloader.dataset.pipeline.3.crop_size=(64,64)',
           'val_dataloader.dataset.pipeline.1.scale=(256,64)',
           'test_dataloader.dataset.pipeline.1.scale=(256,64)',
           'model.backbone.img_size=64', 'model.test_cfg.crop_size=(64,64)',
           'model.test_cfg.stride=(43,43)', 'train_dataloader.batch_size=2',
           'train_cfg.max_iters=2', 'train_cfg.val_interval=100',
           'default_hooks.checkpoint.interval=2']
    det = ['train_dataloader.dataset.pipeline.2.scale=(128,128)',
           'train_dataloader.dataset.pipeline.3.crop_size=(128,128)',
           'val_dataloader.dataset.pipeline.1.scale=(128,128)',
           'test_dataloader.dataset.pipeline.1.scale=(128,128)',
           'model.backbone.img_size=128',
           'model.data_preprocessor.pad_size_divisor=128',
           'model.train_cfg.rpn_proposal.nms_pre=400',
           'model.train_cfg.rpn_proposal.max_per_img=200',
           'model.train_cfg.rcnn.sampler.num=64',
           'model.test_cfg.rcnn.score_thr=0.0',
           'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
           'train_cfg.val_interval=100']
    pose = ['train_dataloader.dataset.indices=4', 'train_cfg.max_epochs=1',
            'train_cfg.val_interval=100']
    # depth: 64 px crops/windows on 96x128 frames (tiny_options of
    # tests/tools/test_mmseg_depth_transfer.py, pipeline indices of
    # _base_/nyu.py)
    depth = ['model.data_preprocessor.size=(64,64)',
             'model.backbone.img_size=64', 'model.test_cfg.crop_size=(64,64)',
             'model.test_cfg.stride=(32,32)',
             'train_dataloader.dataset.pipeline.3.crop_size=(64,64)',
             'val_dataloader.dataset.pipeline.1.scale=(2000,96)',
             'test_dataloader.dataset.pipeline.1.scale=(2000,96)',
             'train_dataloader.batch_size=2', 'train_cfg.max_iters=2',
             'train_cfg.val_interval=100',
             'default_hooks.checkpoint.interval=2']
    opts = [f'ade20k:{o}' for o in seg] + _loaders('ade20k')
    opts += [f'depth-nyu:{o}' for o in depth] + _loaders('depth-nyu')
    opts += [f'coco:{o}' for o in det] + _loaders('coco')
    for task in ('coco-pose', 'mpii'):
        opts += [f'{task}:{o}' for o in pose] + _loaders(task, 'batch_size=2')
    return opts + ['randomness.seed=0']


@pytest.fixture(scope='module')
def ibot_ckpt(tmp_path_factory):
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(IBOT_CFG).model)
    path = str(tmp_path_factory.mktemp('ibot') / 'ibot_epoch_1.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
    return path


@pytest.mark.slow
def test_suite_end_to_end(ibot_ckpt, tmp_path):
    root = tmp_path / 'data'
    ade = make_ade20k(str(root / 'ade'), num_train=4, num_val=2)
    mpii = make_mpii(str(root / 'mpii'), num_train=4, num_val=2)
    nyu = make_nyu(str(root / 'nyu'), num_train=4, num_test=2)
    work = str(tmp_path / 'suite')
    cmd = [sys.executable, SUITE_PY, ibot_ckpt, '1', '--tasks',
           'ade20k,mpii,depth-nyu',
           '--work-dir', work, '--name',
           'tiny iBOT', '--data-root', f'ade20k={ade}', f'mpii={mpii}',
           f'nyu={nyu}', '--cfg-options', *tiny_options()]
    out = run_tool(cmd, timeout=1500).stdout
    for task in ('ade20k', 'mpii', 'depth-nyu'):
        assert f'[{task}]' in out

    with open(osp.join(work, 'summary.json')) as f:
        summary = json.load(f)
    row = summary['metrics']
    # the table holds exactly the test tool's metrics (scaled to %)
    scale = {'ADE20K mIoU': ('ade20k', 'mIoU', 1),
             'MPII PCKh@0.5': ('mpii', 'PCK', 1),
             'NYU RMSE (m, lower is better)': ('depth-nyu', 'rmse', 1),
             'NYU AbsRel (lower is better)': ('depth-nyu', 'abs_rel', 1)}
    assert set(row) == set(scale)
    for title, (task, key, mult) in scale.items():
        with open(osp.join(work, task, 'metrics.json')) as f:
            logged = json.load(f)['metrics'][key]
        assert row[title] == pytest.approx(logged * mult)
        assert 0 <= row[title] <= 100, (title, row[title])
    assert 0 < row['NYU RMSE (m, lower is better)'] < 10
    with open(osp.join(work, 'summary.md')) as f:
        table = f.read()
    assert '| tiny iBOT |' in table and 'ADE20K mIoU' in table
    # exports: the pose tasks got the cls-free one
    nocls = torch.load(osp.join(work, 'backbone_nocls.pth'),
                       weights_only=True)['state_dict']
    assert nocls['pos_embed'].shape == (1, 196, 384)

    # nothing is overwritten silently: rerunning a finished task is refused
    again = run_tool(cmd[:4] + ['--work-dir', work, '--tasks', 'mpii'],
                     check=False)
    assert again.returncode != 0 and '--force' in again.stdout


def test_dry_run_commands(tmp_path):
    """8 GPUs → dist_train.sh/dist_test.sh, --slurm → slurm_*.sh; data roots
    reach the loaders and the path-valued evaluator keys of every task."""
    ckpt = tmp_path / 'x.pth'
    ckpt.write_bytes(b'')
    data = tmp_path / 'coco'
    data.mkdir()
    nyu = tmp_path / 'nyu'
    nyu.mkdir()
    out = run_tool(['bash', SUITE, str(ckpt), '8', '--dry-run', '--tasks',
                    'all', '--work-dir', str(tmp_path / 'w'), '--data-root',
                    f'coco={data}', f'imagenet={data}', f'nyu={nyu}']).stdout
    assert 'dist_train.sh' in out and 'dist_test.sh' in out
    for rel in ('instances_val2017.json', 'person_keypoints_val2017.json'):
        assert f'test_evaluator.ann_file={data}/annotations/{rel}' in out
    assert f'test_cfg.bank_dataloader.dataset.data_root={data} ' in out
    assert 'depth_vit-small-p16_8xb2-12e_nyu-480x480.py' in out
    assert f'test_dataloader.dataset.data_root={nyu}\n' in out
    suite = _suite_module()
    assert len(suite.TASKS) == 7 + 2 * 8
    for task in suite.TASKS:  # every config exists and is launched
        assert f'[{task}]' in out, task
    out = run_tool(['bash', SUITE, str(ckpt), '16', '--dry-run', '--slurm',
                    'gpu', '--tasks', 'mpii', '--arch', 'large',
                    '--work-dir', str(tmp_path / 'w')]).stdout
    assert 'slurm_train.sh gpu mmequi-mpii' in out
    assert 'td-hm_vit-large-p16_8xb64-12e_mpii-256x256.py' in out
    bad = run_tool(['bash', SUITE, str(ckpt), '8', '--tasks', 'voc'],
                   check=False)
    assert bad.returncode != 0 and 'voc' in bad.stdout


def _suite_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('suite', SUITE_PY)
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    return suite


def test_depth_task_options_and_defaults():
    """depth-nyu reads the 'nyu' root in all three loaders, takes its
    TASK: options only, is in the default (dense) suite and loads the
    mmpretrain-key export with the cls entry."""
    suite = _suite_module()
    assert 'depth-nyu' in suite.DEFAULT_TASKS and 'nyu' in suite.DATASETS
    assert suite.TASKS['depth-nyu']['export'] == 'cls'
    opts = suite.task_options('depth-nyu', {'nyu': '/d/nyu', 'coco': '/c'},
                              ['depth-nyu:train_cfg.max_iters=2',
                               'ade20k:train_cfg.max_iters=3',
                               'randomness.seed=0'])
    assert opts == ['train_dataloader.dataset.data_root=/d/nyu',
                    'val_dataloader.dataset.data_root=/d/nyu',
                    'test_dataloader.dataset.data_root=/d/nyu',
                    'train_cfg.max_iters=2', 'randomness.seed=0']
    for arch in ('small', 'large'):
        assert osp.isfile(suite.task_config('depth-nyu', arch))
    args = suite.parse_args(['x.pth', '1'])
    assert 'depth-nyu' in args.tasks


def test_table_columns_direction_and_decimals(tmp_path):
    """collect() reads each task's metrics.json; markdown() orders the
    columns as TASKS, marks the depth errors lower-is-better, prints them
    with 3 decimals (others 2) and '–' where a row lacks a column."""
    suite = _suite_module()
    logged = {'ade20k': {'mIoU': 45.678},
              'depth-nyu': {'rmse': 0.41234, 'abs_rel': 0.1189, 'd1': 0.8}}
    for task, metrics in logged.items():
        (tmp_path / task).mkdir()
        (tmp_path / task / 'metrics.json').write_text(
            json.dumps(dict(metrics=metrics)))
    row = suite.collect(str(tmp_path), 'ours')
    rmse, absrel = 'NYU RMSE (m, lower is better)', \
        'NYU AbsRel (lower is better)'
    assert row == {'name': 'ours', 'metrics': {
        'ADE20K mIoU': 45.678, rmse: 0.41234, absrel: 0.1189}}
    other = {'name': 'iBOT', 'metrics': {rmse: 0.5}}
    lines = suite.markdown([row, other]).splitlines()
    assert lines[0] == f'| method | ADE20K mIoU | {rmse} | {absrel} |'
    assert lines[2] == '| ours | 45.68 | 0.412 | 0.119 |'
    assert lines[3] == '| iBOT | – | 0.500 | – |'
    # a metrics.json without the key is an error naming it
    (tmp_path / 'depth-nyu' / 'metrics.json').write_text(
        json.dumps(dict(metrics={'rmse': 0.4})))
    with pytest.raises(KeyError, match='abs_rel'):
        suite.collect(str(tmp_path), 'ours')


def cls_homography_options():
    """Tiny sizes for the homography and k-NN tasks (pipeline indices of the
    k-NN config: 1 = resize, 2 = centre crop)."""
    hom = ['model.backbone.img_size=32',
           'model.data_preprocessor.input_size=32', 'model.offset_scale=8.0',
           'train_cfg.max_epochs=1', 'train_cfg.val_interval=100']
    for split in ('train', 'val', 'test'):
        hom += [f'{split}_dataloader.dataset.img_scale=(80,60)',
                f'{split}_dataloader.dataset.patch_size=32',
                f'{split}_dataloader.dataset.rho=8',
                f'{split}_dataloader.batch_size=2']
    knn = ['model.backbone.img_size=32', 'test_evaluator.k=5',
           'test_dataloader.dataset.pipeline.1.scale=32',
           'test_dataloader.dataset.pipeline.2.crop_size=32',
           'test_cfg.bank_dataloader.dataset.pipeline.1.scale=32',
           'test_cfg.bank_dataloader.dataset.pipeline.2.crop_size=32',
           'test_cfg.bank_dataloader.num_workers=0',
           'test_dataloader.num_workers=0',
           'test_dataloader.persistent_workers=False']
    opts = [f'homography:{o}' for o in hom] + _loaders('homography')
    opts += [f'knn-in1k:{o}' for o in knn]
    return opts + ['randomness.seed=0']


@pytest.mark.slow
def test_suite_homography_knn(ibot_ckpt, tmp_path):
    """S-COCO homography on COCO's image folders and ImageNet k-NN on the
    pretraining checkpoint
    itself (teacher)."""
    from mmequi.testing import make_classification_fixture
    root = tmp_path / 'data'
    coco = make_coco(str(root / 'coco'), num_train=4, num_val=2)
    imagenet = make_classification_fixture('imagenet',
                                           str(root / 'imagenet'))
    work = str(tmp_path / 'suite')
    out = run_tool([sys.executable, SUITE_PY, ibot_ckpt, '1', '--tasks',
                    'homography,knn-in1k', '--work-dir', work,
                    '--data-root', f'coco={coco}', f'imagenet={imagenet}',
                    '--cfg-options', *cls_homography_options()],
                   timeout=1200).stdout
    assert 'backbone_nocls' not in out  # only the exports these tasks need
    with open(osp.join(work, 'summary.json')) as f:
        row = json.load(f)['metrics']
    assert set(row) == {'S-COCO corner error (px)', 'ImageNet k-NN'}
    assert row['S-COCO corner error (px)'] > 0
    assert 0 <= row['ImageNet k-NN'] <= 100
    with open(osp.join(work, 'knn-in1k', 'suite.log')) as f:
        log = f.read()
    assert 'loaded the teacher backbone' in log
