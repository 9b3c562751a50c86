# Two commands set everything up on a fresh machine:
#   make demo   create .venv, install, segment a bundled sample photo with the shipped U-Net
#               (weights.h5's packaged copy, run by its ONNX twin: no TensorFlow, about a second)
#   make test   create .venv, install, lint and run the whole test suite
#   make lab    create .venv, install (JupyterLab included), open the notebooks in JupyterLab
#               (as root, e.g. in Docker, with --allow-root, which Jupyter otherwise demands)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Jupyter refuses to start as root without --allow-root (Docker, cloud VMs)
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: venv demo test lint lab clean

$(STAMP): requirements.txt pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@# opencv-contrib-python-headless replaced opencv-python-headless (both install cv2/): a venv
	@# made before that gets a clean cv2 from contrib alone
	if $(BIN)/pip show -q opencv-python-headless 2>/dev/null; then \
		$(BIN)/pip uninstall -q -y opencv-python-headless opencv-contrib-python-headless; fi
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/personseg predict assets/grace_hopper.jpg --weights pretrained:unet --out out/demo --save mask,overlay,cutout,blur

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check personseg tests benchmarks scripts

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) out
