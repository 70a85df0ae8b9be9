#!/usr/bin/env bash
# Multi-node training under SLURM: srun starts one task per GPU.
#   [GPUS=8 GPUS_PER_NODE=4 CPUS_PER_TASK=12 ACCOUNT=proj SRUN_ARGS=...] \
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
# Run it from a login node (srun allocates) or inside an sbatch allocation.
# JUWELS Booster: GPUS_PER_NODE=4 and MMEQUI_MASTER_ADDR_SUFFIX=i (the
# InfiniBand host names end in "i").
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 PARTITION JOB_NAME CONFIG [tools/train.py arguments]" >&2; exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-}
PYTHON=${PYTHON:-python}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ACCOUNT_ARG=()
[ -n "${ACCOUNT:-}" ] && ACCOUNT_ARG=(--account="$ACCOUNT")

PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" --job-name="$JOB_NAME" "${ACCOUNT_ARG[@]}" \
  --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" \
  --kill-on-bad-exit=1 $SRUN_ARGS \
  "$PYTHON" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm "${@:4}"
