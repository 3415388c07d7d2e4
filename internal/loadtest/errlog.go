package loadtest

import "fmt"

// Kinds of errors a run reports.
const (
	errJoin        = "join"
	errSession     = "session"
	errConstraints = "constraints"
)

// maxErrorMessages bounds the distinct messages kept; more are counted in
// one "other" entry.
const maxErrorMessages = 20

// errorLog counts errors by kind and message, within bounded memory.
type errorLog struct {
	total   int
	entries []ErrorEntry
	other   int
}

func (l *errorLog) add(kind, msg string) {
	l.total++
	for i := range l.entries {
		if l.entries[i].Kind == kind && l.entries[i].Message == msg {
			l.entries[i].Count++
			return
		}
	}
	if len(l.entries) == maxErrorMessages {
		l.other++
		return
	}
	l.entries = append(l.entries, ErrorEntry{Kind: kind, Message: msg, Count: 1})
}

// errorf records an error of a kind.
func (r *run) errorf(kind, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.log.Warn("loadtest error", "kind", kind, "err", msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs.add(kind, msg)
}

func (r *run) errorCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs.total
}
