# Hearth — the README's commands. Every target installs what it needs and is safe to run twice.
VENV    := .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app wsgi
STAMP   := $(VENV)/.installed
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LOCK    := requirements.lock
UV      := uv==0.13.10
# The lock records a digest of the dependencies in pyproject.toml it was made from: a change
# there without `make lock` is caught (lock-check) before anything is installed.
DEPS_DIGEST = $(shell python3 -c 'import hashlib, json, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print(hashlib.sha256(json.dumps([p["dependencies"], p["optional-dependencies"]], sort_keys=True).encode()).hexdigest()[:16])')

.PHONY: run run-postgres test test-postgres lint format i18n i18n-update bench browser-deps db-deps install clean-venv lock lock-check

# Installs exactly what requirements.lock names (made by `make lock` from pyproject.toml).
$(STAMP): pyproject.toml $(LOCK)
	@$(MAKE) --no-print-directory lock-check
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# Refresh the lock after changing dependencies in pyproject.toml (newest versions allowed).
lock:
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet "$(UV)"
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --universal --quiet --no-header -o $(LOCK).new
	@{ echo "# pyproject dependencies: $(DEPS_DIGEST) (written by make lock; do not edit by hand)"; cat $(LOCK).new; } > $(LOCK)
	@rm -f $(LOCK).new

lock-check:
	@grep -q "^# pyproject dependencies: $(DEPS_DIGEST) " $(LOCK) || \
		{ echo "$(LOCK) does not match pyproject.toml's dependencies: run make lock"; exit 1; }

install: $(STAMP) i18n

# Compiled catalogs are build output (git-ignored), rebuilt whenever a .po changes.
i18n: $(STAMP)
	@$(VENV)/bin/pybabel compile -d app/translations

i18n-update: $(STAMP)
	# --ignore-dirs: the default skips folders starting with "_", such as templates/_macros.
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --ignore-dirs=".* __pycache__" -o app/translations/messages.pot app
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

# Debian's Chromium for the browser tests (Playwright's own download cannot work here),
# and CJK fonts so Chinese renders in screenshots.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then \
		echo "Installing Debian's chromium and fonts-noto-cjk…"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# Debian's PostgreSQL (the tests start their own server in a temporary folder), Redis
# (job storage when HEARTH_REDIS_URL is set), and nginx with openssl (tests/security/test_nginx.py
# runs deploy/nginx-hearth.conf with a self-signed certificate).
db-deps:
	@if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1 \
		|| ! test -x /usr/sbin/nginx || ! command -v openssl >/dev/null 2>&1 \
		|| ! command -v spamassassin >/dev/null 2>&1; then \
		echo "Installing Debian's postgresql, redis-server, nginx, openssl and spamassassin…"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql redis-server nginx openssl spamassassin >/dev/null; \
	fi

run: install
	$(FLASK) serve

# The app on a local PostgreSQL: a server in instance/postgres (started if needed), the
# demo shop in it; or set DATABASE_URL to your own server.
run-postgres: install db-deps
	$(PY) -m devtools.run_postgres $(FLASK) serve

# Lint first, then the whole suite on SQLite, then again on a real PostgreSQL.
test: install lint browser-deps db-deps
	$(VENV)/bin/pytest -n 2 --dist loadfile -q
	HEARTH_TEST_DATABASE=postgresql $(VENV)/bin/pytest -n 2 --dist loadfile -q

test-postgres: install browser-deps db-deps
	HEARTH_TEST_DATABASE=postgresql $(VENV)/bin/pytest -n 2 --dist loadfile -q

lint: $(STAMP)
	$(VENV)/bin/ruff check app tests bench devtools
	$(VENV)/bin/ruff format --check app tests bench devtools

format: $(STAMP)
	$(VENV)/bin/ruff format app tests bench devtools
	$(VENV)/bin/ruff check --fix app tests bench devtools

bench: install browser-deps
	@if ! command -v wrk >/dev/null 2>&1; then $(SUDO) apt-get install -y -qq wrk >/dev/null; fi
	$(PY) -m bench.run
