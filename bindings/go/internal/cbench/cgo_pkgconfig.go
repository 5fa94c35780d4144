//go:build !torchinfer_nopkgconfig

package cbench

// By default cgo asks pkg-config for torchinfer's flags: set PKG_CONFIG_PATH to
// the build directory (it holds torchinfer.pc) or install the library. Build
// with -tags torchinfer_nopkgconfig to pass the flags through CGO_CFLAGS and
// CGO_LDFLAGS instead (see README.md).

// #cgo pkg-config: torchinfer
import "C"
