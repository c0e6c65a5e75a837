# The two commands: `make run` and `make test`.  Both create .venv when missing
# and install the pinned dependencies from requirements.lock.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: setup run test lint bench lock clean package

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==26.3"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $(STAMP)

# Qt's X11 plugin links to system libraries a fresh desktop may lack (libxcb-cursor0 for Qt >= 6.5):
# name the exact install line instead of Qt's "could not load the Qt platform plugin".
run: setup
	@missing=$$($(PY) packaging/build.py --missing-packages); \
	if [ -n "$$missing" ] && [ "$${QT_QPA_PLATFORM:-xcb}" = xcb ]; then \
	    echo "The app needs system libraries that are missing here. Install them with:" >&2; \
	    echo "    sudo apt-get install -y $$missing" >&2; exit 1; fi
	$(PY) main.py --sample

# One worker per core (pytest-xdist); a test file stays on one worker, so that its shared fixtures
# (a trained model, a window) are made once.
test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -n auto --dist loadfile

# Style and errors a reader would trip over (configuration in pyproject.toml's [tool.ruff]).
lint: setup
	$(PY) -m ruff check .

bench: setup
	$(PY) -m pytest tests/benchmarks -p no:cacheprovider -o addopts="" -s -q

# The double-click app: dist/et-denoise/ (see packaging/build.py and the README's "Build the app").
package: setup
	$(PY) packaging/build.py

lock:
	rm -rf /tmp/et-lock && $(PYTHON) -m venv /tmp/et-lock
	/tmp/et-lock/bin/pip install --quiet --upgrade "pip==26.3"
	/tmp/et-lock/bin/pip install --quiet ".[dev]"
	/tmp/et-lock/bin/pip freeze --exclude et-denoise > requirements.lock.new
	{ head -2 requirements.lock; cat requirements.lock.new; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.lock && rm requirements.lock.new

clean:
	rm -rf $(VENV) build dist
