#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter: $PYTHON, python3.10 on PATH, or pyenv's 3.10.
set -euo pipefail

is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }

for candidate in "${PYTHON:-}" "$(command -v python3.10 || true)"; do
    if [[ -n "$candidate" ]] && is_310 "$candidate"; then
        echo "$candidate"
        exit 0
    fi
done
if command -v pyenv >/dev/null 2>&1; then
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
        candidate="$(pyenv prefix "$version")/bin/python3.10"
        if is_310 "$candidate"; then
            echo "$candidate"
            exit 0
        fi
    done
fi
cat >&2 <<'MSG'
Python 3.10 was not found. Rasa 3.6 needs exactly Python 3.10. Install it with one of:
  pyenv install 3.10.13                  (https://github.com/pyenv/pyenv)
  sudo apt-get install python3.10 python3.10-venv
or point PYTHON at a Python 3.10 interpreter: make run PYTHON=/path/to/python3.10
MSG
exit 1
