#!/usr/bin/env bash
# Distributed training with torchrun, one process per GPU (or per CPU slot:
# without CUDA the gloo backend is used automatically).
#   tools/dist_train.sh CONFIG NUM_PROCS [train.py args...]
# Multi-node: run on every node with NNODES, NODE_RANK, MASTER_ADDR, PORT set.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CONFIG NUM_PROCS [tools/train.py arguments]" >&2; exit 2
fi
exec "$(dirname "$0")/_torchrun.sh" "$2" train.py "$1" "${@:3}"
