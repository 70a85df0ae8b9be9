"""KNNTestLoop: the distributed feature gather (order, DefaultSampler
padding removed), and the k-NN config end to end through
tools/dist_test.sh (2 CPU ranks -> tools/test.py) on a generated
ImageNet-layout set with a tiny ViT in our pretraining checkpoint layout:
the metrics are written, the teacher was evaluated, and the numbers equal
knn_classify on features computed here directly."""
import glob
import json
import os
import os.path as osp

import pytest
import torch
import torch.multiprocessing as mp

from mmequi.engine.runner.feature_gather import (gather_by_index,
                                                 merge_by_index)
from tests.conftest import REPO, run_tool

KNN_CFG = osp.join(REPO, 'configs', 'benchmarks', 'classification',
                   'knn_vit-small-p16_8xb128_in1k.py')
TINY = dict(embed_dims=32, num_layers=2, num_heads=2,
            feedforward_channels=64)


def _shards(n, world, shuffle, monkeypatch):
    """The indices mmengine's DefaultSampler gives each rank."""
    import mmengine.dataset.sampler as sampler_mod
    shards = []
    for rank in range(world):
        monkeypatch.setattr(sampler_mod, 'get_dist_info',
                            lambda r=rank: (r, world))
        sampler = sampler_mod.DefaultSampler(list(range(n)), shuffle=shuffle,
                                             seed=0)
        shards.append(torch.tensor(list(iter(sampler)), dtype=torch.long))
    return shards


@pytest.mark.parametrize('shuffle', [False, True])
def test_merge_undoes_default_sampler_sharding_and_padding(monkeypatch,
                                                           shuffle):
    padded = False
    for n in (1, 5, 7, 10):
        for world in (1, 2, 3, 4):
            shards = _shards(n, world, shuffle, monkeypatch)
            padded |= sum(len(s) for s in shards) > n
            # rows carry their index so the order can be checked
            parts = [[torch.stack([s.float(), -s.float()], 1), s * 10]
                     for s in shards]
            feats, labels = merge_by_index(parts, shards, n)
            expect = torch.arange(n)
            assert torch.equal(feats[:, 0], expect.float()), (n, world)
            assert torch.equal(feats[:, 1], -expect.float())
            assert torch.equal(labels, expect * 10)
    assert padded  # the duplicate-dropping path was exercised


def test_merge_keeps_first_occurrence_and_reports_gaps():
    a = [torch.tensor([[1.], [2.]])]
    b = [torch.tensor([[3.], [4.]])]
    out, = merge_by_index([a, b], [torch.tensor([0, 1]),
                                   torch.tensor([1, 2])], 3)
    assert out[:, 0].tolist() == [1., 2., 4.]  # index 1 from rank 0
    with pytest.raises(ValueError, match='1 of 4 dataset samples'):
        merge_by_index([a, b], [torch.tensor([0, 1]),
                                torch.tensor([1, 2])], 4)
    with pytest.raises(ValueError, match='outside the dataset'):
        merge_by_index([a], [torch.tensor([0, 5])], 3)


def _gather_worker(rank, world, port, out_dir):
    import torch.distributed as dist
    dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}',
                            rank=rank, world_size=world)
    # uneven shards with a padding duplicate (index 0 again on rank 1)
    idx = [torch.tensor([4, 0, 2]), torch.tensor([1, 3, 5, 6, 0])][rank]
    feats = torch.stack([idx.float(), idx.float() ** 2], 1)
    got = gather_by_index([feats, idx + 100], idx, 7)
    torch.save(got, osp.join(out_dir, f'rank{rank}.pth'))
    dist.destroy_process_group()


def test_gather_by_index_two_processes(tmp_path):
    # fork: the children need not import mmequi again
    mp.start_processes(_gather_worker, args=(2, 29631, str(tmp_path)),
                       nprocs=2, start_method='fork')
    expect = torch.arange(7)
    for rank in (0, 1):
        feats, labels = torch.load(tmp_path / f'rank{rank}.pth')
        assert torch.equal(feats[:, 0], expect.float())
        assert torch.equal(feats[:, 1], expect.float() ** 2)
        assert torch.equal(labels, expect + 100)


# ------------------------------------------------------------- end to end
def _imagenet_layout(root):
    """3 classes x 7 train / 5 val images (odd counts: the 2-rank sampler
    pads) + meta/{train,val}.txt, as the ImageNet dataset reads them."""
    from mmequi.datasets import make_toy_shapes
    make_toy_shapes(root, num_classes=3, train_per_class=7, val_per_class=5,
                    size=32, seed=2)
    classes = sorted(os.listdir(osp.join(root, 'train')))
    os.makedirs(osp.join(root, 'meta'))
    for split in ('train', 'val'):
        with open(osp.join(root, 'meta', f'{split}.txt'), 'w') as f:
            for label, name in enumerate(classes):
                for path in sorted(glob.glob(
                        osp.join(root, split, name, '*.png'))):
                    f.write(f'{name}/{osp.basename(path)} {label}\n')


def _tiny_vit(seed):
    from mmpretrain.models import VisionTransformer
    torch.manual_seed(seed)
    return VisionTransformer(arch=TINY, img_size=224, patch_size=16,
                             out_type='cls_token')


@torch.no_grad()
def _direct_features(cfg, vit, split_loader):
    """Features of a split computed without the loop: mmpretrain's
    ImageNet dataset + the config's pipeline, ClsDataPreprocessor."""
    from mmengine.dataset import default_collate
    from mmpretrain.registry import DATASETS, MODELS
    ds = DATASETS.build(split_loader.dataset)
    pre = MODELS.build(dict(type='ClsDataPreprocessor',
                            **cfg.model.data_preprocessor))
    vit.eval()
    feats, labels = [], []
    for i in range(len(ds)):
        data = pre(default_collate([ds[i]]), False)
        feats.append(vit(data['inputs'])[-1])
        labels.append(int(data['data_samples'][0].gt_label))
    return torch.cat(feats), torch.tensor(labels)


@pytest.mark.slow
def test_knn_config_two_ranks_matches_direct_computation(tmp_path):
    from mmengine.config import Config

    from mmequi.evaluation.metrics.knn import class_ranks, knn_classify
    root = str(tmp_path / 'imagenet')
    _imagenet_layout(root)
    # a pretraining-layout checkpoint: student and teacher differ, the
    # teacher has iBOT's mask token (dropped by the loader)
    student, teacher = _tiny_vit(0), _tiny_vit(1)
    state = {f'backbone.{k}': v for k, v in student.state_dict().items()}
    state.update({f'teacher.backbone.{k}': v
                  for k, v in teacher.state_dict().items()})
    state['teacher.backbone.mask_token'] = torch.zeros(1, 1, 32)
    state['teacher.neck.last_layer.weight'] = torch.zeros(4, 4)
    ckpt = str(tmp_path / 'ibot_tiny.pth')
    torch.save({'state_dict': state, 'meta': {}}, ckpt)
    cfg_path = tmp_path / 'knn_tiny.py'
    cfg_path.write_text(
        f'_base_ = [{KNN_CFG!r}]\n'
        f'model = dict(backbone=dict(arch=dict(_delete_=True, **{TINY!r})))'
        '\n')
    dump = str(tmp_path / 'feats.pth')
    metrics_out = str(tmp_path / 'knn.json')
    proc = run_tool([
        'bash', 'tools/dist_test.sh', str(cfg_path), ckpt, '2',
        '--work-dir', str(tmp_path / 'wd'), '--metrics-out', metrics_out,
        '--cfg-options',
        f'test_dataloader.dataset.data_root={root}',
        f'test_cfg.bank_dataloader.dataset.data_root={root}',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        'test_dataloader.batch_size=4', 'test_cfg.bank_dataloader.batch_size=4',
        'test_cfg.bank_dataloader.num_workers=0',
        f'test_cfg.dump_features={dump}'], env={'PORT': '29632'})
    out = proc.stdout
    assert 'world size: 2' in out
    assert 'k=20, T=0.07' in out and 'loaded the teacher backbone' in out
    assert 'missing keys in source state_dict' not in out  # no mmengine load
    metrics = json.load(open(metrics_out))['metrics']
    assert set(metrics) == {'knn/top1', 'knn/top5'}

    feats = torch.load(dump)
    cfg = Config.fromfile(str(cfg_path))
    cfg.test_dataloader.dataset.data_root = root
    cfg.test_cfg.bank_dataloader.dataset.data_root = root
    bank, bank_y = _direct_features(cfg, teacher, cfg.test_cfg.bank_dataloader)
    test, test_y = _direct_features(cfg, teacher, cfg.test_dataloader)
    assert feats['bank_feats'].shape == (21, 32)  # padding removed
    assert feats['test_feats'].shape == (15, 32)
    assert torch.equal(feats['bank_labels'], bank_y)  # dataset order
    assert torch.equal(feats['test_labels'], test_y)
    torch.testing.assert_close(feats['bank_feats'], bank, rtol=1e-4,
                               atol=1e-5)
    torch.testing.assert_close(feats['test_feats'], test, rtol=1e-4,
                               atol=1e-5)
    # the student's features are different: the teacher was evaluated
    s_test, _ = _direct_features(cfg, student, cfg.test_dataloader)
    assert not torch.allclose(s_test, test, atol=1e-3)

    votes = knn_classify(bank, bank_y, test, k=20, temperature=0.07,
                         num_classes=1000)
    ranks = class_ranks(votes, test_y)
    assert metrics['knn/top1'] == pytest.approx(
        float((ranks < 1).float().mean() * 100))
    assert metrics['knn/top5'] == pytest.approx(
        float((ranks < 5).float().mean() * 100))


def _loop(checkpoint, load_backbone):
    """A KNNTestLoop with only what its checkpoint loading reads."""
    from mmequi.engine.runner.knn_loop import KNNTestLoop
    loop = object.__new__(KNNTestLoop)
    loop.checkpoint, loop.load_backbone = checkpoint, load_backbone
    return loop


def test_load_backbone_strict_teacher_student_and_runner_check(tmp_path):
    """The teacher's tensors are loaded (pos_embed resized to the model's
    grid by mmpretrain's ViT); a checkpoint without a teacher, or with a
    backbone key missing under load_backbone=None, is an error naming the
    file and the fix."""
    import torch.nn as nn
    from mmpretrain.models import VisionTransformer

    from mmequi.utils.checkpoint_io import CheckpointMismatchError

    def vit(seed, size):
        torch.manual_seed(seed)
        return VisionTransformer(arch=TINY, img_size=size, patch_size=16)

    student, teacher = vit(0, 32), vit(1, 32)
    state = {f'backbone.{k}': v for k, v in student.state_dict().items()}
    state.update({f'teacher.backbone.{k}': v
                  for k, v in teacher.state_dict().items()})
    state['teacher.backbone.mask_token'] = torch.zeros(1, 1, 32)
    ckpt = str(tmp_path / 'ibot.pth')
    torch.save({'state_dict': state}, ckpt)
    model = nn.Module()
    model.backbone = vit(2, 64)
    _loop(ckpt, 'teacher')._load_backbone(model)
    for k, v in teacher.state_dict().items():
        if k != 'pos_embed':
            assert torch.equal(model.backbone.state_dict()[k], v), k
    assert model.backbone.pos_embed.shape == (1, 17, 32)
    # load_backbone=None: the runner's non-strict loading is only checked
    _loop(ckpt, None)._load_backbone(model)
    del state['backbone.ln1.weight']
    for k in [k for k in state if k.startswith('teacher.')]:
        del state[k]
    torch.save({'state_dict': state}, ckpt)
    with pytest.raises(CheckpointMismatchError,
                       match=r"ibot\.pth \(prefix 'backbone\.'\) does not "
                       r"fit model\.backbone.*1 missing keys \['ln1\.weight'"
                       r"\].*partly random"):
        _loop(ckpt, None)._load_backbone(model)
    with pytest.raises(CheckpointMismatchError,
                       match=r'ibot\.pth: has backbone\.\* but no teacher.*'
                       r'test_cfg\.load_backbone=student\|teacher'):
        _loop(ckpt, 'teacher')._load_backbone(model)
