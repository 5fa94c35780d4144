#!/usr/bin/env bash
# Makes (once) the Python environment of the Open Inference Protocol tests: a venv with clients
# nobody here wrote, NVIDIA's tritonclient (HTTP and gRPC) and the KServe SDK, from PyPI. A
# finished venv is marked with .complete and never rebuilt; a half-made one is made again.
#
#   oip-test/setup-venv.sh            make the venv if needed
#   oip-test/setup-venv.sh --python   print its interpreter (exit 1 if it is not there)
#
# TI_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/torchinfer) holds it, as for .ci/torch2-env.
# It uses the python3 on PATH (tested with 3.11). No PyTorch in it: /usr/bin/python3 computes the
# tests' references, so the venv stays smaller (about 500 MB).
set -euo pipefail

VENV="${TI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/torchinfer}/venv-oip"
# Pinned so that a run today and a run next month test against the same clients.
PACKAGES=("tritonclient[http,grpc]==2.73.0" "kserve==0.21.0" "numpy==2.4.6")

if [[ "${1:-}" == --python ]]; then
  [[ -e "$VENV/.complete" ]] || exit 1
  echo "$VENV/bin/python"
  exit 0
fi
if [[ -e "$VENV/.complete" ]]; then
  exit 0
fi

echo "setup: making the OIP client environment in $VENV"
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check "${PACKAGES[@]}"
# Two processes: tritonclient.grpc and kserve both register the protocol's messages (package
# "inference") in protobuf's default pool, so one process can import only one of them.
"$VENV/bin/python" -c "import tritonclient.http, tritonclient.grpc, numpy"
"$VENV/bin/python" -c "import kserve"
touch "$VENV/.complete"
echo "setup: OIP client environment ready"
