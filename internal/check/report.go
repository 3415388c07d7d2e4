package check

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/parley/parley/client"
)

// pathOrder is the order in which ICE prefers the paths that work: direct
// before relayed, UDP before TCP (host candidates outrank relayed ones,
// and ICE-TCP's rank lower than UDP's).
var pathOrder = []struct{ item, path string }{
	{ItemUDP, client.PathUDP},
	{ItemICETCP, client.PathTCP},
	{ItemTURNUDP, client.PathRelayUDP},
	{ItemTURNTCP, client.PathRelayTCP},
	{ItemTURNTLS, client.PathRelayTLS},
}

func works(it Item) bool { return it.Status == Pass || it.Status == Warn }

// bestPath is the path a participant here would use: the first that works
// in ICE's order, "" when none does.
func (r *Report) bestPath() string {
	_, path := r.best()
	return path
}

func (r *Report) best() (Item, string) {
	for _, p := range pathOrder {
		if it, ok := r.Item(p.item); ok && works(it) {
			return it, p.path
		}
	}
	return Item{}, ""
}

// adviseFallback adds to a failed UDP item which path calls fall back to.
func adviseFallback(r *Report) {
	for i, it := range r.Items {
		if it.ID != ItemUDP || it.Status != Fail {
			continue
		}
		fb, path := r.best()
		switch {
		case path == "":
			r.Items[i].Advice += " No other media path gets through either: calls cannot work from here until one is opened."
		default:
			r.Items[i].Advice += fmt.Sprintf(" Meanwhile calls still work: they fall back to %s, with more delay "+
				"and more stutter on a lossy link.", pathLabel(fb))
		}
	}
}

// pathLabel names a path item for a sentence, with its port:
// "media over TCP 443 (ICE-TCP)", "TURN over TLS 443".
func pathLabel(it Item) string {
	if rest, ok := strings.CutPrefix(it.Name, "Media"); ok {
		return "media" + rest
	}
	return it.Name
}

// finish decides whether a call can work and sums the report up.
func (r *Report) finish() {
	sig, _ := r.Item(ItemSignaling)
	fb, path := r.best()
	r.Path = path
	r.CanCall = works(sig) && path != ""
	switch {
	case !works(sig):
		var failed Item
		for _, it := range r.Items {
			if it.Status == Fail && it.ID != ItemTLS {
				failed = it
				break
			}
		}
		r.Summary = fmt.Sprintf("Calls cannot work from here: %s failed.", failed.Name)
	case path == "":
		r.Summary = "Calls cannot work from here: no media path gets through (UDP, TCP and TURN all failed)."
	case path == client.PathUDP:
		r.Summary = "Calls will work from here, with " + pathLabel(fb) + ", the best path."
	default:
		r.Summary = "Calls will work from here, but over a fallback: " + pathLabel(fb) + ", as UDP media does not get through."
	}
	if r.CanCall {
		var problems []string
		for _, id := range []string{ItemRTT, ItemJitter, ItemLoss, ItemMTU, ItemTLS} {
			if it, ok := r.Item(id); ok && (it.Status == Warn || it.Status == Fail) {
				problems = append(problems, it.Name)
			}
		}
		if len(problems) > 0 {
			r.Summary += " Expect trouble with: " + strings.Join(problems, ", ") + " (see the advice above)."
		}
	}
}

// WriteJSON writes the report as one JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table for people, with the advice under
// the item it belongs to.
func WriteText(w io.Writer, r *Report) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Parley network check of %s\n\n", r.URL)
	width := 0
	for _, it := range r.Items {
		width = max(width, len(it.Name))
	}
	indent := strings.Repeat(" ", 2+4+2+width+2)
	for _, it := range r.Items {
		fmt.Fprintf(&b, "  %-4s  %-*s  %s\n", it.Status, width, it.Name, it.Detail)
		if it.Advice != "" && it.Status != Pass {
			for _, line := range wrap("→ "+it.Advice, 100-len(indent)) {
				fmt.Fprintf(&b, "%s%s\n", indent, line)
			}
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary)
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) []string {
	width = max(width, 40)
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = "  " + word // under the arrow
			continue
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
