#!/usr/bin/env bash
# The dense transfer suite for one pretraining checkpoint: export the
# backbone, fine-tune + test ADE20K UPerNet, COCO Mask R-CNN, COCO keypoints,
# MPII and NYU-Depth-v2 depth (by default also S-COCO homography and
# ImageNet k-NN / linear), and write WORK_DIR/summary.md. See
# run_transfer_suite.py --help.
#   tools/benchmarks/run_transfer_suite.sh CKPT GPUS [--slurm PARTITION] [options]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 CKPT GPUS [--slurm PARTITION] [run_transfer_suite.py options]" >&2; exit 2
fi
exec "${PYTHON:-python}" "$(dirname "$0")/run_transfer_suite.py" "$@"
