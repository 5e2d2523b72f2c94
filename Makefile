# Feature Atlas. `make atlas` builds the atlas; `make test` runs the suite. The first call makes .venv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The torch builds this project is tested with; pip takes them from the local wheel store where there is one.
TORCH_PINS ?= torch==2.14.1 torchvision==0.29.1
CONFIG ?= content/atlas.toml
STORE ?= .atlas-cache
RUNNER ?= local
DEVICE ?=
ATLAS_FLAGS ?=

.PHONY: install atlas preview site serve post-videos bench bench-gpu measure-site test test-fast clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH_PINS)
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

atlas: install
	$(BIN)/atlas build --config $(CONFIG) --store $(STORE) --runner $(RUNNER) $(if $(DEVICE),--device $(DEVICE)) $(ATLAS_FLAGS)

preview:
	$(MAKE) atlas CONFIG=content/preview.toml

site: install
	$(BIN)/atlas site --store $(STORE) --out site

serve: site
	$(BIN)/python -m http.server --directory site 8000

post-videos: install
	$(BIN)/atlas post-videos --config $(CONFIG) --store $(STORE) --out site $(if $(DEVICE),--device $(DEVICE))

# The benchmark's extras (judges, photos) and its peer, Lucent 0.1.8: the peer without its dependencies, so pip
# never touches torch.
$(BIN)/.lucent: $(BIN)/.installed
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m pip install -q --no-deps torch-lucent==0.1.8 kornia==0.4.1 decorator
	touch $@

BENCH_FLAGS ?=
bench: install $(BIN)/.lucent
	$(BIN)/atlas bench $(BENCH_FLAGS)

# On a CUDA machine: the GPU throughput of `full` on efficientnet_lite0 and resnet18 -> bench/results/gpu/
bench-gpu: install
	bash bench/gpu.sh

# Sizes, links and Chromium timings of a built site/ -> bench/results/full-atlas-site.{json,md}
measure-site: install
	$(BIN)/atlas measure-site site

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf site .pytest_cache
