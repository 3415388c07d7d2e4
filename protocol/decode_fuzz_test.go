package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics, that what it accepts survives
// a round trip through JSON, that what it refuses it refuses with a
// DecodeError the server can answer with, and that no join with an unsafe
// room name gets through.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.in))
	}
	for _, tc := range decodeErrorCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := Decode(data)
		if err != nil {
			if msg != nil {
				t.Fatalf("Decode returned both %#v and %v", msg, err)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if de.Code == "" || de.Message == "" {
				t.Fatalf("DecodeError %+v lacks a code or message", de)
			}
			return
		}
		typ := TypeOf(msg)
		if newTyped(typ) == nil {
			t.Fatalf("Decode returned %#v of unknown type %q", msg, typ)
		}
		if j, ok := msg.(*Join); ok {
			room, rerr := NormalizeRoom(j.Room)
			if rerr != nil || room != j.Room {
				t.Fatalf("decoded join has room %q; NormalizeRoom = %q, %v", j.Room, room, rerr)
			}
			name, nerr := NormalizeName(j.Name)
			if nerr != nil || name != j.Name {
				t.Fatalf("decoded join has name %q; NormalizeName = %q, %v", j.Name, name, nerr)
			}
		}
		out, err := json.Marshal(msg)
		if err != nil {
			t.Fatalf("re-marshalling %#v: %v", msg, err)
		}
		if len(out) > MaxMessageBytes {
			// Escaping can grow a message past the limit; the limit is
			// then working as intended.
			return
		}
		again, err := Decode(out)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", out, err)
		}
		if !reflect.DeepEqual(again, msg) {
			t.Fatalf("round trip changed the message:\n %#v\nbecame\n %#v", msg, again)
		}
	})
}
