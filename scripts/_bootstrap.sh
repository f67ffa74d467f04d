# Sourced by scripts/run and scripts/test: create .venv and install the project when needed.
# Usage: bootstrap_venv [extra]   (extra: "" for the app, "dev" for tests)
set -euo pipefail

# Python keeps compiled modules (__pycache__) so that each new process (the CLI, a server, every
# test subprocess and worker) does not compile the ~600 modules it imports again: with
# PYTHONDONTWRITEBYTECODE set (some machines set it) every start-up compiled from source,
# about 2.6 s of a 4.7 s `benzotaper today`.
unset PYTHONDONTWRITEBYTECODE

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    for candidate in python3.13 python3.12 python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "benzotaper needs Python 3.11 or newer (python3 --version)." >&2
    return 1
}

bootstrap_venv() {
    local extra="${1:-}"
    local py stamp hash
    py="$(find_python)"
    stamp="$VENV/.benzotaper-installed"
    hash="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
    # Up to date when installed from this pyproject with the same extra (or with dev, a superset).
    if [ -f "$stamp" ] && { grep -qx -- "$hash-${extra:-app}" "$stamp" || grep -qx -- "$hash-dev" "$stamp"; }; then
        return 0
    fi
    echo "==> Setting up $VENV (first run, or pyproject.toml changed)" >&2
    local target=".";
    [ -n "$extra" ] && target=".[$extra]"
    if ! command -v uv >/dev/null 2>&1; then
        "$py" -m pip install --quiet --disable-pip-version-check uv >/dev/null 2>&1 || true
    fi
    if command -v uv >/dev/null 2>&1 || "$py" -m uv --version >/dev/null 2>&1; then
        local UV="uv"; command -v uv >/dev/null 2>&1 || UV="$py -m uv"
        [ -x "$VENV/bin/python" ] || $UV venv --quiet -p "$py" "$VENV"
        (cd "$ROOT" && $UV pip install --quiet --compile-bytecode -p "$VENV/bin/python" -e "$target")
    else
        [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT/$target"
    fi
    echo "$hash-${extra:-app}" >"$stamp"
}
