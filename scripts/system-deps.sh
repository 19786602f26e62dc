#!/usr/bin/env bash
# Make sure the Debian packages riskreg needs are present.
#   scripts/system-deps.sh run    what `make run` needs (WeasyPrint's libraries, fonts, venv)
#   scripts/system-deps.sh test   plus what the test suite drives (poppler, NSS tools, Chromium)
# As root, missing packages are installed; otherwise they are named and we stop.
set -euo pipefail

mode=${1:-run}
python=${PYTHON:-python3.11}
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$mode" = test ]; then
  packages+=(poppler-utils libnss3-tools chromium)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ! command -v "$python" >/dev/null; then
  echo "riskreg needs $python (Python 3.11) on PATH." >&2
  exit 1
fi
if ! "$python" -c "import ensurepip, venv" 2>/dev/null; then
  missing+=(python3-venv)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
