# mmequi: `make demo` and `make test` do everything on a fresh machine.
# Both create .venv with `make install` when it is missing and reuse it.
#
# Tested versions (README "Install"): Python 3.11, torch 2.14.1,
# torchvision 0.29.1, numpy 2.4, mmengine 0.10.7, mmcv-lite 2.1.0,
# mmpretrain 1.2.0, mmsegmentation 1.2.2, mmdet 3.3.0, mmpose 1.3.2.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Override for another torch, e.g. make install TORCH="torch==2.5.1 torchvision==0.20.1"
TORCH ?= torch==2.14.1 torchvision==0.29.1
# Extra pip arguments for the torch step, e.g. the CPU wheel index:
# make install TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu"
TORCH_PIP_ARGS ?=
STAMP := $(VENV)/.mmequi-installed
PYTEST_ARGS ?=
# Test processes: one per core, at most 4 (each imports the four toolboxes,
# ~2 GB), whole test files per process (their module fixtures run once).
# Every test process uses one torch thread (tests/conftest.py).
# PYTEST_WORKERS= (empty) runs the suite in this one process.
PYTEST_WORKERS ?= -n auto --maxprocesses=4 --dist loadfile

.PHONY: install demo test test-fast clean-demo

$(STAMP): setup.cfg setup.py
	$(MAKE) install

install:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "[1/4] torch + build helpers"
	$(PIP) install -q $(TORCH_PIP_ARGS) $(TORCH) 'numpy>=2,<3' cython 'setuptools<81'
	@echo "[2/4] chumpy (an mmpose requirement that is never imported; its setup.py imports pip, so no build isolation)"
	$(PIP) install -q --no-build-isolation chumpy==0.70
	@echo "[3/4] xtcocotools from source against numpy 2 (the PyPI wheel is built for numpy 1)"
	$(PIP) install -q --no-build-isolation --no-binary xtcocotools xtcocotools==1.14.3
	@echo "[4/4] OpenMMLab stack + mmequi (editable) + test/extra packages"
	$(PIP) install -q -e '.[all]'
	$(PY) -c "import mmequi, mmseg.models, mmdet.models, mmpose.models, mmpretrain.models; print('mmequi', mmequi.__version__, 'installed')"
	@touch $(STAMP)

# The main job: the equivariance benchmark on the embedded toy 3DIEBench
# (generated into data/toy_3diebench if absent): pretrain plain iBOT and
# iBOT + ours, probe both, print the table and save work_dirs/demo/summary.*
DEMO_DATA ?= data/toy_3diebench
DEMO_ARGS ?=

demo: $(STAMP)
	$(PY) tools/benchmarks/equivariance_benchmark.py --work-dir work_dirs/demo \
	  --data-root $(DEMO_DATA) $(DEMO_ARGS)

test: $(STAMP)
	$(PY) -m pytest tests $(PYTEST_WORKERS) $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest tests -m "not slow" $(PYTEST_WORKERS) $(PYTEST_ARGS)

clean-demo:
	rm -rf work_dirs/demo $(DEMO_DATA)
