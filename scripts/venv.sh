#!/usr/bin/env bash
# Create or refresh a virtual environment from its lock file.
#   scripts/venv.sh DIR LOCKFILE [EDITABLE]
# The environment is rebuilt only when the lock file's hash differs from the one it was built
# from (or when it is missing or broken), so `make run` costs nothing when nothing changed.
set -euo pipefail

dir=$1
lock=$2
editable=${3:-}
stamp="$dir/.lock.sha256"
want=$(sha256sum "$lock" | cut -d' ' -f1)

if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
    && "$dir/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
    exit 0
fi

python=$(scripts/find-python.sh)
echo "Installing $dir from $lock with $python (this takes a few minutes the first time)…"
rm -rf "$dir"
"$python" -m venv "$dir"
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.0"
# --no-deps: the lock file is the complete list; nothing may be resolved anew.
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$lock"
if [[ -n "$editable" ]]; then
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        --no-build-isolation -e .
fi
"$dir/bin/python" -m pip check >/dev/null || {
    "$dir/bin/python" -m pip check
    echo "warning: $dir has dependency conflicts (see above)" >&2
}
echo "$want" > "$stamp"
