package bridge

import (
	"runtime"
	"sync"
	"syscall"
	"time"
)

// packetsPerCore is the packet rate (received plus sent) one core is
// counted good for when the bridge reports its stress: about what the
// forwarding path sustains with headroom.
const packetsPerCore = 100_000

// loadMeter turns CPU time and packet counts into the stress a bridge
// reports in its heartbeat: the larger of the process's CPU use (share of
// all cores) and its packet rate over packetsPerCore per core, both over
// the last interval, from 0 (idle) to 1 (full).
type loadMeter struct {
	mu      sync.Mutex
	at      time.Time
	cpu     time.Duration
	packets uint64
	value   float64
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sample takes the counters now and updates the stress.
func (m *loadMeter) sample(packets uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now, cpu := time.Now(), processCPU()
	if !m.at.IsZero() {
		wall := now.Sub(m.at)
		cores := float64(runtime.GOMAXPROCS(0))
		cpuShare := float64(cpu-m.cpu) / float64(wall) / cores
		rate := float64(packets-m.packets) / wall.Seconds() / (packetsPerCore * cores)
		m.value = min(max(cpuShare, rate, 0), 1)
	}
	m.at, m.cpu, m.packets = now, cpu, packets
}

func (m *loadMeter) stress() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.value
}
