#!/usr/bin/env bash
# Re-resolve one environment's dependencies from scratch and write its lock file.
#   scripts/lock.sh project|rasa
set -euo pipefail

python=$(scripts/find-python.sh)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade "pip==24.0"
case "${1:-}" in
    project)
        "$tmp/venv/bin/python" -m pip install --quiet ".[dev]"
        header="# Project environment (.venv): gateway, actions, CLI and their tools, Python 3.10."
        out=requirements/project.lock; target=lock ;;
    rasa)
        "$tmp/venv/bin/python" -m pip install --quiet "rasa==3.6.21"
        header="# Rasa environment (.venv-rasa): rasa==3.6.21 and what it pulls in, Python 3.10."
        out=requirements/rasa.lock; target=lock-rasa ;;
    *) echo "usage: scripts/lock.sh project|rasa" >&2; exit 2 ;;
esac
{
    echo "$header"
    echo "# Regenerate: make $target"
    "$tmp/venv/bin/python" -m pip freeze --all --exclude-editable | grep -v -E '^(pip|werkmaatje)=='
} > "$out"
echo "wrote $out"
