"""tools/analysis_tools/official_ibot_step.py without the official code: a
clear error for a missing checkout, and a tiny fake bytedance/ibot tree
(same file layout and interfaces, written here) for the harness's import
isolation, stand-ins and training step."""
import importlib.util
import json
import os
import os.path as osp
import sys
import textwrap
import types

import pytest
import torch

from ..conftest import REPO, run_tool

TOOL = 'tools/analysis_tools/official_ibot_step.py'

#: the fake tree: the official module names and call signatures, toy maths
FAKE_FILES = {
    'main_ibot.py': '''
        import torch
        import torch.distributed as dist
        import torch.nn as nn
        import torch.nn.functional as F
        from tensorboardX import SummaryWriter  # a stand-in when missing
        import importlib.util
        from sklearn import metrics  # evaluation-only imports
        assert importlib.util.find_spec('sklearn') is not None
        import utils
        import models
        from models.head import iBOTHead

        class iBOTLoss(nn.Module):
            def __init__(self, out_dim, patch_out_dim, ngcrops, nlcrops,
                         *schedule, **kwargs):
                super().__init__()
                self.ngcrops = ngcrops
                self.register_buffer('center', torch.zeros(1, out_dim))

            def forward(self, student_output, teacher_output, local_cls,
                        masks, epoch):
                s_cls, s_patch = student_output
                t_cls, t_patch = teacher_output
                if local_cls is not None:
                    s_cls = torch.cat([s_cls, local_cls])
                t = F.softmax(t_cls - self.center, -1).mean(0)
                loss1 = -(t * F.log_softmax(s_cls, -1)).sum(-1).mean()
                m = torch.cat(masks).flatten(1).float()
                t2 = F.softmax(t_patch, -1)
                loss2 = (-(t2 * F.log_softmax(s_patch, -1)).sum(-1)
                         * m).sum() / m.sum().clamp(min=1)
                c = t_cls.sum(0, keepdim=True)
                dist.all_reduce(c)
                self.center = c / (len(t_cls) * dist.get_world_size())
                return dict(cls=loss1, patch=loss2, loss=loss1 + loss2)
    ''',
    'utils.py': '''
        import torch
        import torch.nn as nn

        class MultiCropWrapper(nn.Module):
            def __init__(self, backbone, head):
                super().__init__()
                self.backbone, self.head = backbone, head

            def forward(self, x, mask=None):
                outs, i = [], 0
                while i < len(x):
                    j = i
                    while j < len(x) and x[j].shape == x[i].shape:
                        j += 1
                    kw = {} if mask is None else dict(
                        mask=torch.cat(mask[i:j]))
                    outs.append(self.backbone(torch.cat(x[i:j]), **kw))
                    i = j
                return self.head(torch.cat(outs))

        def get_params_groups(model):
            return [{'params': [p for p in model.parameters()
                                if p.requires_grad]}]

        def clip_gradients(model, clip):
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.mul_(min(1.0, clip / (p.grad.norm() + 1e-6)))

        def cancel_gradients_last_layer(epoch, model, freeze_last_layer):
            if epoch < freeze_last_layer:
                for n, p in model.named_parameters():
                    if 'last_layer' in n:
                        p.grad = None
    ''',
    'models/__init__.py': '''
        import torch
        import torch.nn as nn
        from timm.models.registry import register_model  # noqa: F401

        class VisionTransformer(nn.Module):
            def __init__(self, patch_size=16, embed_dim=8, depth=1,
                         num_heads=1, mlp_ratio=4.0, qkv_bias=False,
                         drop_path_rate=0.0, return_all_tokens=False,
                         masked_im_modeling=False):
                super().__init__()
                self.embed = nn.Conv2d(3, embed_dim, patch_size, patch_size)
                self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
                self.masked_embed = nn.Parameter(torch.zeros(embed_dim))
                self.masked_im_modeling = masked_im_modeling

            def forward(self, x, mask=None):
                x = self.embed(x).permute(0, 2, 3, 1)
                if self.masked_im_modeling:
                    x = torch.where(mask[..., None], self.masked_embed, x)
                x = x.flatten(1, 2)
                return torch.cat([self.cls_token.expand(len(x), -1, -1),
                                  x], 1)

    ''',
    'models/head.py': '''
        import torch.nn as nn
        import utils

        class iBOTHead(nn.Module):
            def __init__(self, in_dim, out_dim, patch_out_dim=8192,
                         norm=None, act='gelu', hidden_dim=2048,
                         bottleneck_dim=256, norm_last_layer=True,
                         shared_head=False, **kwargs):
                super().__init__()
                self.last_layer = nn.Linear(in_dim, out_dim)

            def forward(self, x):
                y = self.last_layer(x)
                return y[:, 0], y[:, 1:]
    ''',
}


def make_fake_ibot(root: str) -> str:
    """Write the fake official tree under ``root``; returns ``root``."""
    for rel, text in FAKE_FILES.items():
        path = osp.join(root, rel)
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text))
    return root


def load_tool(rel: str = TOOL):
    """A fresh copy of the tool module at repo-relative ``rel``."""
    spec = importlib.util.spec_from_file_location(
        '_tool_' + osp.splitext(osp.basename(rel))[0], osp.join(REPO, rel))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_root_names_path(tmp_path):
    missing = str(tmp_path / 'no_ibot_here')
    proc = run_tool([sys.executable, TOOL, '--ibot-root', missing],
                    check=False)
    assert proc.returncode != 0
    assert 'FileNotFoundError' in proc.stdout and missing in proc.stdout
    # a directory without the official files: each missing file is named
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match=r'main_ibot\.py.*utils\.py'):
        load_tool().check_root(str(tmp_path / 'empty'))


def test_import_isolated_with_stand_ins(tmp_path, monkeypatch):
    tool = load_tool()
    root = make_fake_ibot(str(tmp_path / 'ibot'))
    ours = types.ModuleType('utils')  # a module of ours with the same name
    monkeypatch.setitem(sys.modules, 'utils', ours)
    for name in ('timm', 'sklearn'):  # "not installed"
        monkeypatch.setitem(sys.modules, name, None)
    main_ibot, stand_ins = tool.import_official(root)
    assert {'timm', 'sklearn'} <= set(stand_ins)
    assert ('tensorboardX' in stand_ins) == (
        importlib.util.find_spec('tensorboardX') is None)
    # the official modules came from the tree; ours are back afterwards
    assert osp.dirname(main_ibot.utils.__file__) == root
    assert sys.modules['utils'] is ours and sys.modules['timm'] is None
    assert sys.modules['sklearn'] is None
    assert 'main_ibot' not in sys.modules and 'models' not in sys.modules
    assert root not in sys.path
    # the identity all_reduce of a single process
    assert main_ibot.dist.get_world_size() == 1


def test_step_trains_and_updates_teacher(tmp_path):
    tool = load_tool()
    main_ibot, _ = tool.import_official(make_fake_ibot(str(tmp_path / 'i')))
    views = [(32, 32)] * 2 + [(16, 16)] * 3
    runner = tool.OfficialStep(
        main_ibot, 2, views, 2, torch.device('cpu'),
        vit=dict(embed_dim=8, depth=1, num_heads=1),
        head=dict(out_dim=16, patch_out_dim=16, shared_head=True,
                  norm_last_layer=False), mask_ratio=0.5, momentum=0.9,
        lr=0.1)
    assert [tuple(x.shape) for x in runner.images] == \
        [(2, 3, h, w) for h, w in views]
    assert [tuple(m.shape) for m in runner.masks] == [(2, 2, 2)] * 2
    student, teacher = runner.student, runner.teacher
    for n, p in student.named_parameters():  # the teacher starts equal
        assert torch.equal(p, teacher.state_dict()[n]), n
    with torch.no_grad():  # then differs, so that the EMA is visible
        for p in teacher.parameters():
            p.add_(torch.randn_like(p))
    # the loss the step reports, computed here from the same model
    with torch.no_grad():
        t_out = teacher(runner.images[:2])
        s_out = student(runner.images[:2], mask=runner.masks)
        student.backbone.masked_im_modeling = False
        s_loc = student(runner.images[2:])[0]
        student.backbone.masked_im_modeling = True
        expected = (main_ibot.iBOTLoss(16, 16, 2, 3)
                    (s_out, t_out, s_loc, runner.masks, 1)['loss'].item())
    s0 = {n: p.detach().clone() for n, p in student.named_parameters()}
    t0 = {n: p.detach().clone() for n, p in teacher.named_parameters()}
    assert runner.step() == pytest.approx(expected, rel=1e-6)
    for n, p in student.named_parameters():
        assert not torch.equal(p, s0[n]), n  # AdamW stepped every param
        # teacher EMA: 0.9 * teacher + 0.1 * updated student
        torch.testing.assert_close(teacher.state_dict()[n],
                                   0.9 * t0[n] + 0.1 * p.detach())


def test_cli_json(tmp_path):
    root = make_fake_ibot(str(tmp_path / 'ibot'))
    out = str(tmp_path / 'out.json')
    proc = run_tool([sys.executable, TOOL, '--ibot-root', root,
                     '--arch', 'vit_tiny', '--batch-size', '1',
                     '--global-size', '32', '--local-size', '16',
                     '--num-local', '2', '--out-dim', '16', '--iters', '3',
                     '--warmup', '1', '--json', out])
    with open(out) as f:
        r = json.load(f)
    assert r['views'] == [[32, 32]] * 2 + [[16, 16]] * 2
    assert len(r['step_s']) == 3
    assert r['step_s_median'] == sorted(r['step_s'])[1]
    assert r['images_per_s'] == pytest.approx(1 / r['step_s_median'])
    assert 'throughput' in proc.stdout
