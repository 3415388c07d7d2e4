package protocol

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// allTypes lists every message type the package defines.
var allTypes = []string{
	TypeJoin, TypeJoined, TypeParticipantJoined, TypeParticipantLeft,
	TypeParticipantUpdated, TypeOffer, TypeAnswer, TypeCandidate, TypeMute,
	TypeLeave, TypeClosed, TypePing, TypePong, TypeError,
}

// decodeCases are well-formed messages of every type and what Decode makes
// of them. They also seed FuzzDecode.
var decodeCases = []struct {
	name string
	in   string
	want any
}{
	{
		name: "join lower-cases room and trims name",
		in:   `{"type":"join","version":1,"room":"Team-Standup_2","name":"  Ada Lovelace \t"}`,
		want: &Join{Type: TypeJoin, Version: 1, Room: "team-standup_2", Name: "Ada Lovelace"},
	},
	{
		name: "join with unicode name",
		in:   `{"type":"join","version":1,"room":"0day","name":"Zoë 🎉"}`,
		want: &Join{Type: TypeJoin, Version: 1, Room: "0day", Name: "Zoë 🎉"},
	},
	{
		name: "joined",
		in: `{"type":"joined","version":1,"room":"abc","you":{"id":"p1","name":"Ada","audioMuted":true,"videoMuted":false},` +
			`"participants":[{"id":"p2","name":"Bob","audioMuted":false,"videoMuted":true}],` +
			`"iceServers":[{"urls":["stun:stun.example.org"]},{"urls":["turn:t.example.org"],"username":"u","credential":"c"}]}`,
		want: &Joined{
			Type: TypeJoined, Version: 1, Room: "abc",
			You:          Participant{ID: "p1", Name: "Ada", AudioMuted: true},
			Participants: []Participant{{ID: "p2", Name: "Bob", VideoMuted: true}},
			ICEServers: []ICEServer{
				{URLs: []string{"stun:stun.example.org"}},
				{URLs: []string{"turn:t.example.org"}, Username: "u", Credential: "c"},
			},
		},
	},
	{
		name: "participant-joined",
		in:   `{"type":"participant-joined","participant":{"id":"p3","name":"Cy","audioMuted":false,"videoMuted":false}}`,
		want: &ParticipantJoined{Type: TypeParticipantJoined, Participant: Participant{ID: "p3", Name: "Cy"}},
	},
	{
		name: "participant-left",
		in:   `{"type":"participant-left","id":"p3"}`,
		want: &ParticipantLeft{Type: TypeParticipantLeft, ID: "p3"},
	},
	{
		name: "participant-updated",
		in:   `{"type":"participant-updated","participant":{"id":"p3","name":"Cy","audioMuted":true,"videoMuted":true}}`,
		want: &ParticipantUpdated{Type: TypeParticipantUpdated, Participant: Participant{ID: "p3", Name: "Cy", AudioMuted: true, VideoMuted: true}},
	},
	{
		name: "offer",
		in:   `{"type":"offer","sdp":"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"}`,
		want: &SessionDescription{Type: TypeOffer, SDP: "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"},
	},
	{
		name: "answer",
		in:   `{"type":"answer","sdp":"v=0\r\n"}`,
		want: &SessionDescription{Type: TypeAnswer, SDP: "v=0\r\n"},
	},
	{
		name: "candidate",
		in:   `{"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}`,
		want: &Trickle{Type: TypeCandidate, Candidate: Candidate{
			Candidate:        "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host",
			SDPMid:           new("0"),
			SDPMLineIndex:    new(uint16(0)),
			UsernameFragment: new("abcd"),
		}},
	},
	{
		name: "candidate end of candidates",
		in:   `{"type":"candidate","candidate":{"candidate":"","sdpMid":null}}`,
		want: &Trickle{Type: TypeCandidate},
	},
	{
		name: "mute",
		in:   `{"type":"mute","audio":true,"video":false}`,
		want: &Mute{Type: TypeMute, Audio: true},
	},
	{
		name: "leave",
		in:   `{"type":"leave"}`,
		want: &Leave{Type: TypeLeave},
	},
	{
		name: "closed",
		in:   `{"type":"closed","reason":"room closed"}`,
		want: &Closed{Type: TypeClosed, Reason: "room closed"},
	},
	{
		name: "ping",
		in:   `{"type":"ping","seq":9007199254740993}`,
		want: &Ping{Type: TypePing, Seq: 9007199254740993},
	},
	{
		name: "pong",
		in:   `{"type":"pong","seq":-4}`,
		want: &Pong{Type: TypePong, Seq: -4},
	},
	{
		name: "error",
		in:   `{"type":"error","code":"invalid-room","message":"no","ref":"join"}`,
		want: &Error{Type: TypeError, Code: CodeInvalidRoom, Message: "no", Ref: "join"},
	},
	{
		name: "unknown fields are ignored",
		in:   `{"type":"ping","seq":3,"future":{"x":[1,2,{"y":null}]},"another":null,"seq2":"x"}`,
		want: &Ping{Type: TypePing, Seq: 3},
	},
	{
		name: "unknown fields in join and nested objects are ignored",
		in:   `{"type":"join","version":1,"room":"r","name":"n","fancy":"t","caps":["simulcast"]}`,
		want: &Join{Type: TypeJoin, Version: 1, Room: "r", Name: "n"},
	},
	{
		name: "unknown nested field is ignored",
		in:   `{"type":"candidate","candidate":{"candidate":"c","extra":1}}`,
		want: &Trickle{Type: TypeCandidate, Candidate: Candidate{Candidate: "c"}},
	},
	{
		name: "room of 64 characters",
		in:   `{"type":"join","version":1,"room":"` + strings.Repeat("A", 64) + `","name":"n"}`,
		want: &Join{Type: TypeJoin, Version: 1, Room: strings.Repeat("a", 64), Name: "n"},
	},
	{
		name: "name of 64 multi-byte characters",
		in:   `{"type":"join","version":1,"room":"r","name":"` + strings.Repeat("é", 64) + `"}`,
		want: &Join{Type: TypeJoin, Version: 1, Room: "r", Name: strings.Repeat("é", 64)},
	},
	{
		// encoding/json replaces invalid UTF-8 with U+FFFD before the name is
		// checked, so Decode never sees invalid UTF-8 (NormalizeName alone
		// refuses it; see TestNormalizeName).
		name: "invalid UTF-8 in name becomes U+FFFD",
		in:   "{\"type\":\"join\",\"version\":1,\"room\":\"r\",\"name\":\"x\xff\"}",
		want: &Join{Type: TypeJoin, Version: 1, Room: "r", Name: "x\uFFFD"},
	},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode([]byte(tc.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Decode =\n %#v\nwant\n %#v", got, tc.want)
			}
			if typ := TypeOf(got); typ != TypeOf(tc.want) || typ == "" {
				t.Errorf("TypeOf(Decode) = %q, want %q", typ, TypeOf(tc.want))
			}
		})
	}
}

func TestDecodeCoversEveryType(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range decodeCases {
		seen[TypeOf(tc.want)] = true
	}
	for _, typ := range allTypes {
		if !seen[typ] {
			t.Errorf("no decode case for type %q", typ)
		}
	}
}

func TestDecodeSizeLimit(t *testing.T) {
	// A ping padded with an unknown field to exactly n bytes.
	msg := func(n int) []byte {
		const head, tail = `{"type":"ping","seq":1,"pad":"`, `"}`
		return []byte(head + strings.Repeat("x", n-len(head)-len(tail)) + tail)
	}
	if m := msg(MaxMessageBytes); len(m) != MaxMessageBytes {
		t.Fatalf("test message is %d bytes", len(m))
	}
	if _, err := Decode(msg(MaxMessageBytes)); err != nil {
		t.Errorf("message of exactly MaxMessageBytes: %v", err)
	}
	_, err := Decode(msg(MaxMessageBytes + 1))
	var de *DecodeError
	if !errors.As(err, &de) || de.Code != CodeTooLarge {
		t.Fatalf("message of MaxMessageBytes+1: err = %v, want code %s", err, CodeTooLarge)
	}
	// Over the limit is refused before parsing: even garbage is too-large.
	_, err = Decode([]byte(strings.Repeat("{", MaxMessageBytes+1)))
	if !errors.As(err, &de) || de.Code != CodeTooLarge {
		t.Errorf("garbage over the limit: err = %v, want code %s", err, CodeTooLarge)
	}
}

// decodeErrorCases are messages Decode refuses, with the code, the Ref and
// a piece of the message it must answer with. They also seed FuzzDecode.
var decodeErrorCases = []struct {
	name     string
	in       string
	code     string
	ref      string
	contains string
}{
	// Not a JSON object.
	{"empty input", ``, CodeBadJSON, "", ""},
	{"not JSON", `hello`, CodeBadJSON, "", "not a JSON object"},
	{"array", `[{"type":"ping"}]`, CodeBadJSON, "", "not a JSON object"},
	{"string", `"ping"`, CodeBadJSON, "", "not a JSON object"},
	{"number", `42`, CodeBadJSON, "", "not a JSON object"},
	{"truncated object", `{"type":"ping"`, CodeBadJSON, "", ""},
	{"trailing comma", `{"type":"ping",}`, CodeBadJSON, "", ""},
	{"trailing garbage", `{"type":"ping"} x`, CodeBadJSON, "", ""},
	{"two objects", `{"type":"ping"}{"type":"ping"}`, CodeBadJSON, "", ""},

	// The type field itself.
	{"no type", `{}`, CodeBadField, "", `"type"`},
	{"null", `null`, CodeBadField, "", `"type"`},
	{"null type", `{"type":null}`, CodeBadField, "", `"type"`},
	{"numeric type", `{"type":5}`, CodeBadField, "", `"type" must be a string`},
	{"object type", `{"type":{"name":"join"}}`, CodeBadField, "", `"type" must be a string`},
	{"array type", `{"type":["join"]}`, CodeBadField, "", `"type" must be a string`},
	{"bool type", `{"type":true}`, CodeBadField, "", `"type" must be a string`},

	// Unknown types.
	{"unknown type", `{"type":"dance"}`, CodeUnknownType, "dance", `"dance"`},
	{"empty type", `{"type":""}`, CodeUnknownType, "", "unknown message type"},
	{"types are case-sensitive", `{"type":"JOIN","version":1,"room":"r","name":"n"}`, CodeUnknownType, "JOIN", `"JOIN"`},
	{"long unknown type is clipped", `{"type":"` + strings.Repeat("z", 100) + `"}`, CodeUnknownType, strings.Repeat("z", 40) + "…", strings.Repeat("z", 40) + "…"},

	// Fields of the wrong JSON type.
	{"join version string", `{"type":"join","version":"1","room":"r","name":"n"}`, CodeBadField, TypeJoin, `"version"`},
	{"join version float", `{"type":"join","version":1.5,"room":"r","name":"n"}`, CodeBadField, TypeJoin, `"version"`},
	{"join room number", `{"type":"join","version":1,"room":7,"name":"n"}`, CodeBadField, TypeJoin, `"room"`},
	{"join name bool", `{"type":"join","version":1,"room":"r","name":true}`, CodeBadField, TypeJoin, `"name"`},
	{"join name object", `{"type":"join","version":1,"room":"r","name":{}}`, CodeBadField, TypeJoin, `"name"`},
	{"offer sdp number", `{"type":"offer","sdp":1}`, CodeBadField, TypeOffer, `"sdp"`},
	{"answer sdp array", `{"type":"answer","sdp":["v=0"]}`, CodeBadField, TypeAnswer, `"sdp"`},
	{"candidate as string", `{"type":"candidate","candidate":"candidate:1"}`, CodeBadField, TypeCandidate, `"candidate"`},
	{"candidate mline negative", `{"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":-1}}`, CodeBadField, TypeCandidate, "sdpMLineIndex"},
	{"candidate mline over uint16", `{"type":"candidate","candidate":{"candidate":"c","sdpMLineIndex":70000}}`, CodeBadField, TypeCandidate, "sdpMLineIndex"},
	{"candidate mid number", `{"type":"candidate","candidate":{"candidate":"c","sdpMid":0}}`, CodeBadField, TypeCandidate, "sdpMid"},
	{"mute audio string", `{"type":"mute","audio":"yes","video":false}`, CodeBadField, TypeMute, `"audio"`},
	{"mute video number", `{"type":"mute","audio":false,"video":1}`, CodeBadField, TypeMute, `"video"`},
	{"ping seq string", `{"type":"ping","seq":"1"}`, CodeBadField, TypePing, `"seq"`},
	{"ping seq float", `{"type":"ping","seq":1.5}`, CodeBadField, TypePing, `"seq"`},
	{"ping seq over int64", `{"type":"ping","seq":9223372036854775808}`, CodeBadField, TypePing, `"seq"`},
	{"pong seq bool", `{"type":"pong","seq":false}`, CodeBadField, TypePong, `"seq"`},
	{"closed reason number", `{"type":"closed","reason":3}`, CodeBadField, TypeClosed, `"reason"`},
	{"participant-left id number", `{"type":"participant-left","id":3}`, CodeBadField, TypeParticipantLeft, `"id"`},
	{"joined participants object", `{"type":"joined","participants":{}}`, CodeBadField, TypeJoined, `"participants"`},
	{"error code number", `{"type":"error","code":1}`, CodeBadField, TypeError, `"code"`},

	// Empty SDP.
	{"offer without sdp", `{"type":"offer"}`, CodeBadField, TypeOffer, `"sdp" must not be empty`},
	{"answer with blank sdp", `{"type":"answer","sdp":" \r\n\t"}`, CodeBadField, TypeAnswer, `"sdp" must not be empty`},

	// Versions.
	{"join without version", `{"type":"join","room":"r","name":"n"}`, CodeUnsupportedVersion, TypeJoin, "version 0"},
	{"join version 2", `{"type":"join","version":2,"room":"r","name":"n"}`, CodeUnsupportedVersion, TypeJoin, "version 2"},
	{"join version -1", `{"type":"join","version":-1,"room":"r","name":"n"}`, CodeUnsupportedVersion, TypeJoin, "version -1"},
	{"version is checked before room", `{"type":"join","version":2,"room":"-bad","name":""}`, CodeUnsupportedVersion, TypeJoin, ""},

	// Room names.
	{"join without room", `{"type":"join","version":1,"name":"n"}`, CodeInvalidRoom, TypeJoin, "empty"},
	{"room starting with dash", `{"type":"join","version":1,"room":"-r","name":"n"}`, CodeInvalidRoom, TypeJoin, ""},
	{"room of 65 characters", `{"type":"join","version":1,"room":"` + strings.Repeat("a", 65) + `","name":"n"}`, CodeInvalidRoom, TypeJoin, "longer than 64"},
	{"room with dot", `{"type":"join","version":1,"room":"a.b","name":"n"}`, CodeInvalidRoom, TypeJoin, ""},
	{"room with star", `{"type":"join","version":1,"room":"*","name":"n"}`, CodeInvalidRoom, TypeJoin, ""},
	{"room with greater-than", `{"type":"join","version":1,"room":"a>","name":"n"}`, CodeInvalidRoom, TypeJoin, ""},
	{"room with non-ASCII letter", `{"type":"join","version":1,"room":"café","name":"n"}`, CodeInvalidRoom, TypeJoin, ""},
	{"room is checked before name", `{"type":"join","version":1,"room":"a b","name":""}`, CodeInvalidRoom, TypeJoin, ""},

	// Display names.
	{"join without name", `{"type":"join","version":1,"room":"r"}`, CodeInvalidName, TypeJoin, "empty"},
	{"blank name", `{"type":"join","version":1,"room":"r","name":" \t\n "}`, CodeInvalidName, TypeJoin, "empty"},
	{"name with NUL", `{"type":"join","version":1,"room":"r","name":"a\u0000b"}`, CodeInvalidName, TypeJoin, "control characters"},
	{"name with BEL", `{"type":"join","version":1,"room":"r","name":"\u0007bell"}`, CodeInvalidName, TypeJoin, "control characters"},
	{"name with inner newline", `{"type":"join","version":1,"room":"r","name":"a\nb"}`, CodeInvalidName, TypeJoin, "control characters"},
	{"name with DEL", `{"type":"join","version":1,"room":"r","name":"a\u007fb"}`, CodeInvalidName, TypeJoin, "control characters"},
	{"name with line separator", `{"type":"join","version":1,"room":"r","name":"a\u2028b"}`, CodeInvalidName, TypeJoin, "control characters"},
	{"name of 65 characters", `{"type":"join","version":1,"room":"r","name":"` + strings.Repeat("n", 65) + `"}`, CodeInvalidName, TypeJoin, "longer than 64"},
	{"name of 65 multi-byte characters", `{"type":"join","version":1,"room":"r","name":"` + strings.Repeat("é", 65) + `"}`, CodeInvalidName, TypeJoin, "longer than 64"},
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range decodeErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := Decode([]byte(tc.in))
			if err == nil {
				t.Fatalf("Decode = %#v, want error %s", msg, tc.code)
			}
			if msg != nil {
				t.Errorf("Decode returned message %#v with error", msg)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a *DecodeError", err, err)
			}
			if de.Code != tc.code {
				t.Errorf("Code = %q, want %q (message %q)", de.Code, tc.code, de.Message)
			}
			if de.Ref != tc.ref {
				t.Errorf("Ref = %q, want %q", de.Ref, tc.ref)
			}
			if de.Message == "" {
				t.Error("Message is empty")
			}
			if !strings.Contains(de.Message, tc.contains) {
				t.Errorf("Message = %q, want it to contain %q", de.Message, tc.contains)
			}
			if got, want := err.Error(), de.Code+": "+de.Message; got != want {
				t.Errorf("Error() = %q, want %q", got, want)
			}
		})
	}
}

func TestNormalizeRoom(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"a", "a", true},
		{"Z", "z", true},
		{"7", "7", true},
		{"MixedCase-Room_1", "mixedcase-room_1", true},
		{"0day", "0day", true},
		{"a-", "a-", true},
		{"a_", "a_", true},
		{"a--__b", "a--__b", true},
		{strings.Repeat("x", 64), strings.Repeat("x", 64), true},
		{strings.Repeat("X", 64), strings.Repeat("x", 64), true},

		{"", "", false},
		{strings.Repeat("x", 65), "", false},
		{"-a", "", false},
		{"_a", "", false},
		{"-", "", false},
		{"a.b", "", false}, // NATS token separator
		{"*", "", false},   // NATS wildcard
		{"a*", "", false},
		{">", "", false}, // NATS wildcard
		{"a>", "", false},
		{"a b", "", false},
		{" a", "", false},
		{"a\t", "", false},
		{"a/b", "", false},
		{"a%20", "", false},
		{"a\x00", "", false},
		{"café", "", false},
		{"ä", "", false},
		{"Ω", "", false},
		{"\u0131", "", false}, // dotless i: a letter, not ASCII
		{"\u212a", "", false}, // Kelvin sign: lower-cases to ASCII 'k'
		{"\uff11", "", false}, // fullwidth digit: unicode.IsDigit, not ASCII
		{"a\xff", "", false},
		{"\xc3", "", false},
		{strings.Repeat("é", 32), "", false}, // 64 bytes of non-ASCII
	}
	for _, tc := range tests {
		got, err := NormalizeRoom(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("NormalizeRoom(%q) = %q, %v; want %q, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeRoom(%q) = %q, nil; want error", tc.in, got)
			continue
		}
		if err.Code != CodeInvalidRoom || err.Message == "" || got != "" {
			t.Errorf("NormalizeRoom(%q) = %q, %+v; want \"\", code %s", tc.in, got, err, CodeInvalidRoom)
		}
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Ada", "Ada", true},
		{"  Ada Lovelace\t\n", "Ada Lovelace", true},
		{"\u00a0Ada\u3000", "Ada", true}, // Unicode spaces trimmed too
		{"Zoë 🎉", "Zoë 🎉", true},
		{"<b>x</b> & 'y'", "<b>x</b> & 'y'", true},
		{strings.Repeat("n", 64), strings.Repeat("n", 64), true},
		{strings.Repeat("世", 64), strings.Repeat("世", 64), true},
		{"  " + strings.Repeat("n", 64) + "  ", strings.Repeat("n", 64), true}, // length counts after trimming

		{"", "", false},
		{"   ", "", false},
		{"\t\r\n", "", false},
		{strings.Repeat("n", 65), "", false},
		{strings.Repeat("世", 65), "", false},
		{"a\x00b", "", false},
		{"a\x1bb", "", false},
		{"a\tb", "", false},
		{"a\u0085b", "", false},
		{"a\u202eb", "", false}, // right-to-left override
		{"a\xffb", "", false},
		{"\xc3", "", false},
	}
	for _, tc := range tests {
		got, err := NormalizeName(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("NormalizeName(%q) = %q, %v; want %q, nil", tc.in, got, err, tc.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeName(%q) = %q, nil; want error", tc.in, got)
			continue
		}
		if err.Code != CodeInvalidName || err.Message == "" || got != "" {
			t.Errorf("NormalizeName(%q) = %q, %+v; want \"\", code %s", tc.in, got, err, CodeInvalidName)
		}
	}
	if _, err := NormalizeName("a\xffb"); err == nil || !strings.Contains(err.Message, "UTF-8") {
		t.Errorf("NormalizeName(invalid UTF-8) = %v, want an error about UTF-8", err)
	}
}

func TestFromClient(t *testing.T) {
	want := map[string]bool{
		TypeJoin:               true,
		TypeJoined:             false,
		TypeParticipantJoined:  false,
		TypeParticipantLeft:    false,
		TypeParticipantUpdated: false,
		TypeOffer:              true,
		TypeAnswer:             true,
		TypeCandidate:          true,
		TypeMute:               true,
		TypeLeave:              true,
		TypeClosed:             false,
		TypePing:               true,
		TypePong:               false,
		TypeError:              false,
		"":                     false,
		"JOIN":                 false,
		"dance":                false,
	}
	for _, typ := range allTypes {
		if _, ok := want[typ]; !ok {
			t.Errorf("type %q missing from the test table", typ)
		}
	}
	for typ, w := range want {
		if got := FromClient(typ); got != w {
			t.Errorf("FromClient(%q) = %v, want %v", typ, got, w)
		}
	}
}

func TestTypeOf(t *testing.T) {
	tests := []struct {
		msg  any
		want string
	}{
		{&Join{Type: TypeJoin}, TypeJoin},
		{&Joined{Type: TypeJoined}, TypeJoined},
		{&ParticipantJoined{Type: TypeParticipantJoined}, TypeParticipantJoined},
		{&ParticipantLeft{Type: TypeParticipantLeft}, TypeParticipantLeft},
		{&ParticipantUpdated{Type: TypeParticipantUpdated}, TypeParticipantUpdated},
		{&SessionDescription{Type: TypeOffer}, TypeOffer},
		{&SessionDescription{Type: TypeAnswer}, TypeAnswer},
		{&Trickle{Type: TypeCandidate}, TypeCandidate},
		{&Mute{Type: TypeMute}, TypeMute},
		{&Leave{Type: TypeLeave}, TypeLeave},
		{&Closed{Type: TypeClosed}, TypeClosed},
		{&Ping{Type: TypePing}, TypePing},
		{&Pong{Type: TypePong}, TypePong},
		{&Error{Type: TypeError}, TypeError},
		// TypeOf reports the field, not what the struct is for.
		{&Ping{Type: "odd"}, "odd"},
		{&Join{}, ""},
		// Only pointers to message structs have a type.
		{Join{Type: TypeJoin}, ""},
		{Participant{ID: "join"}, ""},
		{"join", ""},
		{nil, ""},
	}
	for _, tc := range tests {
		if got := TypeOf(tc.msg); got != tc.want {
			t.Errorf("TypeOf(%#v) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestDecodeErrorReply(t *testing.T) {
	de := &DecodeError{Code: CodeInvalidRoom, Message: "bad room", Ref: TypeJoin}
	want := Error{Type: TypeError, Code: CodeInvalidRoom, Message: "bad room", Ref: TypeJoin}
	if got := de.Reply(); got != want {
		t.Errorf("Reply() = %+v, want %+v", got, want)
	}
}

func TestAsDecodeError(t *testing.T) {
	de := &DecodeError{Code: CodeBadField, Message: "m"}
	if got := AsDecodeError(de); got != de {
		t.Errorf("AsDecodeError(de) = %p, want the same %p", got, de)
	}
	wrapped := errors.Join(errors.New("context"), de)
	if got := AsDecodeError(wrapped); got != de {
		t.Errorf("AsDecodeError(wrapped) = %+v, want the wrapped %+v", got, de)
	}
	got := AsDecodeError(errors.New("disk on fire"))
	if got.Code != CodeInternal || got.Message != "disk on fire" {
		t.Errorf("AsDecodeError(plain) = %+v, want code %s with the error's text", got, CodeInternal)
	}
}
