package media

// Layer is one simulcast layer of a video source.
type Layer struct {
	Height  int
	Bitrate int  // bps; measured or nominal
	Active  bool // the publisher is sending it
}

// Source is one video source a receiver may get.
type Source struct {
	ID     string
	Owner  string // participant
	Screen bool
	Layers []Layer // ascending height
}

// Constraints are what the receiver asked for. Note that the zero value
// forwards nothing (LastN 0, DefaultMaxHeight 0); Unconstrained is the
// value that limits nothing.
type Constraints struct {
	LastN            int            // how many sources at most; < 0 unlimited
	OnStage          []string       // source ids, priority order
	MaxHeight        map[string]int // per source; absent → DefaultMaxHeight
	DefaultMaxHeight int            // < 0 unlimited; 0 = no video
}

// Unconstrained returns constraints that limit neither the number of
// sources nor their height.
func Unconstrained() Constraints {
	return Constraints{LastN: -1, DefaultMaxHeight: -1}
}

// AllocInput is everything Allocate decides from.
type AllocInput struct {
	Sources     []Source // join order
	Speakers    []string // owner ids, most recent/dominant first
	Constraints Constraints
	Budget      int // bps
}

// Allocation is the layer of each source a receiver gets.
type Allocation struct {
	Layers    map[string]int // source id → layer index; -1 not forwarded
	Order     []string       // sources in priority order
	Forwarded []string       // ids forwarded, in priority order
	Suspended []string       // within last-N but not forwarded for lack of bandwidth
	Used      int            // bps
}

// Allocate decides which layer of each source a receiver gets within its
// bandwidth budget.
//
// Sources are ranked: on-stage sources in the order given, then screen
// shares, then sources of recent speakers in speaker order, then the rest
// in join order; only the first LastN of them are candidates. Each
// candidate may go up to the highest active layer within its max height
// (or its lowest active layer if even that is taller; none if the max
// height is 0).
//
// The budget is spent greedily, the stage first: on-stage sources get
// their lowest layer (the first one even over budget, so that the stage
// never goes black), then go as high as they may; the other candidates then
// get their lowest layer in rank order where it fits, and finally climb
// one layer at a time, round-robin in rank order, while anything fits.
// When nothing fits at all, the first candidate gets its lowest layer even
// over budget, as the stage does: a receiver is never left without video
// while the estimate is low (the bridge then thins its frame rate), and
// the stream keeps carrying the probes that let the estimate recover. A
// candidate left without a layer for lack of budget is Suspended.
func Allocate(in AllocInput) Allocation {
	order, onStage := rank(in)
	a := Allocation{Layers: make(map[string]int, len(in.Sources)), Order: make([]string, len(order))}
	type cand struct {
		src      *Source
		cur, top int // layer given (-1 none) and highest allowed
		stage    bool
	}
	cands := make([]cand, 0, len(order))
	for i, s := range order {
		a.Order[i] = s.ID
		a.Layers[s.ID] = -1
		if c := in.Constraints.LastN; c >= 0 && i >= c {
			continue
		}
		if top := topLayer(s, in.Constraints.maxHeight(s.ID)); top >= 0 {
			cands = append(cands, cand{src: s, cur: -1, top: top, stage: i < onStage})
		}
	}
	budget := in.Budget
	// fits gives c layer l if the extra bitrate fits the budget.
	fits := func(c *cand, l int, force bool) bool {
		extra := c.src.Layers[l].Bitrate
		if c.cur >= 0 {
			extra -= c.src.Layers[c.cur].Bitrate
		}
		if !force && a.Used+extra > budget {
			return false
		}
		a.Used += extra
		c.cur = l
		return true
	}
	first := true
	for i := range cands { // the stage's lowest layers
		if c := &cands[i]; c.stage {
			fits(c, nextActive(c.src, -1, c.top), first)
			first = false
		}
	}
	for i := range cands { // the stage as high as it may go
		c := &cands[i]
		for c.stage && c.cur >= 0 {
			l := nextActive(c.src, c.cur, c.top)
			if l < 0 || !fits(c, l, false) {
				break
			}
		}
	}
	for i := range cands { // the others' lowest layers
		if c := &cands[i]; !c.stage {
			fits(c, nextActive(c.src, -1, c.top), false)
		}
	}
	if first && len(cands) > 0 { // no stage
		forced := true
		for i := range cands {
			if cands[i].cur >= 0 {
				forced = false
				break
			}
		}
		if forced {
			fits(&cands[0], nextActive(cands[0].src, -1, cands[0].top), true)
		}
	}
	for more := true; more; { // the others, a layer at a time
		more = false
		for i := range cands {
			c := &cands[i]
			if c.stage || c.cur < 0 {
				continue
			}
			if l := nextActive(c.src, c.cur, c.top); l >= 0 && fits(c, l, false) {
				more = true
			}
		}
	}
	for _, c := range cands {
		a.Layers[c.src.ID] = c.cur
		if c.cur >= 0 {
			a.Forwarded = append(a.Forwarded, c.src.ID)
		} else {
			a.Suspended = append(a.Suspended, c.src.ID)
		}
	}
	return a
}

// rank orders the sources by priority and returns how many of the first
// are on stage.
func rank(in AllocInput) ([]*Source, int) {
	byID := make(map[string]*Source, len(in.Sources))
	for i := range in.Sources {
		if _, dup := byID[in.Sources[i].ID]; !dup {
			byID[in.Sources[i].ID] = &in.Sources[i]
		}
	}
	order := make([]*Source, 0, len(byID))
	placed := make(map[string]bool, len(byID))
	place := func(s *Source) {
		if s != nil && !placed[s.ID] {
			placed[s.ID] = true
			order = append(order, s)
		}
	}
	for _, id := range in.Constraints.OnStage {
		place(byID[id])
	}
	onStage := len(order)
	for i := range in.Sources {
		if in.Sources[i].Screen {
			place(byID[in.Sources[i].ID])
		}
	}
	for _, owner := range in.Speakers {
		for i := range in.Sources {
			if in.Sources[i].Owner == owner {
				place(byID[in.Sources[i].ID])
			}
		}
	}
	for i := range in.Sources {
		place(byID[in.Sources[i].ID])
	}
	return order, onStage
}

func (c Constraints) maxHeight(id string) int {
	if h, ok := c.MaxHeight[id]; ok {
		return h
	}
	return c.DefaultMaxHeight
}

// topLayer is the highest active layer no taller than maxHeight, or the
// lowest active layer if all are taller; -1 if none is active or
// maxHeight is 0.
func topLayer(s *Source, maxHeight int) int {
	if maxHeight == 0 {
		return -1
	}
	top, lowest := -1, -1
	for i, l := range s.Layers {
		if !l.Active {
			continue
		}
		if lowest < 0 {
			lowest = i
		}
		if maxHeight < 0 || l.Height <= maxHeight {
			top = i
		}
	}
	if top < 0 {
		return lowest
	}
	return top
}

// nextActive is the first active layer above cur, up to top; -1 if none.
func nextActive(s *Source, cur, top int) int {
	for l := cur + 1; l <= top; l++ {
		if s.Layers[l].Active {
			return l
		}
	}
	return -1
}
