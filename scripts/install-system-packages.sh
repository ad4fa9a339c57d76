#!/usr/bin/env bash
# Debian packages Reeldocs uses: Chromium (page tests), DejaVu fonts (test slides),
# espeak-ng and festival
# with its HTS voice (test speech),
# Apertium with English pairs (offline translation), Tesseract (on-screen text),
# PostgreSQL 15 (schema tests).
# Installs only what is missing; needs root (or sudo) only when something is.
set -euo pipefail

packages=(chromium fonts-dejavu-core espeak-ng apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en tesseract-ocr tesseract-ocr-eng festival festvox-us-slt-hts postgresql-15)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "Installing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "These Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
