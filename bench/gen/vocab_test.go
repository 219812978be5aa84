package gen

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// noiseWords is every fixed string that can land in a noise record.
func noiseWords() []string {
	var w []string
	w = append(w, noiseHosts...)
	w = append(w, noiseSubdomains...)
	w = append(w, noiseZones...)
	w = append(w, pathWords...)
	w = append(w, fileExts...)
	w = append(w, queryKeys...)
	w = append(w, userNames...)
	w = append(w, userAgents...)
	for _, p := range processes {
		w = append(w, p.file, p.parent, p.cmd)
	}
	w = append(w, panActions...)
	w = append(w, panApps...)
	w = append(w, fortiServices...)
	w = append(w, cpRules...)
	w = append(w, urlCategories...)
	w = append(w, countries...)
	w = append(w, deviceNames...)
	for _, h := range vendorHeaders {
		w = append(w, h.vendor, h.product, h.version, h.class, h.name, h.severity)
	}
	return w
}

var dottedQuad = regexp.MustCompile(`[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+`)

func TestVocabularyIsClean(t *testing.T) {
	for _, w := range noiseWords() {
		if dottedQuad.MatchString(w) {
			t.Errorf("%q holds a dotted quad", w)
		}
		for _, tld := range domainTLDs {
			if strings.Contains(strings.ToLower(w), "."+tld) {
				t.Errorf("%q holds .%s, a domain indicator TLD", w, tld)
			}
		}
		if strings.Contains(w, "http") && strings.Contains(w, "://") {
			t.Errorf("%q holds a URL", w)
		}
	}
	for _, h := range append(append([]string{}, noiseHosts...), noiseZones...) {
		last := h[strings.LastIndexByte(h, '.')+1:]
		if slices.Contains(urlTLDs, last) || slices.Contains(domainTLDs, last) {
			t.Errorf("noise host %q ends in an indicator TLD", h)
		}
	}
	for _, tld := range urlTLDs {
		if slices.Contains(domainTLDs, tld) {
			t.Errorf("%q is both a URL host and a domain TLD", tld)
		}
	}
}

func TestAddressSpaces(t *testing.T) {
	spaces := map[string][]byte{"ip": ipOctets, "ip:port": ipPortOctets, "url": urlOctets, "cidr": cidrOctets}
	noise := []byte{10, 172, 192, 198}
	seen := map[byte]string{}
	for name, s := range spaces {
		for _, o := range s {
			if prev, dup := seen[o]; dup {
				t.Errorf("first octet %d in both %s and %s", o, prev, name)
			}
			seen[o] = name
			if slices.Contains(noise, o) || o == 0 || o == 127 || o >= 224 {
				t.Errorf("first octet %d of %s is a noise or reserved octet", o, name)
			}
			if name != "cidr" && o < 100 {
				t.Errorf("first octet %d of %s is not three digits long", o, name)
			}
		}
	}
	for _, o := range noisePublicOctets {
		if slices.Contains(cidrOctets, o) {
			t.Errorf("public noise octet %d is a CIDR octet", o)
		}
	}
}

func TestRandomIn(t *testing.T) {
	r := newRNG(1, 1)
	for _, s := range []string{"1.2.0.0/16", "45.3.7.16/28", "9.0.0.0/8", "2a10:1:2::/48", "2a1f:5::/32"} {
		p := netip.MustParsePrefix(s)
		for range 100 {
			if a := randomIn(r, p); !p.Contains(a) {
				t.Fatalf("randomIn(%s) = %s", p, a)
			}
		}
	}
}

func TestURLHit(t *testing.T) {
	ind := &indicators{urlSet: map[string]struct{}{}, domSet: map[string]struct{}{"evil.top": {}}}
	for _, u := range []string{"http://1.2.3.4/Sakura.sh", "https://a.shop/x/"} {
		ind.urlSet[strings.ToLower(u)] = struct{}{}
		ind.urlMax = max(ind.urlMax, len(u))
	}
	for _, c := range []struct {
		v    string
		want bool
	}{
		{"http://1.2.3.4/Sakura.sh", true},
		{"HTTP://1.2.3.4/sakura.sh?arch=mips", true},
		{"http://1.2.3.4/Sakura.shell", false},
		{"xhttp://1.2.3.4/Sakura.sh", false},
		{"https://a.shop/x/y", true},
		{"https://a.shop/x", false},
	} {
		if got := ind.urlHit(c.v); got != c.want {
			t.Errorf("urlHit(%q) = %v, want %v", c.v, got, c.want)
		}
	}
	for _, c := range []struct {
		h    string
		want bool
	}{{"evil.top", true}, {"www.EVIL.top.", true}, {"xevil.top", false}, {"evil.top.example.net", false}} {
		if got := ind.hostHit(c.h); got != c.want {
			t.Errorf("hostHit(%q) = %v, want %v", c.h, got, c.want)
		}
	}
}

func TestIntn(t *testing.T) {
	r := newRNG(7, 7)
	var counts [3]int
	for range 30000 {
		counts[r.intn(3)]++
	}
	for i, c := range counts {
		if c < 9000 || c > 11000 {
			t.Errorf("intn(3) gave %d %d times of 30000", i, c)
		}
	}
}
