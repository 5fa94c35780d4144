// Command torchinfer-serve serves TorchScript (and AOTInductor .pt2) models
// over the Open Inference Protocol ("KServe v2"), REST and gRPC, so that
// existing clients (tritonclient, KServe's SDK), load generators, gateways
// and KServe itself can use it:
//
//	torchinfer-serve -models ./models -addr 127.0.0.1:8000 -grpc-addr 127.0.0.1:8001
//
//	curl -s localhost:8000/v2/models/demo
//	curl -s localhost:8000/v2/models/demo/infer -d '{"inputs": [{"name": "features",
//	  "datatype": "FP32", "shape": [1, 4], "data": [0.5, -1, 2, 0.1]}]}'
//
// Every model file in -models is served under its file stem, loaded once and
// shared by all requests; readiness stays false until every model is loaded
// and has run its warm-up request (NAME.warmup.json beside NAME.pt, when
// there is one). A request's deadline (-timeout, and a gRPC client's own)
// and its client going away stop its call. SIGINT or SIGTERM stop the server
// gracefully: it reports not ready, requests in flight finish, then the
// models are closed. See README.md.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
	"github.com/torchinfer/libtorchinfer/examples/go/inference"
	"google.golang.org/grpc"
)

// config is what the flags set.
type config struct {
	models     []string // -model, repeatable
	modelsDir  string
	addr       string
	grpcAddr   string // "": no gRPC
	device     string
	ops        []string
	batch      int
	batchDelay time.Duration
	timeout    time.Duration
	threads    int

	// For tests: listening is called once the listeners are open, and the
	// models start loading when beforeLoad returns.
	listening  func(rest, grpc net.Addr)
	beforeLoad func()
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	var cfg config
	flag.StringVar(&cfg.modelsDir, "models", "", "serve every .pt and .pt2 file in `DIR`, each named by its file stem")
	flag.Var((*listFlag)(&cfg.models), "model", "serve one model `FILE` (repeatable), named by its file stem")
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:8000", "REST listen address `HOST:PORT`")
	flag.StringVar(&cfg.grpcAddr, "grpc-addr", "", "gRPC listen address `HOST:PORT` (empty: no gRPC)")
	flag.StringVar(&cfg.device, "device", "cpu", `device: "cpu", "cuda" or "cuda:N"`)
	flag.Var((*listFlag)(&cfg.ops), "ops", "load the operator library at `PATH` before the models (repeatable)")
	flag.IntVar(&cfg.batch, "batch", 0, "batch concurrent requests into calls of up to `N` rows (0: no batching)")
	flag.DurationVar(&cfg.batchDelay, "batch-delay", 0, "with -batch: how long to wait for more rows (0: batch what queued meanwhile)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "longest an inference may run (0: no limit)")
	flag.IntVar(&cfg.threads, "threads", 0, "intra-op threads (0: LibTorch's default)")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatalf("unexpected arguments %q (models come with -model or -models)", flag.Args())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, cfg, func(rest, grpcAddr net.Addr, models []string) {
		g := "gRPC off"
		if grpcAddr != nil {
			g = "gRPC on " + grpcAddr.String()
		}
		log.Printf("ready: REST on http://%s, %s; models: %s", rest, g, strings.Join(models, ", "))
	})
	if err != nil {
		log.Fatal(err)
	}
	// Everything the server made is closed now: a count above zero is a leak.
	log.Printf("stopped; %d live handles", torchinfer.LiveHandles())
}

// server is what the REST and gRPC handlers share.
type server struct {
	repo    *repository
	metrics *metrics
	timeout time.Duration // per inference; 0 = none
}

// run serves until ctx is done, then shuts down gracefully. ready is called
// once every model is loaded and warmed, with the listening addresses (useful
// with port 0; grpc is nil without gRPC) and the model names.
func run(ctx context.Context, cfg config, ready func(rest, grpc net.Addr, models []string)) error {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return errors.New("this server copies tensors as the protocol's little-endian bytes: it needs a little-endian host")
	}
	if cfg.threads > 0 {
		if err := torchinfer.SetNumThreads(cfg.threads); err != nil {
			return err
		}
	}
	for _, p := range cfg.ops {
		if err := torchinfer.LoadOpLibrary(p); err != nil {
			return fmt.Errorf("-ops %s: %w", p, err)
		}
	}
	repo, err := newRepository(cfg.models, cfg.modelsDir)
	if err != nil {
		return err
	}
	s := &server{repo: repo, metrics: newMetrics(), timeout: cfg.timeout}

	// Listen first: liveness (and "not ready") answer while the models load.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{Handler: s.restHandler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- httpSrv.Serve(ln) }()
	var grpcSrv *grpc.Server
	var grpcAddr net.Addr
	if cfg.grpcAddr != "" {
		gln, err := net.Listen("tcp", cfg.grpcAddr)
		if err != nil {
			httpSrv.Close()
			return err
		}
		grpcSrv = grpc.NewServer(grpc.MaxRecvMsgSize(maxBody))
		inference.RegisterGRPCInferenceServiceServer(grpcSrv, &grpcService{s: s})
		grpcAddr = gln.Addr()
		go func() { errc <- grpcSrv.Serve(gln) }()
	}
	if cfg.listening != nil {
		cfg.listening(ln.Addr(), grpcAddr)
	}

	loadCtx, cancelLoad := context.WithCancel(ctx)
	defer cancelLoad()
	loaded := make(chan error, 1)
	go func() {
		if cfg.beforeLoad != nil {
			cfg.beforeLoad()
		}
		loaded <- repo.load(loadCtx, loadOptions{
			device: cfg.device, batch: cfg.batch, batchDelay: cfg.batchDelay, onBatcher: s.metrics.addBatcher,
		}, runModel)
	}()

	var serveErr error
	select {
	case err := <-loaded:
		loaded = nil
		if err != nil {
			serveErr = err
			break
		}
		if ready != nil {
			ready(ln.Addr(), grpcAddr, repo.names)
		}
		select {
		case serveErr = <-errc:
		case <-ctx.Done():
		}
	case serveErr = <-errc:
	case <-ctx.Done():
	}
	return errors.Join(serveErr, shutdown(repo, httpSrv, grpcSrv, cancelLoad, loaded))
}

// shutdownGrace is how long requests in flight get to finish at shutdown;
// then their connections are closed, which cancels their calls.
const shutdownGrace = 10 * time.Second

// shutdown stops the server in this order: report not ready, stop accepting
// and wait (up to shutdownGrace) for the requests in flight, stop a model
// load still running, then close every batcher (failing what it still
// queues) and model.
func shutdown(repo *repository, httpSrv *http.Server, grpcSrv *grpc.Server, cancelLoad func(), loaded chan error) error {
	repo.ready.Store(false)
	for _, sm := range repo.models {
		sm.ready.Store(false)
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	grpcDone := make(chan struct{})
	go func() {
		if grpcSrv != nil {
			grpcSrv.GracefulStop()
		}
		close(grpcDone)
	}()
	var err error
	if e := httpSrv.Shutdown(ctx); e != nil {
		httpSrv.Close()
		err = fmt.Errorf("REST shutdown: %w", e)
	}
	select {
	case <-grpcDone:
	case <-ctx.Done():
		grpcSrv.Stop()
		<-grpcDone
	}
	cancelLoad()
	if loaded != nil {
		<-loaded // the load goroutine is done with the models
	}
	for _, sm := range repo.models {
		sm.close()
	}
	return err
}
