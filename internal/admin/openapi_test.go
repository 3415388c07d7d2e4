package admin

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/parley/parley/internal/busmsg"
	"github.com/parley/parley/protocol"
)

// doc is docs/openapi.yaml, decoded.
func loadDoc(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("docs/openapi.yaml is not YAML: %v", err)
	}
	return doc
}

// at walks a path of keys through the decoded document.
func at(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("docs/openapi.yaml: %s is not a mapping", strings.Join(keys, "."))
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("docs/openapi.yaml: no mapping at %s", strings.Join(keys, "."))
	}
	return m
}

// The document and the handler's routes must not drift apart.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadDoc(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
		t.Errorf("openapi: %q, want 3.0.x", v)
	}
	servers, _ := doc["servers"].([]any)
	if len(servers) != 1 || at(t, servers[0])["url"] != Prefix {
		t.Errorf("servers: %v, want one with url %s", servers, Prefix)
	}
	if bearer := at(t, doc, "components", "securitySchemes", "bearer"); bearer["type"] != "http" || bearer["scheme"] != "bearer" {
		t.Errorf("the bearer security scheme is %v", bearer)
	}

	inDoc := map[string]bool{}
	for path, item := range at(t, doc, "paths") {
		for method, op := range item.(map[string]any) {
			if method == "parameters" {
				continue
			}
			inDoc[strings.ToUpper(method)+" "+path] = true
			responses := at(t, op, "responses")
			if _, ok := responses["401"]; !ok {
				t.Errorf("%s %s documents no 401", method, path)
			}
		}
	}
	inCode := map[string]bool{}
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		inCode[key] = true
		if !inDoc[key] {
			t.Errorf("route %s is not in docs/openapi.yaml", key)
		}
	}
	for key := range inDoc {
		if !inCode[key] {
			t.Errorf("docs/openapi.yaml documents %s, which the handler does not serve", key)
		}
	}
}

// Every $ref points at something in the document.
func TestOpenAPIRefsResolve(t *testing.T) {
	doc := loadDoc(t)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if ref, ok := x.(string); k == "$ref" && ok {
					keys := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
					if !strings.HasPrefix(ref, "#/") {
						t.Errorf("$ref %q is not local", ref)
					} else {
						at(t, doc, keys...)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
}

// The schemas list the JSON fields of the types the handler encodes and
// decodes.
func TestOpenAPISchemasMatchTypes(t *testing.T) {
	doc := loadDoc(t)
	for name, typ := range map[string]reflect.Type{
		"RoomInfo":     reflect.TypeFor[busmsg.RoomInfo](),
		"Participant":  reflect.TypeFor[protocol.Participant](),
		"RoomList":     reflect.TypeFor[roomsReply](),
		"TokenRequest": reflect.TypeFor[tokenRequest](),
		"Token":        reflect.TypeFor[tokenReply](),
		"Error":        reflect.TypeFor[errorBody](),
	} {
		var want []string
		for f := range typ.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag != "" && tag != "-" {
				want = append(want, tag)
			}
		}
		var got []string
		for prop := range at(t, doc, "components", "schemas", name, "properties") {
			got = append(got, prop)
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("schema %s has properties %v; the Go type %s has %v", name, got, typ, want)
		}
	}
}
