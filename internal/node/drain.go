package node

import "time"

// Drain stops the node taking new conferences and waits until its bridge
// holds no endpoint (control has moved them) or the drain timeout passes.
// It reports whether the node emptied in time. Without the bridge role
// there is nothing to move.
func (n *Node) Drain() bool {
	n.startDrain()
	select {
	case <-n.drained:
		return true
	case <-time.After(n.cfg.DrainTimeout):
		return false
	}
}

// DrainStarted is closed when a drain begins (SIGTERM or POST /admin/drain).
func (n *Node) DrainStarted() <-chan struct{} { return n.drainStarted }

// startDrain begins draining in the background (POST /admin/drain).
func (n *Node) startDrain() {
	if n.draining.Swap(true) {
		return
	}
	close(n.drainStarted)
	n.log.Info("draining", "timeout", n.cfg.DrainTimeout)
	if n.bridge == nil {
		close(n.drained)
		return
	}
	n.bridge.Drain()
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-n.closing:
				return
			case <-t.C:
				if n.bridge.Endpoints() == 0 {
					n.log.Info("drained: no endpoints left")
					close(n.drained)
					return
				}
			}
		}
	}()
}
