module github.com/torchinfer/libtorchinfer/examples/go

go 1.24

require github.com/torchinfer/libtorchinfer/bindings/go v0.0.0

replace github.com/torchinfer/libtorchinfer/bindings/go => ../../bindings/go
