#!/usr/bin/env bash
# Requests per second and p99 latency of the OIP server for demo.pt and a ResNet-18, over gRPC
# from NVIDIA's Python client (tritonclient), against the same calls through the Go binding
# directly (bench_test.go), at the same concurrency, on this machine and in this run.
#
#   examples/go/bench.sh                 concurrency 1 and 4
#   BENCH_CONCURRENCY="1 8" bench.sh
#
# Env: BUILD_DIR, TORCHINFER_TEST_MODELS as for oip-test/run.sh (whose venv it uses, making it
# if missing); DEMO_REQUESTS (default 2000) and RESNET_REQUESTS (default 200) per measurement.
# A benchmark, not a test: nothing fails on slow numbers.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
BUILD_DIR="$(cd "${BUILD_DIR:-$repo/build}" && pwd)"
export TORCHINFER_TEST_MODELS="${TORCHINFER_TEST_MODELS:-$BUILD_DIR/models}"
export PKG_CONFIG_PATH="$BUILD_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CGO_ENABLED=1
export CGO_LDFLAGS="${CGO_LDFLAGS:+$CGO_LDFLAGS }-Wl,-rpath,$BUILD_DIR"
concurrency="${BENCH_CONCURRENCY:-1 4}"
torch_python="${OIP_TORCH_PYTHON:-/usr/bin/python3}"
demo_n="${DEMO_REQUESTS:-2000}" resnet_n="${RESNET_REQUESTS:-200}"

"$here/oip-test/setup-venv.sh"
python="$("$here/oip-test/setup-venv.sh" --python)"
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

models="$work/models"
mkdir -p "$models"
ln -s "$TORCHINFER_TEST_MODELS/demo.pt" "$models/demo.pt"
[[ -e "$TORCHINFER_TEST_MODELS/resnet18.pt" ]] && ln -s "$TORCHINFER_TEST_MODELS/resnet18.pt" "$models/resnet18.pt"
"$torch_python" "$here/oip-test/reference.py" "$models" "$work" >/dev/null  # exports a ResNet-18 if missing
(cd "$here" && go build -o "$work/torchinfer-serve" .)
"$work/torchinfer-serve" -models "$models" -addr 127.0.0.1:0 -grpc-addr 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 600); do
  grep -q ' ready: ' "$work/server.log" && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.2
done
grpc="$(sed -n 's|.*gRPC on \([^;]*\);.*|\1|p' "$work/server.log")"

echo "== $(nproc) cores; libtorchinfer from $BUILD_DIR; requests: demo $demo_n, resnet18 $resnet_n per line"
echo "== over gRPC from tritonclient (Python), server: examples/go"
for c in $concurrency; do
  "$python" "$here/oip-test/bench_client.py" "$grpc" demo "$demo_n" "$c"
  "$python" "$here/oip-test/bench_client.py" "$grpc" resnet18 "$resnet_n" "$c"
done
kill -TERM "$server_pid"
wait "$server_pid" || true
server_pid=""

echo "== the Go binding called directly (bench_test.go), same inputs"
for c in $concurrency; do
  for b in Demo:$demo_n ResNet18:$resnet_n; do
    (cd "$here" && BENCH_MODELS="$models" BENCH_CONCURRENCY=$c \
      go test -run '^$' -bench "^BenchmarkDirect${b%%:*}\$" -benchtime "${b##*:}x" -count 1 . |
      awk -v c="$c" '/^BenchmarkDirect/ {
        for (i = 2; i < NF; i++) v[$(i + 1)] = $i
        name = tolower($1); sub(/^benchmarkdirect/, "", name); sub(/-[0-9]+$/, "", name)
        printf "%-9s conc=%s  %9.1f req/s  p50 %8.3f ms  p99 %8.3f ms\n", name, c, v["req/s"], v["p50-ms"], v["p99-ms"] }')
  done
done
