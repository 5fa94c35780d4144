// Command torchinfer-serve is a small HTTP inference service over one
// TorchScript model, shared by all requests:
//
//	torchinfer-serve -model build/models/demo.pt -addr 127.0.0.1:8080
//
//	curl -s localhost:8080/healthz
//	curl -s localhost:8080/predict -d '{"inputs": {"features": {"shape": [1,4], "data": [0.5,-1,2,0.1]}}}'
//	{"outputs":{"logits":{"dtype":"float32","shape":[1,3],"data":[...]},"probs":{...}}}
//
// Inputs are matched to the model's argument names; every output leaf is
// returned under its name. -timeout bounds each prediction (504 past it), and
// a client that disconnects stops its prediction. SIGINT or SIGTERM stops the
// service gracefully: requests in flight finish, then the model is closed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

func main() {
	modelPath := flag.String("model", "demo.pt", "TorchScript model to serve")
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	device := flag.String("device", "cpu", `device: "cpu", "cuda" or "cuda:N"`)
	timeout := flag.Duration("timeout", 10*time.Second, "longest a prediction may run (0: no limit)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, *addr, *modelPath, *device, *timeout, func(a net.Addr) { log.Printf("serving %s on http://%s", *modelPath, a) })
	if err != nil {
		log.Fatal(err)
	}
	log.Print("stopped")
}

// run serves until ctx is done, then shuts down gracefully. timeout bounds
// each prediction (0: no limit). ready is called with the listening address
// (useful with port 0).
func run(ctx context.Context, addr, modelPath, device string, timeout time.Duration, ready func(net.Addr)) error {
	model, err := torchinfer.Load(modelPath, torchinfer.WithDevice(device))
	if err != nil {
		return fmt.Errorf("loading model: %w", err)
	}
	defer model.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           newHandler(model, timeout),
		ReadHeaderTimeout: 10 * time.Second,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr())
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
