#!/usr/bin/env bash
# The project's two commands (see README):
#   ./run.sh main    install if needed, then run the default scenario comparison
#   ./run.sh tests   install if needed, then run the test suite
set -euo pipefail
cd "$(dirname "$0")"

install() {
  if [ ! -x .venv/bin/python ]; then
    PYENV_VERSION=3.12.1 python -m venv .venv 2>/dev/null || python3.12 -m venv .venv
  fi
  if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]"
    touch .venv/.installed
  fi
  if ! command -v chromium >/dev/null; then   # for the workshop app's browser tests
    (apt-get update -q && apt-get install -y -q chromium) >/dev/null
  fi
}

case "${1:-}" in
  main)  install; shift; exec .venv/bin/python -m experiments.run -m "$@" ;;
  tests) install; shift; exec .venv/bin/python -m pytest -n 2 "$@" ;;
  *) echo "usage: ./run.sh main | tests [pytest args]" >&2; exit 2 ;;
esac
