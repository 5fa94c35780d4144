#!/usr/bin/env bash
# Tests examples/go's Open Inference Protocol server with clients nobody here wrote: NVIDIA's
# tritonclient (HTTP and gRPC) and the KServe SDK's v2 REST client, from the venv that
# setup-venv.sh makes (made here if missing). Builds the server, serves a directory of links to
# the fixtures (demo.pt with its warm-up request, a ResNet-18, and values.pt / dict_input.pt /
# detection.pt when they are built; detection with torchvision's operators via -ops) on free
# loopback ports, runs test_oip.py, then stops the server with SIGTERM and checks that it
# exited cleanly with 0 live handles.
#
# Env: BUILD_DIR (default <repo>/build) holds libtorchinfer.so and torchinfer.pc;
#      TORCHINFER_TEST_MODELS (default $BUILD_DIR/models) the fixtures; OIP_TORCH_PYTHON
#      (default /usr/bin/python3, Debian's python3-torch and python3-torchvision) the PyTorch that
#      computes the ResNet-18 reference: on the LibTorch 2.x leg, that leg's interpreter, so that
#      it can read a resnet18.pt exported by it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
example="$(cd "$here/.." && pwd)"
repo="$(cd "$example/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
export PKG_CONFIG_PATH="$BUILD_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CGO_ENABLED=1
export CGO_LDFLAGS="${CGO_LDFLAGS:+$CGO_LDFLAGS }-Wl,-rpath,$BUILD_DIR"
torch_python="${OIP_TORCH_PYTHON:-/usr/bin/python3}"

step() { echo "==> oip-test: $*"; }

"$here/setup-venv.sh"
python="$("$here/setup-venv.sh" --python)"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

step "building the server"
(cd "$example" && go build -o "$work/torchinfer-serve" .)

step "model directory"
models="$work/models"
mkdir -p "$models"
ln -s "$TORCHINFER_TEST_MODELS/demo.pt" "$models/demo.pt"
/usr/bin/python3 - "$TORCHINFER_TEST_MODELS/reference.json" "$models/demo.warmup.json" <<'EOF'
import json, sys
case = next(c for c in json.load(open(sys.argv[1]))["cases"] if c["name"] == "demo")
i = case["inputs"][0]
json.dump({"inputs": [{"name": i["name"], "datatype": "FP32", "shape": i["shape"], "data": i["data"]}]},
          open(sys.argv[2], "w"))
EOF
if [[ -e "$TORCHINFER_TEST_MODELS/resnet18.pt" ]]; then
  ln -s "$TORCHINFER_TEST_MODELS/resnet18.pt" "$models/resnet18.pt"
fi
ops=()
for m in values dict_input detection; do
  if [[ -e "$TORCHINFER_TEST_MODELS/$m.pt" ]]; then
    ln -s "$TORCHINFER_TEST_MODELS/$m.pt" "$models/$m.pt"
  fi
done
if [[ -e "$models/detection.pt" ]]; then
  ops=(-ops "$(cat "$TORCHINFER_TEST_MODELS/torchvision_ops.txt")")
fi
"$torch_python" "$here/reference.py" "$models" "$work"
ls "$models"

# start_server LOG ARGS...: starts the server on free loopback ports; sets server_pid, rest, grpc.
start_server() {
  local log="$1"
  shift
  "$work/torchinfer-serve" -addr 127.0.0.1:0 -grpc-addr 127.0.0.1:0 "$@" >"$log" 2>&1 &
  server_pid=$!
  for _ in $(seq 600); do
    grep -q ' ready: ' "$log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$log"; echo "oip-test: the server exited" >&2; exit 1; }
    sleep 0.2
  done
  local line
  line="$(grep ' ready: ' "$log")" || { cat "$log"; echo "oip-test: not ready in 120 s" >&2; exit 1; }
  echo "$line"
  rest="$(sed -n 's|.*REST on http://\([^,]*\),.*|\1|p' <<<"$line")"
  grpc="$(sed -n 's|.*gRPC on \([^;]*\);.*|\1|p' <<<"$line")"
}

# stop_server LOG: SIGTERM, then the server must exit 0 with "stopped; 0 live handles".
stop_server() {
  step "stopping the server (SIGTERM)"
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "oip-test: the server exited with status $?" >&2; status=1; }
  server_pid=""
  tail -n 1 "$1"
  grep -q 'stopped; 0 live handles' "$1" || { echo "oip-test: live handles left at shutdown" >&2; status=1; }
}

# run_clients NAME CLIENT [unittest args]: one client suite against the running server.
run_clients() {
  local name="$1" client="$2"
  shift 2
  step "$name"
  OIP_CLIENT=$client OIP_REST="$rest" OIP_GRPC="$grpc" OIP_WORK="$work" \
    "$python" -m unittest -v "$@" "$here/test_oip.py" 2>&1 | tee "$work/$name.out" || status=1
}

status=0
step "starting the server on free ports"
start_server "$work/server.log" -models "$models" "${ops[@]}"
run_clients triton triton
run_clients kserve kserve
stop_server "$work/server.log"

step "again with the dynamic batcher (-batch 8): 64 concurrent clients"
mkdir "$work/batched"
ln -s "$models/demo.pt" "$models/demo.warmup.json" "$models/resnet18.pt" "$models/resnet18.warmup.json" "$work/batched/"
start_server "$work/batched.log" -models "$work/batched" -batch 8 -batch-delay 2ms
run_clients batched triton -k Concurrency
stop_server "$work/batched.log"

ran=0 failed=0 skipped=0
for client in triton kserve batched; do
  r="$(sed -n 's/^Ran \([0-9]*\) test.*/\1/p' "$work/$client.out")"
  f=0
  for n in $(sed -n 's/^FAILED (\(.*\))$/\1/p' "$work/$client.out" | grep -o '[0-9]*' || true); do f=$((f + n)); done
  s="$(grep -c '\.\.\. skipped' "$work/$client.out" || true)"
  ran=$((ran + ${r:-0})) failed=$((failed + f)) skipped=$((skipped + s))
done
((ran > 0)) || status=1
echo "oip-test: $((ran - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
