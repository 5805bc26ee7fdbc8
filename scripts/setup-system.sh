#!/usr/bin/env bash
# Installs the system packages klantreis needs for its full test suite:
#   - a Java runtime (OpenJDK 17) for PySpark's local mode
#   - Debian's Chromium and the DejaVu fonts, to render maps and reports to PNG and PDF
# Only what is missing is installed. Needs root (or sudo) for apt-get.
set -euo pipefail

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
test -x /usr/bin/chromium || need+=(chromium)
test -d /usr/share/fonts/truetype/dejavu || need+=(fonts-dejavu-core)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "klantreis needs these system packages: ${need[*]}" >&2
  echo "Install them as root: apt-get install -y ${need[*]}" >&2
  exit 1
fi

echo "Installing system packages: ${need[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
