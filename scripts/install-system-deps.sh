#!/usr/bin/env bash
# Installs the Debian packages Koe's tests and built-in engine use. Idempotent: installs only what is missing.
#   libpocketsphinx3, pocketsphinx-en-us  speech recognition for the built-in engine
#   espeak-ng, flite, sox                 test speech (a different voice than Koe's) and audio fixtures
#   postgresql                            the real PostgreSQL server the storage tests start (PGlite needs nothing)
#   chromium                              the dashboard browser tests (driven by playwright-core; never downloaded)
set -euo pipefail
PACKAGES=(libpocketsphinx3 pocketsphinx-en-us espeak-ng flite sox postgresql chromium)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "Need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
