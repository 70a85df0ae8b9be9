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
exec "$(dirname "$0")/_srun.sh" "$1" "$2" train.py "$3" "${@:4}"
