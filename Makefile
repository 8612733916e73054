# Seminar: `make run` serves the seeded seminar, `make test` runs ruff and the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := seminar

.PHONY: run test bench serve lint messages catalogues clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

catalogues: $(STAMP)
	$(BIN)/python -m seminar.catalogues compile

instance/config.py:
	mkdir -p instance
	$(BIN)/python -c "import secrets; print(f'SECRET_KEY = {secrets.token_hex(32)!r}')" > $@
	chmod 600 $@

run: $(STAMP) catalogues instance/config.py
	$(BIN)/flask db upgrade
	$(BIN)/flask bootstrap
	SEMINAR_RUN_WORKER=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

# Two processes for most tests, then the `serial` ones (processes killed, threads raced, waits timed) on their own.
test: $(STAMP) catalogues
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -m "not serial"; parallel=$$?; \
	$(BIN)/python -m pytest -m serial && exit $$parallel

# Production: gunicorn (deploy/gunicorn.conf.py) with SEMINAR_SECRET_KEY, SEMINAR_SQLALCHEMY_DATABASE_URI and
# SEMINAR_RATELIMIT_STORAGE_URI from the environment; see README "Production" and deploy/.
serve: $(STAMP) catalogues
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py "seminar:create_app()"

bench: $(STAMP) catalogues
	$(BIN)/python -m bench

messages: $(STAMP)
	$(BIN)/python -m seminar.catalogues update
	$(BIN)/python -m seminar.catalogues check || true

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
