#!/usr/bin/env bash
# The GPU speed table (issue 13) on a machine that has torch+CUDA but no
# package index (e.g. a lent H200), as one prepared script:
#   ViT-S/16 batch 128 and ViT-L/16 batch 32 (override: BATCH_S, BATCH_L),
#   bf16 autocast, the full recipe (2x224 + 10x96 crops, masks), iBOT and
#   iBOT + ours timed interleaved (PAIRS rounds after WARMUP), and the
#   official bytedance/ibot step in the same rounds when IBOT_ROOT is given.
# Prepare on a machine with the index:
#   make install && bash ../shared/device/fetch_wheels.sh   # fills .whl/
#   # optional, the official iBOT code (not committed; ~1 MB without .git):
#   git clone <bytedance/ibot> work_dirs/ibot && rm -rf work_dirs/ibot/.git \
#     work_dirs/ibot/.github
# copy .whl/ (and work_dirs/ibot; the device tool: carry [".whl",
# "work_dirs/ibot"]) along with the project, then run
#   IBOT_ROOT=work_dirs/ibot OUT=work_dirs/gpu_benchmark \
#     bash tools/analysis_tools/gpu_benchmark.sh
# Results: $OUT/vit-s/ and $OUT/vit-l/ table.md + table.json (per-step
# times, FLOPs, MFU, memory), both tables in $OUT/table.md, and printed.
# The data column is a DataLoader with DATA_WORKERS (default 16) workers;
# $OUT/data_*.json: tools/analysis_tools/benchmark_data.py at 1..16 workers
# for the CPU-augmentation and the gpu-aug recipes (whose colour ops run in
# the step, on the device: the gpu-aug pair is timed as a third table).
# The Python side is tested on CPU at a tiny size:
#   tests/tools/test_benchmark_table.py
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-work_dirs/gpu_benchmark}
mkdir -p "$OUT"
# shellcheck source=../_offline_env.sh
source tools/_offline_env.sh
python -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
T=tools/analysis_tools/benchmark_table.py
EXTRA=()
if [ -n "${IBOT_ROOT:-}" ]; then EXTRA+=(--official-ibot "$IBOT_ROOT"); fi
EXTRA+=(--data-workers "${DATA_WORKERS:-16}")
PAIRS=${PAIRS:-5}
WARMUP=${WARMUP:-3}
# one size per process: the ViT-S entries' memory is gone before ViT-L's
python $T --device cuda --models S --batch-size "${BATCH_S:-128}" \
  --pairs "$PAIRS" --warmup "$WARMUP" --work-dir "$OUT/vit-s" ${EXTRA[@]+"${EXTRA[@]}"}
python $T --device cuda --models L --batch-size "${BATCH_L:-32}" \
  --pairs "$PAIRS" --warmup "$WARMUP" --work-dir "$OUT/vit-l" ${EXTRA[@]+"${EXTRA[@]}"}
G=configs/ibot/ibot_vit-small-p16_8xb128-amp-coslr-800e_gpu-aug_in1k.py
GO=configs/equi_recon/ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_gpu-aug_in1k_all-rot.py
python $T --device cuda --pair 'ViT-S/16 gpu-aug' $G $GO \
  --batch-size "${BATCH_S:-128}" --pairs "$PAIRS" --warmup "$WARMUP" \
  --work-dir "$OUT/vit-s_gpu-aug" ${EXTRA[@]+"${EXTRA[@]}"}
D=tools/analysis_tools/benchmark_data.py
python $D configs/equi_recon/ibot-equi_vit-small-p16_8xb128-amp-coslr-800e_in1k_all-rot.py \
  --workers 1 2 4 8 16 --images 2048 --profile --json "$OUT/data_cpu-aug.json"
python $D $GO --workers 1 2 4 8 16 --images 2048 --profile \
  --json "$OUT/data_gpu-aug.json"
cat "$OUT/vit-s/table.md" "$OUT/vit-l/table.md" "$OUT/vit-s_gpu-aug/table.md" \
  > "$OUT/table.md"
echo "written: $OUT/vit-s, $OUT/vit-l, $OUT/table.md"
