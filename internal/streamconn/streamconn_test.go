package streamconn

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// pair is a loopback TCP connection accepted through a Listener with cfg:
// the server's end wrapped, the client's end raw, both with small kernel
// buffers so that a client that stops reading stalls the server's writes
// soon.
func pair(t *testing.T, cfg Config) (*Listener, *Conn, *net.TCPConn) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := Listen(inner, cfg)
	defer l.Close()
	client, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = client.(*net.TCPConn).SetReadBuffer(4096)
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	server := c.(*Conn)
	_ = server.Conn.(*net.TCPConn).SetWriteBuffer(4096)
	t.Cleanup(func() { server.Close(); client.Close() })
	return l, server, client.(*net.TCPConn)
}

// frame is a numbered RFC 4571 frame of size bytes: a two-byte length,
// then the number, then filler.
func frame(n uint32, size int) []byte {
	b := make([]byte, 2+size)
	binary.BigEndian.PutUint16(b, uint16(size))
	binary.BigEndian.PutUint32(b[2:], n)
	for i := 6; i < len(b); i++ {
		b[i] = byte(n)
	}
	return b
}

// writeFrames writes count frames and returns when all Writes returned,
// failing the test if that takes longer than within (Writes that block
// would never return).
func writeFrames(t *testing.T, c *Conn, count int, within time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for i := range count {
			if _, err := c.Write(frame(uint32(i), 1200)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("write: %v", err)
		}
	case <-time.After(within):
		t.Fatalf("%d writes did not return within %s: Write blocked", count, within)
	}
}

// A receiver that reads nothing: writes return at once, the queue stays
// within its bound, what does not fit is dropped and counted, and after
// StallAfter without progress the connection is closed and OnStall called.
func TestStalledReader(t *testing.T) {
	stalled := make(chan *Conn, 1)
	const maxQueue = 64 << 10
	l, server, _ := pair(t, Config{MaxQueue: maxQueue, StallAfter: time.Second, OnStall: func(c *Conn) { stalled <- c }})
	start := time.Now()
	// 2000 frames of 1.2 kB are 2.4 MB: far more than the kernel's
	// buffers and the queue hold.
	writeFrames(t, server, 2000, 10*time.Second)
	if q, all := server.Queued(), l.Stats().Queued; q > maxQueue || all != int64(q) {
		t.Errorf("%d bytes queued (the listener counts %d), the bound is %d", q, all, maxQueue)
	}
	st := l.Stats()
	if st.Dropped == 0 || st.Frames+st.Dropped != 2000 {
		t.Errorf("stats %+v: want drops, and queued + dropped = 2000", st)
	}
	select {
	case c := <-stalled:
		if c != server {
			t.Error("OnStall got another connection")
		}
		// The writer notices within a write slice after StallAfter; the
		// bound leaves a loaded machine 4 s more.
		if took := time.Since(start); took > 5*time.Second+writeSlice {
			t.Errorf("cut off after %s, StallAfter is 1s", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the stalled connection was not cut off within 10 s")
	}
	if _, err := server.Write(frame(1, 10)); !errors.Is(err, ErrStalled) {
		t.Errorf("write after the stall: %v, want ErrStalled", err)
	}
	if st := l.Stats(); st.Stalled != 1 || st.Queued != 0 {
		t.Errorf("stats after the stall %+v, want 1 stalled and nothing queued", st)
	}
}

// A receiver that pauses and then reads again gets whole frames, in order,
// with gaps only where frames were dropped: the framing is never broken.
func TestFramesStayWhole(t *testing.T) {
	l, server, client := pair(t, Config{MaxQueue: 32 << 10, StallAfter: 30 * time.Second})
	const count = 1000
	writeFrames(t, server, count, 10*time.Second) // nobody reads yet
	got := make(chan []uint32, 1)
	go func() {
		var nums []uint32
		hdr := make([]byte, 2)
		for {
			_ = client.SetReadDeadline(time.Now().Add(2 * time.Second))
			if _, err := io.ReadFull(client, hdr); err != nil {
				got <- nums
				return
			}
			body := make([]byte, binary.BigEndian.Uint16(hdr))
			if _, err := io.ReadFull(client, body); err != nil {
				got <- append(nums, ^uint32(0)) // a torn frame
				return
			}
			n := binary.BigEndian.Uint32(body)
			for _, b := range body[4:] {
				if b != byte(n) {
					got <- append(nums, ^uint32(0))
					return
				}
			}
			nums = append(nums, n)
		}
	}()
	var nums []uint32
	select {
	case nums = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("reading did not end")
	}
	for i, n := range nums {
		if n == ^uint32(0) {
			t.Fatalf("frame %d is torn", i)
		}
		if i > 0 && n <= nums[i-1] {
			t.Fatalf("frame %d after %d: out of order", n, nums[i-1])
		}
	}
	st := l.Stats()
	if uint64(len(nums)) != st.Frames || st.Frames+st.Dropped != count {
		t.Errorf("read %d frames; stats %+v: want every queued frame read, queued + dropped = %d", len(nums), st, count)
	}
	if st.Dropped == 0 {
		t.Error("nothing was dropped: the test did not fill the queue")
	}
}

// Deadlines: pion sets write deadlines on close; they must not reach the
// writer's socket, while read deadlines do.
func TestDeadlines(t *testing.T) {
	_, server, client := pair(t, Config{})
	if err := server.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := server.Write(frame(7, 100)); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 102)
	if _, err := io.ReadFull(client, buf); err != nil {
		t.Fatalf("a write after a past write deadline did not arrive: %v", err)
	}
	_ = server.SetDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := server.Read(buf); err == nil {
		t.Fatal("read deadline ignored")
	}
}

// A receiver that stops reading while the kernel could still take much
// more (a large send buffer, a trickle of frames): on Linux the stall is
// seen in the acknowledgements, within StallAfter, not once megabytes have
// been buffered.
func TestStallSeenByAcks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("TCP_INFO's acknowledged bytes are read on Linux only")
	}
	stalled := make(chan time.Time, 1)
	_, server, _ := pair(t, Config{StallAfter: time.Second, SendBuffer: 4 << 20, OnStall: func(*Conn) { stalled <- time.Now() }})
	start := time.Now()
	go func() {
		for i := range 400 {
			if _, err := server.Write(frame(uint32(i), 1000)); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	select {
	case at := <-stalled:
		// The client's 4 kB buffer fills within the first 100 ms; then a
		// second of no acknowledgement, and a loaded machine's margin.
		if took := at.Sub(start); took > 3*time.Second {
			t.Errorf("stall seen after %s, StallAfter is 1s", took)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("a receiver that acknowledges nothing was not cut off while the kernel still took writes")
	}
}
