#!/usr/bin/env bash
# Shared by slurm_train.sh / slurm_test.sh: one SLURM task per GPU.
#   tools/_srun.sh PARTITION JOB_NAME SCRIPT.py [script args...]
# Environment: GPUS (8), GPUS_PER_NODE (min(GPUS, 8)), CPUS_PER_TASK (5),
# ACCOUNT, SRUN_ARGS, PYTHON; MMEQUI_MASTER_ADDR_SUFFIX (JUWELS: i).
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
SCRIPT=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-$(( GPUS < 8 ? GPUS : 8 ))}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ACCOUNT_ARG=()
[ -n "${ACCOUNT:-}" ] && ACCOUNT_ARG=(--account="$ACCOUNT")
# shellcheck disable=SC2086  # SRUN_ARGS is a list of options
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec srun -p "$PARTITION" --job-name="$JOB_NAME" "${ACCOUNT_ARG[@]}" \
  --gres=gpu:"$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="${CPUS_PER_TASK:-5}" \
  --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "${PYTHON:-python}" -u "$ROOT/tools/$SCRIPT" "${@:4}" --launcher slurm
