# Two entry points: `make demo` (the main job on the bundled example) and `make test`.
# Each creates .venv, installs torch first when none is present (the CPU build where that is
# what pip finds), then regdna with its extras.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO   ?= demo_out

.PHONY: venv demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

venv: $(BIN)/python
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[all]"

demo: venv
	PATH="$(CURDIR)/$(BIN):$$PATH" bash examples/demo.sh $(DEMO)

test: venv
	$(BIN)/python -m pytest -q tests

bench: venv
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(DEMO) .pytest_cache build *.egg-info src/*.egg-info
