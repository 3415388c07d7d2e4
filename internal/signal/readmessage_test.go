package signal

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestReadMessage(t *testing.T) {
	const limit = 1 << 16
	for _, size := range []int{0, 1, 4095, 4096, 4097, 9000, limit - 1, limit, limit + 1, 3 * limit} {
		msg := bytes.Repeat([]byte{'x'}, size)
		for i := range msg {
			msg[i] = byte(i)
		}
		// One byte per Read, as a slow socket would give them.
		r := iotest.OneByteReader(bytes.NewReader(msg))
		n, buf, err := readMessage(r, make([]byte, 4096), limit)
		if size >= limit {
			if err != nil || n != limit {
				t.Errorf("%d bytes: read %d, err %v; want the %d-byte limit and no error", size, n, err, limit)
			}
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%d bytes: err %v, want the message's end", size, err)
		}
		if !bytes.Equal(buf[:n], msg) {
			t.Errorf("%d bytes: read %d bytes that differ from the message", size, n)
		}
		if len(buf) > limit {
			t.Errorf("%d bytes: buffer grew to %d, past the limit", size, len(buf))
		}
	}
}
