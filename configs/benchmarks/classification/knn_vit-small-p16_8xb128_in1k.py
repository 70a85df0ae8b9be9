# Weighted k-NN evaluation of a pretrained ViT-S/16 on ImageNet-1k: the
# DINO / iBOT protocol (Caron et al. 2021 Sec. 4 and eval_knn.py; Zhou et
# al. 2022): frozen teacher backbone, [CLS] token of the last block after
# the final norm (eval_knn.py: "n_last_blocks=1 all the time for k-NN",
# avgpool_patchtokens=0), L2-normalised, cosine similarity, the k = 20
# nearest train images vote with weight exp(sim / 0.07); top-1 / top-5 in %.
# iBOT reports 75.2 (ViT-S/16, 800 epochs).
#
#   CFG=configs/benchmarks/classification/knn_vit-small-p16_8xb128_in1k.py
#   python tools/test.py $CFG CKPT --metrics-out knn.json      # 1 GPU
#   tools/dist_test.sh $CFG CKPT 8 --metrics-out knn.json      # 8 GPUs
#
# CKPT: a pretraining checkpoint of ours (teacher.backbone.* is used), an
# official iBOT/DINO checkpoint, or a backbone export of
# tools/model_converters/extract_backbone.py; pick the backbone with
# --cfg-options test_cfg.load_backbone=teacher|student. Metrics: knn/top1,
# knn/top5. The feature bank is the 1.28 M train images (1.28 M x 384
# float32 = 2 GB per GPU). k-NN on the linear-probe feature of the
# classification configs instead (4 x [CLS], 1536-d; not the protocol):
#   --cfg-options model.backbone.type=ViTLinearFeatures \
#       "model.backbone.out_indices=[8,9,10,11]"
_base_ = ['./_base_/datasets/imagenet.py']

default_scope = 'mmpretrain'
custom_imports = dict(imports=['mmequi'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    data_preprocessor={{_base_.data_preprocessor}},
    backbone=dict(
        type='VisionTransformer',
        arch='deit-small',  # ViT-S/16: 384 dims, 12 layers, 6 heads
        img_size=224,
        patch_size=16,
        out_type='cls_token',  # (B, 384): [CLS] after the final norm
        final_norm=True),
    neck=None,
    head=None)

# The train split through the evaluation pipeline (resize 256 bicubic +
# centre crop 224), as eval_knn.py; not shuffled (any order works: the
# features are gathered by sample index).
bank_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(
        type={{_base_.dataset_type}},
        data_root={{_base_.data_root}},
        split='train',
        pipeline={{_base_.val_dataloader.dataset.pipeline}}))

test_cfg = dict(
    type='KNNTestLoop',
    bank_dataloader=bank_dataloader,
    load_backbone='teacher',  # the EMA teacher, as DINO/iBOT evaluate
    feature='auto',  # the backbone gives (B, C) already
    amp_dtype=None,  # float32 as eval_knn.py; 'bfloat16' is faster
    dump_features=None,  # or 'work_dirs/knn_features.pth'
    log_interval=50)
# k-NN metric keys: knn/top1, knn/top5
test_evaluator = dict(type='KNNAccuracy', k=20, temperature=0.07,
                      topk=(1, 5), chunk_size=256)

# evaluation only: no training / validation loop
train_dataloader = None
val_dataloader = None
val_evaluator = None

# runtime (as configs/_base_/default_runtime.py, test-only parts)
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))  # mmequi uses gloo without CUDA
randomness = dict(seed=0, deterministic=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None  # tools/test.py sets it to CKPT
resume = False
