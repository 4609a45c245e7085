#!/usr/bin/env bash
# Installs everything gatec needs on a fresh machine: npm dependencies (onnxruntime-node without
# its CUDA download), and Verilator, clang (the HLS kernel's second compiler in the tests) and
# Chromium (report.html in the tests) from apt when they are missing. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --no-audit --no-fund --loglevel=error
fi

missing=""
command -v verilator >/dev/null 2>&1 || missing="$missing verilator"
command -v clang++ >/dev/null 2>&1 || missing="$missing clang"
# Headless Chromium opens report.html in the tests (test/report-html.test.ts, through puppeteer-core).
[ -x /usr/bin/chromium ] || missing="$missing chromium"
if [ -n "$missing" ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
