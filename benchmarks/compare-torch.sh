#!/usr/bin/env bash
# checkprop against PyTorch on the same networks, back to back: a Markdown table on stdout, and
# results.json / .csv / .md / .png in benchmarks/target/compare/ (or next to --out).
# See benchmarks/README.md ("checkprop against PyTorch") and benchmarks/compare/compare.py -h.
#
# Build first, from the repository root:
#   mvn -B -q install -DskipTests && mvn -B -q -f benchmarks/pom.xml package -DskipTests
# PyTorch (optional; without it the PyTorch columns say n/a), as root on Debian/Ubuntu:
#   apt-get install -y python3-torch python3-numpy libopenblas0-pthread
#
# The full sweep (widths 64-1024 x batches 64-4096 x full/sqrt; keep the machine otherwise idle):
#   benchmarks/compare-torch.sh
# A few seconds' check:
#   benchmarks/compare-torch.sh --widths 64 --batches 64 --layers 4 --repeat 3 --warmup 2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Debian's python3-torch is installed for /usr/bin/python3; a python3 earlier on PATH (pyenv, venv)
# may not see it. The orchestrator itself needs only the standard library.
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3 || true)"
if [ -z "$py" ]; then
  echo "compare-torch.sh: no python3 found (it runs benchmarks/compare/compare.py)" >&2
  exit 2
fi
exec "$py" "$here/compare/compare.py" "$@"
