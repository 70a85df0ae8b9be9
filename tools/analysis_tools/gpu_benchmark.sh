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
# times, FLOPs, MFU, memory), both tables in $OUT/table.md, and printed. DATA_WORKERS=N also fills the data column
# (tools/analysis_tools/benchmark_data.py, when present).
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
if [ -n "${DATA_WORKERS:-}" ]; then EXTRA+=(--data-workers "$DATA_WORKERS"); fi
PAIRS=${PAIRS:-5}
WARMUP=${WARMUP:-3}
# one size per process: the ViT-S entries' memory is gone before ViT-L's
python $T --device cuda --models S --batch-size "${BATCH_S:-128}" \
  --pairs "$PAIRS" --warmup "$WARMUP" --work-dir "$OUT/vit-s" ${EXTRA[@]+"${EXTRA[@]}"}
python $T --device cuda --models L --batch-size "${BATCH_L:-32}" \
  --pairs "$PAIRS" --warmup "$WARMUP" --work-dir "$OUT/vit-l" ${EXTRA[@]+"${EXTRA[@]}"}
cat "$OUT/vit-s/table.md" "$OUT/vit-l/table.md" > "$OUT/table.md"
echo "written: $OUT/vit-s, $OUT/vit-l, $OUT/table.md"
