package gen

import (
	"math/bits"
	"math/rand/v2"
)

// rng draws everything the generator needs from one PCG stream. It uses
// only PCG.Uint64, whose output the math/rand/v2 documentation fixes, and
// derives bounded integers itself, so that a seed gives the same bytes with
// every Go release.
type rng struct {
	p *rand.PCG
}

func newRNG(seed, stream uint64) *rng {
	return &rng{p: rand.NewPCG(seed, stream)}
}

func (r *rng) uint64() uint64 { return r.p.Uint64() }

// intn returns a uniform integer in [0, n) by Lemire's multiply-and-reject
// method. n must be positive.
func (r *rng) intn(n int) int {
	if n <= 0 {
		panic("BUG: intn of a non-positive bound")
	}
	un := uint64(n)
	hi, lo := bits.Mul64(r.uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.uint64(), un)
		}
	}
	return int(hi)
}

// rangeIn returns a uniform integer in [lo, hi].
func (r *rng) rangeIn(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool {
	return float64(r.uint64()>>11)*(1.0/(1<<53)) < p
}

// pick returns a uniform element of s.
func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// weighted returns an index drawn with the given integer weights.
func (r *rng) weighted(w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := r.intn(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	panic("BUG: weighted draw out of range")
}

const hexDigits = "0123456789abcdef"

// appendHex appends n random lower-case hex digits.
func (r *rng) appendHex(dst []byte, n int) []byte {
	for n > 0 {
		v := r.uint64()
		for i := 0; i < 16 && n > 0; i++ {
			dst = append(dst, hexDigits[v&15])
			v >>= 4
			n--
		}
	}
	return dst
}

const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

// appendLabel appends a random host label of n bytes: lower-case letters
// and digits, starting with a letter.
func (r *rng) appendLabel(dst []byte, n int) []byte {
	dst = append(dst, lowerAlnum[r.intn(26)])
	for i := 1; i < n; i++ {
		dst = append(dst, lowerAlnum[r.intn(len(lowerAlnum))])
	}
	return dst
}
