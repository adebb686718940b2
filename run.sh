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
}

test_packages() {
  # Debian packages: chromium for the workshop app's browser tests; Slurm (with its accounting
  # daemon and database) and munge for the single-node cluster of tests/test_slurm.py
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  for tool in slurmctld:slurm-wlm slurmdbd:slurmdbd munged:munge mariadbd:mariadb-server; do
    [ -x "/usr/sbin/${tool%%:*}" ] || missing+=("${tool##*:}")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}") >/dev/null
  fi
}

case "${1:-}" in
  # scenarios over the posterior (each seed its own parameter draw) unless a calibration= is given
  main)  install; shift
         calibration=(calibration=posterior)
         for arg in "$@"; do [[ "$arg" == calibration=* ]] && calibration=(); done
         exec .venv/bin/python -m experiments.run -m "${calibration[@]}" "$@" ;;
  # three workers even on two cores: the Slurm, browser and subprocess tests wait more than they compute
  tests) install; test_packages; shift; exec .venv/bin/python -m pytest -n 3 --dist loadgroup "$@" ;;
  *) echo "usage: ./run.sh main | tests [pytest args]" >&2; exit 2 ;;
esac
