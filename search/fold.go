package search

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// letters that do not decompose into a base letter and a mark.
var foldSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ı': "i", 'þ': "th",
}

// foldTable folds the letters of Latin-1 and Latin Extended-A/B, computed once from their
// canonical decompositions.
var foldTable = func() map[rune]string {
	t := map[rune]string{}
	for r := rune(0x80); r < 0x250; r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		t[r] = foldSlow(string(r))
	}
	return t
}()

// Fold lowercases s and strips its diacritics: "Școala" and "ŞCOALA" fold to "scoala", "Été"
// to "ete". Both the comma-below (ș ț) and cedilla (ş ţ) forms of Romanian letters fold alike.
func Fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch f, ok := foldTable[r]; {
		case r < utf8.RuneSelf:
			b.WriteRune(unicode.ToLower(r))
		case ok:
			b.WriteString(f)
		default:
			b.WriteString(foldSlow(s[i:]))
			return b.String()
		}
	}
	return b.String()
}

// foldSlow folds any text through its canonical decomposition.
func foldSlow(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		r = unicode.ToLower(r)
		if sp, ok := foldSpecial[r]; ok {
			b.WriteString(sp)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Words folds s and splits it into its words: runs of letters and digits.
func Words(s string) []string {
	return strings.FieldsFunc(Fold(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// maxEdits is the typo tolerance of a query word: one edit from 4 letters, two from 8.
func maxEdits(w []rune) int {
	switch {
	case len(w) >= 8:
		return 2
	case len(w) >= 4:
		return 1
	}
	return 0
}

// withinEdits reports whether a and b are at most k edits apart, an edit being an insertion, a
// deletion, a substitution or the swap of two neighbouring letters (optimal string alignment).
func withinEdits(a, b []rune, k int) bool {
	if d := len(a) - len(b); d > k || -d > k {
		return false
	}
	// Three rows of the dynamic programme: i-2, i-1, i.
	n := len(b)
	var buf [3 * 33]int
	var rows []int
	if 3*(n+1) <= len(buf) {
		rows = buf[:3*(n+1)]
	} else {
		rows = make([]int, 3*(n+1))
	}
	pp, prev, cur := rows[:n+1], rows[n+1:2*(n+1)], rows[2*(n+1):]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= n; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, pp[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > k {
			return false
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[n] <= k
}
