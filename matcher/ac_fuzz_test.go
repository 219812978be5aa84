package matcher

import (
	"errors"
	"slices"
	"testing"
)

// acFuzzPatterns decodes patterns from b: each is a length byte, of which
// the low four bits count the pattern's bytes (0 gives an empty pattern),
// followed by that many bytes.
func acFuzzPatterns(b []byte) [][]byte {
	var ps [][]byte
	for len(b) > 0 {
		n := min(int(b[0]&15), len(b)-1)
		ps = append(ps, b[1:1+n])
		b = b[1+n:]
	}
	return ps
}

func FuzzAC(f *testing.F) {
	f.Add([]byte("\x03abc\x03bcd\x03cde"), []byte("abcde"))
	f.Add([]byte("\x0ahttp://a/x\x0chttp://a/x/y\x03a/x"), []byte("GET HTTP://A/x/y?r=http://a/x"))
	f.Add([]byte("\x01a\x02aa\x03aaa\x02aa"), []byte("aAaAa"))
	f.Add([]byte("\x02\xff\x00\x02\xc3\xa9\x01\x80"), []byte("\xc3\x89\xc3\xa9\xff\x00\x80"))
	f.Add([]byte("\x01a\x00\x01b"), []byte("ab"))
	f.Add([]byte(""), []byte("abc"))
	// URLs of the shared corpus, as patterns of up to 15 bytes (the
	// encoding's bound) and as haystacks.
	_, urls, _ := corpusTokens(60)
	for i := 0; i+1 < len(urls); i += 2 {
		var pats []byte
		for _, u := range urls[i : i+2] {
			p := u[len(u)-min(len(u), 15):]
			pats = append(append(pats, byte(len(p))), p...)
		}
		f.Add(pats, []byte(urls[i]+" "+urls[i+1]))
	}
	f.Fuzz(func(t *testing.T, pats, hay []byte) {
		// Bounded so that the output, up to patterns × hay bytes, stays
		// small enough for many runs a second.
		pats, hay = pats[:min(len(pats), 256)], hay[:min(len(hay), 1024)]
		ps := acFuzzPatterns(pats)
		empty := slices.ContainsFunc(ps, func(p []byte) bool { return len(p) == 0 })
		for _, c := range acTestConfigs {
			a, err := compileAC(ps, c.cfg)
			if empty {
				var be *BuildError
				if !errors.As(err, &be) {
					t.Fatalf("%s: patterns %q: err = %v, want *BuildError", c.name, ps, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: patterns %q: %v", c.name, ps, err)
			}
			if a.Len() != len(ps) {
				t.Fatalf("%s: Len = %d, want %d", c.name, a.Len(), len(ps))
			}
			got := a.AppendMatches(nil, hay)
			if want := acRefMatches(ps, hay); !slices.Equal(got, want) {
				t.Fatalf("%s: patterns %q\nhay %q\ngot  %v\nwant %v", c.name, ps, hay, got, want)
			}
		}
	})
}
