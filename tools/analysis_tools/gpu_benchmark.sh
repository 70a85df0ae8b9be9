#!/usr/bin/env bash
# GPU benchmark of the pretraining configs on a machine that has torch+CUDA
# but no package index (e.g. a lent H200). Prepare the wheels first, on a
# machine with the index: `make install && bash ../shared/device/fetch_wheels.sh`
# (fills .whl/), copy .whl/ along with the project, then run
#   OUT=results bash tools/analysis_tools/gpu_benchmark.sh
# Results: one JSON per run in $OUT and the printed tables.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-work_dirs/gpu_benchmark}
mkdir -p "$OUT"
# shellcheck source=../_offline_env.sh
source tools/_offline_env.sh
python -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
B=tools/analysis_tools/benchmark_pretrain.py
S=configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_in1k.py
L=configs/ibot/ibot_vit-large-p16_32xb32-amp-coslr-250e_in1k.py
python $B $S --device cuda --iters 20 --warmup 5 --data --json "$OUT/ibot_vit-s_bf16_b128.json"
python $B $S --device cuda --iters 10 --warmup 3 --fp32 --json "$OUT/ibot_vit-s_fp32_b128.json"
python $B $L --device cuda --iters 10 --warmup 3 --json "$OUT/ibot_vit-l_bf16_b32.json"
