// Package search finds places in the live city by what a citizen types: addresses, streets,
// squares, districts, public facilities (by name or by kind, in Romanian or English), named
// green spaces and parcels by cadastral number. The index is built in memory from a
// spatial.City; matching ignores case and diacritics, takes each word as a prefix and forgives
// a typo.
package search

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/paulmach/orb"

	"github.com/citytwin/citytwin/spatial"
)

// The kinds of hit, in the order they rank when they match a query equally well.
const (
	KindDistrict = "district"
	KindStreet   = "street"
	KindPlace    = "place"
	KindFacility = "facility"
	KindPark     = "park"
	KindAddress  = "address"
	KindParcel   = "parcel"
)

var kindRank = map[string]uint8{
	KindDistrict: 0, KindStreet: 1, KindPlace: 2, KindFacility: 3, KindPark: 4, KindAddress: 5, KindParcel: 6,
}

// DefaultLimit is the number of hits a search returns unless asked for fewer or more.
const DefaultLimit = 10

// Hit is one thing found: its label, its kind, its category (the facility or green-space kind,
// "" for others), a point to show and the extent to fly to, in WGS84 (lon, lat).
type Hit struct {
	Label    string     `json:"label"`
	Kind     string     `json:"kind"`
	Category string     `json:"category,omitempty"`
	Point    orb.Point  `json:"point"`
	BBox     [4]float64 `json:"bbox"`
}

// kindWords are the words that find a facility or green space by its kind, in Romanian and
// English (folded when the index is built).
var kindWords = map[string]string{
	"kindergarten":   "grădiniță grădinițe kindergarten nursery",
	"school":         "școală școli școala school",
	"high_school":    "liceu licee high school lycée",
	"university":     "universitate universități university facultate",
	"hospital":       "spital spitale hospital",
	"clinic":         "clinică clinici policlinică dispensar clinic",
	"pharmacy":       "farmacie farmacii pharmacy chemist",
	"library":        "bibliotecă biblioteci library",
	"culture":        "cultură centru cultural muzeu teatru culture museum theatre",
	"sport":          "sport sală stadion bazin sports stadium pool",
	"citizen_center": "primărie centru cetățeni citizen centre center town hall",
	"public_wifi":    "wifi wi-fi internet",
	"park":           "parc parcuri park",
	"garden":         "grădină garden",
	"forest":         "pădure forest",
	"playground":     "loc de joacă playground",
	"square":         "scuar piață square",
}

// kindLabels name an unnamed facility or green space.
var kindLabels = map[string]string{
	"kindergarten": "Kindergarten", "school": "School", "high_school": "High school",
	"university": "University", "hospital": "Hospital", "clinic": "Clinic", "pharmacy": "Pharmacy",
	"library": "Library", "culture": "Culture", "sport": "Sport", "citizen_center": "Citizen centre",
	"public_wifi": "Public Wi-Fi",
}

// placeWords begin the names of squares rather than streets.
var placeWords = map[string]bool{"place": true, "piata": true, "plaza": true, "piazza": true, "square": true, "scuar": true, "largo": true}

// entry is one searchable thing: its hit, the vocabulary ids of its name's words and of its
// kind's words.
type entry struct {
	hit   Hit
	words []int32
	kind  []int32
	rank  uint8
}

// Index is the search index of one city. It is read-only once built and safe for concurrent
// searches.
type Index struct {
	entries  []entry          // in ranking order: by kind, then shorter label, then label
	labels   map[uint64]int32 // hash of an entry's words → the first entry with those words
	sameKey  []int32          // the next entry with the same words' hash, -1 at the end
	vocab    []string         // distinct words, sorted
	postings [][]int32        // per vocabulary word, the entries that have it
	alpha    []int32          // the vocabulary words without a digit, candidates for typos
	alphaR   [][]rune         // their runes
	bits     sync.Pool        // *[]uint64 of len(entries) bits
}

// Len is the number of entries.
func (ix *Index) Len() int { return len(ix.entries) }

var last struct {
	mu   sync.Mutex
	city *spatial.City
	ix   *Index
}

// For returns the index of city, building it on the first call for that city and keeping it
// until a call for another (a reloaded model) replaces it.
func For(city *spatial.City) *Index {
	last.mu.Lock()
	defer last.mu.Unlock()
	if last.city != city {
		last.city, last.ix = city, Build(city)
	}
	return last.ix
}

// builder gathers the entries and their words.
type builder struct {
	ix     *Index
	vocab  map[string]int32
	groups map[string]int // kind + folded label: entries merged (a street of many ways)
}

func (b *builder) ids(words []string) []int32 {
	out := make([]int32, 0, len(words))
	for _, w := range words {
		id, ok := b.vocab[w]
		if !ok {
			id = int32(len(b.vocab))
			b.vocab[w] = id
		}
		out = append(out, id)
	}
	return out
}

func wgsBox(bd orb.Bound) [4]float64 { return [4]float64{bd.Min[0], bd.Min[1], bd.Max[0], bd.Max[1]} }

// add indexes label as a thing of kind at g (WGS84); with merge, things of one kind and one
// label are one entry whose extent covers them all.
func (b *builder) add(kind, category, label string, searchable string, g orb.Geometry, point orb.Point, merge bool) {
	words := Words(searchable)
	if len(words) == 0 {
		return
	}
	bd := g.Bound()
	if merge {
		key := kind + "\x00" + strings.Join(words, " ")
		if i, ok := b.groups[key]; ok {
			e := &b.ix.entries[i]
			old := orb.Bound{Min: orb.Point{e.hit.BBox[0], e.hit.BBox[1]}, Max: orb.Point{e.hit.BBox[2], e.hit.BBox[3]}}
			e.hit.BBox = wgsBox(old.Union(bd))
			return
		}
		b.groups[key] = len(b.ix.entries)
	}
	e := entry{hit: Hit{Label: label, Kind: kind, Category: category, Point: point, BBox: wgsBox(bd)}, words: b.ids(words), rank: kindRank[kind]}
	if category != "" {
		e.kind = b.ids(Words(kindWords[category]))
	}
	b.ix.entries = append(b.ix.entries, e)
}

func propString(props map[string]any, key string) string {
	s, _ := props[key].(string)
	return strings.TrimSpace(s)
}

// centroid is the WGS84 centroid of a WGS84 polygon, computed in the city's metric projection.
func centroid(proj spatial.Projection, it *spatial.Item) orb.Point {
	return proj.ToWGS84(it.Centroid)
}

// Build indexes a city: its districts, streets (squares apart), facilities, named green
// spaces, parcels by cadastral number and parcel addresses. Only public fields are read.
func Build(city *spatial.City) *Index {
	b := &builder{ix: &Index{}, vocab: map[string]int32{}, groups: map[string]int{}}
	proj := city.Proj
	if ix := city.Layer("districts"); ix != nil {
		for _, it := range ix.Items() {
			if name := propString(it.Feature.Props, "name"); name != "" {
				b.add(KindDistrict, "", name, name, it.Feature.Geometry, centroid(proj, it), false)
			}
		}
	}
	// Streets: one entry per name and kind, its extent every way of that name, its point the
	// vertex nearest the middle of that extent (on the street).
	type street struct {
		kind, name string
		bound      orb.Bound
		geoms      []orb.Geometry
	}
	var streets []*street
	byName := map[string]*street{}
	for _, f := range city.Streets {
		name := propString(f.Props, "name")
		words := Words(name)
		if len(words) == 0 {
			continue
		}
		kind := KindStreet
		if placeWords[words[0]] {
			kind = KindPlace
		}
		key := kind + "\x00" + strings.Join(words, " ")
		s, ok := byName[key]
		if !ok {
			s = &street{kind: kind, name: name, bound: f.Geometry.Bound()}
			byName[key] = s
			streets = append(streets, s)
		}
		s.bound = s.bound.Union(f.Geometry.Bound())
		s.geoms = append(s.geoms, f.Geometry)
	}
	for _, s := range streets {
		b.add(s.kind, "", s.name, s.name, s.bound, nearestVertex(proj, s.geoms, s.bound.Center()), false)
	}
	if ix := city.Layer("facilities"); ix != nil {
		for _, it := range ix.Items() {
			kind := propString(it.Feature.Props, "kind")
			name := propString(it.Feature.Props, "name")
			label := name
			if label == "" {
				label = cmp.Or(kindLabels[kind], kind)
			}
			b.add(KindFacility, kind, label, label, it.Feature.Geometry, centroid(proj, it), false)
		}
	}
	if ix := city.Layer("green_spaces"); ix != nil {
		for _, it := range ix.Items() {
			name := propString(it.Feature.Props, "name")
			if name == "" || it.Feature.Props["public"] == false {
				continue
			}
			b.add(KindPark, propString(it.Feature.Props, "kind"), name, name, it.Feature.Geometry, centroid(proj, it), false)
		}
	}
	if ix := city.Layer("parcels"); ix != nil {
		items := ix.Items()
		for _, it := range items {
			if addr := propString(it.Feature.Props, "address"); addr != "" {
				b.add(KindAddress, "", addr, addr, it.Feature.Geometry, centroid(proj, it), true)
			}
		}
		for _, it := range items {
			if cad := propString(it.Feature.Props, "cad_number"); cad != "" {
				b.add(KindParcel, "", cad, cad, it.Feature.Geometry, centroid(proj, it), false)
			}
		}
	}
	return b.finish()
}

// nearestVertex is the vertex of geoms nearest to p, measured in the metric projection.
func nearestVertex(proj spatial.Projection, geoms []orb.Geometry, p orb.Point) orb.Point {
	mp := proj.ToMetric(p)
	best, bestD := p, math.Inf(1)
	visit := func(ls orb.LineString) {
		for _, v := range ls {
			m := proj.ToMetric(v)
			if d := (m[0]-mp[0])*(m[0]-mp[0]) + (m[1]-mp[1])*(m[1]-mp[1]); d < bestD {
				best, bestD = v, d
			}
		}
	}
	for _, g := range geoms {
		switch t := g.(type) {
		case orb.LineString:
			visit(t)
		case orb.MultiLineString:
			for _, ls := range t {
				visit(ls)
			}
		}
	}
	return best
}

// finish sorts the vocabulary and renumbers the entries' words into it, then makes the
// postings.
func (b *builder) finish() *Index {
	ix := b.ix
	perm := make([]int32, len(ix.entries))
	for i := range perm {
		perm[i] = int32(i)
	}
	slices.SortFunc(perm, func(i, j int32) int {
		x, y := &ix.entries[i], &ix.entries[j]
		return cmp.Or(cmp.Compare(x.rank, y.rank), cmp.Compare(len(x.hit.Label), len(y.hit.Label)),
			strings.Compare(x.hit.Label, y.hit.Label), cmp.Compare(i, j))
	})
	ordered := make([]entry, len(ix.entries))
	for i, p := range perm {
		ordered[i] = ix.entries[p]
	}
	ix.entries = ordered
	ix.vocab = make([]string, len(b.vocab))
	for w, id := range b.vocab {
		ix.vocab[id] = w
	}
	order := make([]int32, len(ix.vocab))
	for i := range order {
		order[i] = int32(i)
	}
	sort.Slice(order, func(i, j int) bool { return ix.vocab[order[i]] < ix.vocab[order[j]] })
	renum := make([]int32, len(order))
	sorted := make([]string, len(order))
	for newID, oldID := range order {
		renum[oldID] = int32(newID)
		sorted[newID] = ix.vocab[oldID]
	}
	ix.vocab = sorted
	ix.postings = make([][]int32, len(ix.vocab))
	for i := range ix.entries {
		e := &ix.entries[i]
		for _, ws := range [][]int32{e.words, e.kind} {
			for j, w := range ws {
				ws[j] = renum[w]
			}
		}
		// A word twice in one entry posts it once.
		for _, ws := range [][]int32{e.words, e.kind} {
			for _, w := range ws {
				if p := ix.postings[w]; len(p) == 0 || p[len(p)-1] != int32(i) {
					ix.postings[w] = append(p, int32(i))
				}
			}
		}
	}
	ix.labels = make(map[uint64]int32, len(ix.entries))
	ix.sameKey = make([]int32, len(ix.entries))
	for i := len(ix.entries) - 1; i >= 0; i-- {
		k := wordsKey(ix.entries[i].words)
		next, ok := ix.labels[k]
		if !ok {
			next = -1
		}
		ix.sameKey[i], ix.labels[k] = next, int32(i)
	}
	for id, w := range ix.vocab {
		if !strings.ContainsFunc(w, func(r rune) bool { return r >= '0' && r <= '9' }) {
			ix.alpha = append(ix.alpha, int32(id))
			ix.alphaR = append(ix.alphaR, []rune(w))
		}
	}
	n := (len(ix.entries) + 63) / 64
	ix.bits.New = func() any { s := make([]uint64, n); return &s }
	return ix
}

// wordsKey hashes a sequence of vocabulary ids (FNV-1a).
func wordsKey(ws []int32) uint64 {
	h := uint64(14695981039346656037)
	for _, w := range ws {
		for k := 0; k < 4; k++ {
			h ^= uint64(byte(w >> (8 * k)))
			h *= 1099511628211
		}
	}
	return h
}

// Match qualities of a query word against an entry's word.
const (
	noMatch    = 0
	fuzzyMatch = 1
	prefixWord = 2
	exactWord  = 3
)

// wordMatch is what one query word matches in the vocabulary: exact (-1 if none), the range
// of words it begins [lo, hi), and the words within its typo tolerance.
type wordMatch struct {
	exact  int32
	lo, hi int32
	fuzzy  []int32 // sorted
	size   int     // postings reached, to pick the most selective word
}

func (ix *Index) matchWord(w string) wordMatch {
	lo := sort.SearchStrings(ix.vocab, w)
	hi := lo
	for hi < len(ix.vocab) && strings.HasPrefix(ix.vocab[hi], w) {
		hi++
	}
	m := wordMatch{exact: -1, lo: int32(lo), hi: int32(hi)}
	if lo < len(ix.vocab) && ix.vocab[lo] == w {
		m.exact = int32(lo)
	}
	for i := lo; i < hi; i++ {
		m.size += len(ix.postings[i])
	}
	wr := []rune(w)
	if k := maxEdits(wr); k > 0 {
		for i, id := range ix.alpha {
			if id >= m.lo && id < m.hi {
				continue
			}
			if withinEdits(wr, ix.alphaR[i], k) {
				m.fuzzy = append(m.fuzzy, id)
				m.size += len(ix.postings[id])
			}
		}
	}
	return m
}

func (m *wordMatch) quality(id int32) int {
	switch {
	case id == m.exact:
		return exactWord
	case id >= m.lo && id < m.hi:
		return prefixWord
	}
	if _, ok := sort.Find(len(m.fuzzy), func(i int) int { return cmp.Compare(id, m.fuzzy[i]) }); ok {
		return fuzzyMatch
	}
	return noMatch
}

// scored is a candidate with its ranking keys.
type scored struct {
	entry int32
	exact bool // the query is the whole name, word for word
	score int  // sum over the query's words of their best match quality
}

// better orders hits: the whole name first, then the better matched, then by kind, then the
// shorter label, then alphabetically (the order of the entries).
func (ix *Index) better(a, b scored) bool {
	if a.exact != b.exact {
		return a.exact
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.entry < b.entry // entries are in ranking order
}

// worstFirst is a heap of the best hits so far, the worst on top.
type worstFirst struct {
	ix *Index
	s  []scored
}

func (h *worstFirst) Len() int           { return len(h.s) }
func (h *worstFirst) Less(i, j int) bool { return h.ix.better(h.s[j], h.s[i]) }
func (h *worstFirst) Swap(i, j int)      { h.s[i], h.s[j] = h.s[j], h.s[i] }
func (h *worstFirst) Push(x any)         { h.s = append(h.s, x.(scored)) }
func (h *worstFirst) Pop() any           { x := h.s[len(h.s)-1]; h.s = h.s[:len(h.s)-1]; return x }

// Search returns up to limit hits for q, best first. Every word of q must match a word of the
// hit's name or kind: exactly, as its beginning, or within the typo tolerance (one edit for
// words of 4 letters or more, two from 8).
func (ix *Index) Search(q string, limit int) []Hit {
	words := Words(q)
	if len(words) == 0 || limit <= 0 || len(ix.entries) == 0 {
		return nil
	}
	ms := make([]wordMatch, len(words))
	first := 0
	for i, w := range words {
		ms[i] = ix.matchWord(w)
		if ms[i].size < ms[first].size {
			first = i
		}
	}
	if ms[first].size == 0 {
		return nil
	}
	bp := ix.bits.Get().(*[]uint64)
	bits := *bp
	defer func() {
		clear(bits)
		ix.bits.Put(bp)
	}()
	h := &worstFirst{ix: ix, s: make([]scored, 0, limit+1)}
	consider := func(e int32) {
		if bits[e>>6]&(1<<(e&63)) != 0 {
			return
		}
		bits[e>>6] |= 1 << (e & 63)
		s, ok := ix.score(e, ms)
		if !ok {
			return
		}
		if len(h.s) < limit {
			heap.Push(h, s)
		} else if ix.better(s, h.s[0]) {
			h.s[0] = s
			heap.Fix(h, 0)
		}
	}
	// The whole name, word for word, first: those entries rank above every other.
	ids := make([]int32, len(ms))
	for i := range ms {
		ids[i] = ms[i].exact
	}
	if !slices.Contains(ids, -1) {
		if e, ok := ix.labels[wordsKey(ids)]; ok {
			for ; e >= 0; e = ix.sameKey[e] {
				consider(e)
			}
		}
	}
	// Then the most selective word's matches, exact words first, then the words it begins,
	// then those within its typo tolerance. A posting is in ranking order, so once the kept
	// hits are full and the worst of them scores at least what the rest of this class can,
	// nothing further in the posting can beat it.
	m := &ms[first]
	n := len(ms)
	scan := func(posting []int32, quality int) {
		best := quality + exactWord*(n-1)
		for _, e := range posting {
			if len(h.s) == limit {
				if w := h.s[0]; w.exact || w.score > best || w.score == best && e > w.entry {
					return
				}
			}
			consider(e)
		}
	}
	if m.exact >= 0 {
		scan(ix.postings[m.exact], exactWord)
	}
	for id := m.lo; id < m.hi; id++ {
		if id != m.exact {
			scan(ix.postings[id], prefixWord)
		}
	}
	for _, id := range m.fuzzy {
		scan(ix.postings[id], fuzzyMatch)
	}
	out := make([]Hit, len(h.s))
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = ix.entries[heap.Pop(h).(scored).entry].hit
	}
	return out
}

// score matches every query word against an entry; ok is false when one matches none of its
// words.
func (ix *Index) score(e int32, ms []wordMatch) (scored, bool) {
	en := &ix.entries[e]
	s := scored{entry: e}
	allExact := len(ms) == len(en.words)
	for i := range ms {
		best := noMatch
		for _, w := range en.words {
			best = max(best, ms[i].quality(w))
		}
		if !allExact || en.words[i] != ms[i].exact {
			allExact = false
		}
		for _, w := range en.kind {
			best = max(best, ms[i].quality(w))
		}
		if best == noMatch {
			return s, false
		}
		s.score += best
	}
	s.exact = allExact
	return s, true
}
