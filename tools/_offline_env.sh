# Sourced by the GPU scripts (tools/analysis_tools/gpu_benchmark.sh,
# tools/benchmarks/gpu_equivariance_experiment.sh): on a machine with
# torch + CUDA but no package index, install the OpenMMLab wheels brought
# in .whl/ (`make install && bash ../shared/device/fetch_wheels.sh` on a
# machine with the index) into $SITE and put it on PYTHONPATH. Without
# .whl/ nothing happens (the environment must already have the stack).
SITE=${SITE:-/tmp/mmequi_site}
if [ -d .whl ] && ls .whl/*.whl > /dev/null 2>&1; then
  "${PYTHON:-python}" -m pip install -q --no-index --no-deps --target "$SITE" .whl/*.whl
  export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
  if ls .whl/xtcocotools-*.tar.gz > /dev/null 2>&1 && \
      ! "${PYTHON:-python}" -c 'import xtcocotools' 2> /dev/null; then
    "${PYTHON:-python}" -m pip install -q --no-index --no-build-isolation \
      --no-deps --target "$SITE" .whl/xtcocotools-*.tar.gz
  fi
fi
