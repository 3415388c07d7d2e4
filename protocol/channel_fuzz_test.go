package protocol

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeChannel checks the bridge channel's decoder: it never panics,
// refuses with ErrBadChannelMessage, and what it accepts encodes and
// decodes again to a message of the same type.
func FuzzDecodeChannel(f *testing.F) {
	for _, s := range []string{
		`{"type":"constraints","lastN":2,"onStage":["a-video"],"maxHeight":{"a-video":720},"defaultMaxHeight":180}`,
		`{"type":"constraints","lastN":-1}`,
		`{"type":"dominant-speaker","id":"a","speakers":["a","b"]}`,
		`{"type":"forwarded-sources","sources":{"a-video":360},"suspended":["b-video"]}`,
		`{"type":"bandwidth","estimate":1000000,"used":500000}`,
		`{"type":"layers","source":"a-video","active":[true,false,true]}`,
		`{"type":"error","code":"bad-field","message":"x"}`,
		`{"type":"nonsense"}`, `{`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := DecodeChannel(data)
		if err != nil {
			if msg != nil {
				t.Fatalf("DecodeChannel returned both %#v and %v", msg, err)
			}
			if !errors.Is(err, ErrBadChannelMessage) {
				t.Fatalf("error %v is not ErrBadChannelMessage", err)
			}
			return
		}
		again, err := json.Marshal(msg)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", msg, err)
		}
		msg2, err := DecodeChannel(again)
		if err != nil {
			t.Fatalf("%s decoded, but its re-encoding %s does not: %v", data, again, err)
		}
		if a, b := typeName(msg), typeName(msg2); a != b {
			t.Fatalf("type %s became %s", a, b)
		}
	})
}

func typeName(v any) string {
	b, _ := json.Marshal(v)
	var head struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(b, &head)
	return head.Type
}
