package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	torchinfer "github.com/torchinfer/libtorchinfer/bindings/go"
)

// metrics are the server's Prometheus metrics, in a registry of its own (so
// that several servers can run in one process, as the tests do).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight *prometheus.GaugeVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "torchinfer_requests_total",
			Help: "Inference requests answered, by model, protocol (rest, grpc) and outcome (ok, invalid, not_found, unavailable, deadline_exceeded, cancelled, error).",
		}, []string{"model", "protocol", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "torchinfer_request_duration_seconds",
			Help:    "Time from a decoded inference request to its result, by model, protocol and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18), // 100 µs to 13 s
		}, []string{"model", "protocol", "outcome"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "torchinfer_requests_in_flight",
			Help: "Inference requests being served, by model.",
		}, []string{"model"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.inFlight,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "torchinfer_live_handles",
			Help: "Live libtorchinfer handles (models, batchers, tensors, outputs, ...): constant while idle, so a leak shows as growth.",
		}, func() float64 { return float64(torchinfer.LiveHandles()) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// addBatcher exports the counters of a model's batcher: requests answered
// and model calls made for them (requests / calls is the mean batch size).
func (m *metrics) addBatcher(model string, b *torchinfer.Batcher) {
	labels := prometheus.Labels{"model": model}
	m.registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "torchinfer_batcher_requests_total", Help: "Requests the model's dynamic batcher answered.", ConstLabels: labels,
		}, func() float64 { r, _ := b.Stats(); return float64(r) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "torchinfer_batcher_calls_total", Help: "Model calls the dynamic batcher made (batched or single).", ConstLabels: labels,
		}, func() float64 { _, c := b.Stats(); return float64(c) }),
	)
}

func (m *metrics) observe(model, protocol, outcome string, d time.Duration) {
	m.requests.WithLabelValues(model, protocol, outcome).Inc()
	m.latency.WithLabelValues(model, protocol, outcome).Observe(d.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
