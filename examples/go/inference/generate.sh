#!/usr/bin/env bash
# Regenerates the Go code for grpc_predict_v2.proto. The output is checked in, so building the
# example (and CI) needs neither protoc nor its plugins; run this only after changing the .proto,
# and commit the result. Versions are pinned so that a regeneration changes nothing by itself.
#   apt-get install protobuf-compiler       # protoc (Debian 12: 3.21)
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export PATH="$(go env GOPATH)/bin:$PATH"
for tool in protoc protoc-gen-go protoc-gen-go-grpc; do
  command -v "$tool" >/dev/null || { echo "generate.sh: $tool not found (see the comment at the top)" >&2; exit 1; }
done
protoc --proto_path=. \
  --go_out=. --go_opt=paths=source_relative \
  --go-grpc_out=. --go-grpc_opt=paths=source_relative \
  grpc_predict_v2.proto
echo "generated: $(ls ./*.pb.go | tr '\n' ' ')"
