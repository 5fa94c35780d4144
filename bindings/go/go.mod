module github.com/torchinfer/libtorchinfer/bindings/go

go 1.24
