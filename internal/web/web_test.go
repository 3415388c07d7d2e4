package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func get(h http.Handler, path, from string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.RemoteAddr = from
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// The network check's configuration (it hands out TURN credentials) is
// limited per address; other addresses, and the address's other requests,
// are not held up by it; a flood of anything else meets the open limit.
func TestPerAddressLimits(t *testing.T) {
	h := Handler(Options{
		Signal:      http.NotFoundHandler(),
		CheckConfig: func(string) CheckConfig { return CheckConfig{} },
	})
	const a, b = "192.0.2.1:40000", "192.0.2.2:40000"
	for i := range checkBurst {
		if rec := get(h, "/check/config", a); rec.Code != http.StatusOK {
			t.Fatalf("check %d: %d", i, rec.Code)
		}
	}
	rec := get(h, "/check/config", a)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("check over the burst: %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := get(h, "/check/config", b); rec.Code != http.StatusOK {
		t.Fatalf("another address: %d", rec.Code)
	}
	if rec := get(h, "/healthz", a); rec.Code != http.StatusOK {
		t.Fatalf("health from the limited address: %d", rec.Code)
	}
	// The open limit: its burst and what refills meanwhile, then 429.
	start := time.Now()
	served := 0
	for get(h, "/static/app.js", b).Code != http.StatusTooManyRequests {
		served++
		if served > 3*openBurst {
			t.Fatalf("%d requests from one address, none refused", served)
		}
	}
	allowed := openBurst + int(time.Since(start).Seconds()*openPerMinute/60) + 1
	if served > allowed {
		t.Fatalf("%d requests served before the first refusal, the limit allows %d", served, allowed)
	}
	if rec := get(h, "/", a); rec.Code != http.StatusOK {
		t.Fatalf("the page for another address during b's flood: %d", rec.Code)
	}
}
