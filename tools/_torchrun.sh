#!/usr/bin/env bash
# Shared by dist_train.sh / dist_test.sh: torchrun NPROC processes of a tool.
#   tools/_torchrun.sh NPROC SCRIPT.py [script args...]
# Environment: NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON.
set -euo pipefail
NPROC=$1
SCRIPT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
exec "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
  --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
  --nproc_per_node="$NPROC" "$ROOT/tools/$SCRIPT" "${@:3}" --launcher pytorch
