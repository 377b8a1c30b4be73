# Sourced by scripts/run and scripts/test: system packages, a virtualenv, and the project in it.
# Usage: setup_project runtime|test
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"

# Debian/Ubuntu packages. WeasyPrint needs Pango; libharfbuzz-subset0 makes font subsetting
# fast and byte-stable; the fonts render Latin and Malayalam without fetching anything.
RUNTIME_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core)
# The browser tests drive Debian's Chromium; pdftoppm turns summaries into pictures; the
# serving tests put a real nginx in front and count rate limits of several workers in Redis.
TEST_PACKAGES=(chromium poppler-utils nginx redis-server)

say() { printf '==> %s\n' "$*" >&2; }

ensure_system_packages() {
  local missing=() package
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian or Ubuntu system: make sure these are installed: $*"
    return 0
  fi
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
      || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "missing system packages; install them with:"
    printf '    sudo apt-get update && sudo apt-get install -y %s\n' "${missing[*]}" >&2
    exit 1
  fi
  say "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  say "Python 3.11 or newer is needed (apt-get install python3)"
  exit 1
}

# The hash of what `kind` installs: the project's declarations and its lock files.
lock_digest() {
  cat "$REPO/pyproject.toml" "$REPO/locks/uv.txt" "$REPO/locks/$1.txt" | sha256sum | cut -c1-16
}

# Install `kind`'s lock file (every package pinned, each download checked against its hash),
# then the project itself, without its dependencies. Only when a lock or pyproject changed.
# uv (itself locked, installed by pip) does it: several times faster than pip, which matters
# on every fresh machine and CI run. The packages are compiled to bytecode as they are
# installed (see compile_project).
install_locked() {
  local kind="$1" stamp="$VENV/.installed-$1"
  [ "$(cat "$stamp" 2>/dev/null)" = "$(lock_digest "$kind")" ] && return 0
  say "installing the $kind lock (locks/$kind.txt) and the project"
  "$VENV/bin/python" -m pip install -qq --disable-pip-version-check --require-hashes \
    -r "$REPO/locks/uv.txt"
  "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --require-hashes \
    --compile-bytecode -r "$REPO/locks/$kind.txt"
  "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e "$REPO"
  lock_digest "$kind" > "$stamp"
}

ensure_venv() {
  local kind="$1"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtualenv in .venv"
    "$(find_python)" -m venv "$VENV"
  fi
  # A test install has everything the runtime needs.
  if [ "$kind" = runtime ] && [ "$(cat "$VENV/.installed-test" 2>/dev/null)" = "$(lock_digest test)" ]; then
    return 0
  fi
  install_locked "$kind"
}

# The project's own modules as bytecode, beside the packages'. Every Python process imports
# from bytecode then, even where PYTHONDONTWRITEBYTECODE is set (as where CI runs): without it,
# each process compiles every module it imports again, and the server took 5 s of CPU to
# import instead of 2, on each of the hundred-odd starts of a test run. Quick when nothing
# changed: only sources newer than their bytecode are compiled.
compile_project() {
  "$VENV/bin/python" -m compileall -q -j 0 "$REPO/service" "$REPO/migrations" >/dev/null
}

# The tests' independent FHIR validator (tests/fhir/validator): Medplum from npm, as its lock
# pins it (each package checked against its integrity hash), again only when the lock changes.
# It needs Node.js 20.19 or newer: the machine's own, else Debian's (older on Debian 12: the
# validator's test then says so).
VALIDATOR="$REPO/tests/fhir/validator"
install_fhir_validator() {
  local stamp="$VALIDATOR/node_modules/.installed" digest
  command -v npm >/dev/null 2>&1 || ensure_system_packages nodejs npm
  digest="$(cat "$VALIDATOR/package.json" "$VALIDATOR/package-lock.json" | sha256sum | cut -c1-16)"
  [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ] && return 0
  say "installing the FHIR validator (tests/fhir/validator/package-lock.json)"
  npm ci --prefix "$VALIDATOR" --no-audit --no-fund --loglevel=error >/dev/null
  echo "$digest" > "$stamp"
}

setup_project() {
  local kind="$1"
  # Debian's own Python needs python3-venv to make a virtualenv; others bring it along.
  if [ ! -x "$VENV/bin/python" ] && ! "$(find_python)" -c 'import ensurepip, venv' 2>/dev/null; then
    RUNTIME_PACKAGES+=(python3-venv)
  fi
  if [ "$kind" = test ]; then
    ensure_system_packages "${RUNTIME_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    ensure_venv test
    install_fhir_validator
  else
    ensure_system_packages "${RUNTIME_PACKAGES[@]}"
    ensure_venv runtime
  fi
  compile_project
  cd "$REPO"
}
