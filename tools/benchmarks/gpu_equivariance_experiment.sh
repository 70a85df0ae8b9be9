#!/usr/bin/env bash
# The one-GPU controlled experiment of the method: the demo's comparison
# (iBOT control = the method's config with d_equi = 0, same views and g_θ;
# iBOT + ours; random init = the floor) at a scale where an effect can
# appear, on one GPU in about 10 minutes (planned for one H200 + 16 CPU
# cores; not run by us yet):
#   * a 128 px toy 3DIEBench (10 classes x 120 objects x 10 renders; 9,600
#     training / 2,400 held-out renders), generated into $DATA if absent;
#   * a ViT of 192 dims and 6 layers, bf16, batch 256, ~2,500 iterations per
#     arm, the GPU data path (renders in memory, multi-crop on the device):
#     configs/equi_recon/*_vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py;
#   * one benchmark process per seed, $PARALLEL of them at once on the GPU,
#     each running every arm and every probe (paper and leak-free protocol);
#   * then one table over the seeds: mean ± half range, the difference to
#     the control with `*` where it exceeds the seed range of both arms
#     (equivariance_benchmark.py --merge): $OUT/summary.{md,json,png}.
#
#   tools/benchmarks/gpu_equivariance_experiment.sh
#   ARMS=all tools/benchmarks/gpu_equivariance_experiment.sh   # + VICReg ± ours
# On a machine without a package index (a lent GPU): bring .whl/ (see
# tools/_offline_env.sh) and run the same command.
#
# Environment (defaults in brackets):
#   OUT       work dir [work_dirs/gpu_experiment]
#   DATA      the 128 px toy set [data/toy_3diebench_128]
#   SEEDS     ["0 1 2"]            PARALLEL  seeds at once [3]
#   ARMS      ibot | all [ibot]    EPOCHS    pretraining epochs [config: 68]
#   CLASSES / OBJECTS / VIEWS / SIZE / WORKERS: the toy set [10/120/10/128/16]
#   PROBE_BATCH  probe batch size [256] (the CPU demo: 128)
#   PYTHON    [python]
#   EXTRA     more arguments for equivariance_benchmark.py (e.g. --fp32)
#   PRETRAIN_OPTIONS / PROBE_OPTIONS  more KEY=VALUE config overrides
set -euo pipefail
cd "$(dirname "$0")/../.."

PY=${PYTHON:-python}
OUT=${OUT:-work_dirs/gpu_experiment}
DATA=${DATA:-data/toy_3diebench_128}
SEEDS=${SEEDS:-"0 1 2"}
PARALLEL=${PARALLEL:-3}
ARMS=${ARMS:-ibot}
CLASSES=${CLASSES:-10}
OBJECTS=${OBJECTS:-120}
VIEWS=${VIEWS:-10}
SIZE=${SIZE:-128}
WORKERS=${WORKERS:-16}
PROBE_BATCH=${PROBE_BATCH:-256}
EXTRA=${EXTRA:-}
PRETRAIN_OPTIONS=${PRETRAIN_OPTIONS:-}
PROBE_OPTIONS=${PROBE_OPTIONS:-}

CFG=configs/equi_recon
TAIL=vit-mini-p16_1xb256-amp-68e_toy-3diebench-128px_all-rot.py
methods=(--method "iBOT (control)=$CFG/ibot-equi-ctrl_$TAIL"
         --method "iBOT + ours=$CFG/ibot-equi_$TAIL"
         --method "random init=$CFG/ibot-equi_$TAIL"
         --checkpoint "random init=random")
case "$ARMS" in
  ibot) ;;
  all) methods+=(--method "VICReg (control)=$CFG/vicreg-equi-ctrl_$TAIL"
                 --method "VICReg + ours=$CFG/vicreg-equi_$TAIL") ;;
  *) echo "ARMS=$ARMS: expected ibot or all" >&2; exit 2 ;;
esac

start=$(date +%s)
mkdir -p "$OUT"
# shellcheck source=../_offline_env.sh
source tools/_offline_env.sh  # the wheels in .whl/ on a machine without an index
echo "[gpu-experiment] $(date -u +%FT%TZ) $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
"$PY" - <<'EOF' || true
import torch
print('[gpu-experiment] torch', torch.__version__, 'cuda',
      torch.cuda.is_available() and torch.cuda.get_device_name(0))
EOF
if [ ! -f "$DATA/val_labels.npy" ]; then
  echo "[gpu-experiment] generating the toy set into $DATA"
  "$PY" tools/dataset_converters/make_toy_3diebench.py --out "$DATA" \
    --classes "$CLASSES" --objects-per-class "$OBJECTS" --views "$VIEWS" \
    --size "$SIZE" --workers "$WORKERS"
fi

dirs=()
pids=()
for seed in $SEEDS; do
  dir="$OUT/seed$seed"
  dirs+=("$dir")
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  "$PY" tools/benchmarks/equivariance_benchmark.py --work-dir "$dir" \
    --seeds "$seed" --data-root "$DATA" "${methods[@]}" \
    ${EPOCHS:+--pretrain-epochs "$EPOCHS"} $EXTRA \
    ${PRETRAIN_OPTIONS:+--pretrain-options $PRETRAIN_OPTIONS} \
    --probe-options train_dataloader.batch_size="$PROBE_BATCH" \
    $PROBE_OPTIONS > "$dir/benchmark.log" 2>&1 &
  pids+=($!)
  echo "[gpu-experiment] seed $seed: pid ${pids[-1]}, log $dir/benchmark.log"
  while [ "$(jobs -rp | wc -l)" -ge "$PARALLEL" ]; do wait -n || true; done
done
failed=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "[gpu-experiment] ${dirs[$i]} FAILED; last lines of its log:" >&2
    tail -n 30 "${dirs[$i]}/benchmark.log" >&2
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1

"$PY" tools/benchmarks/equivariance_benchmark.py --work-dir "$OUT" \
  --merge "${dirs[@]}"
echo "[gpu-experiment] done in $(( $(date +%s) - start )) s: $OUT/summary.md"
