package matcher

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// refHit is a hit named by value, for comparisons.
type refHit struct {
	Field       Field
	Value       string
	PortMatched bool
}

// slowMatch is the reference matcher: a linear scan over every indicator,
// written from the package doc, sharing no code with Set.
func slowMatch(inds []Indicator, cfg Config, e *Event) []refHit {
	var out []refHit
	type fieldVal struct {
		f    Field
		v    string
		port Field
	}
	var ipFields, urlFields, hostFields, hashFields []fieldVal
	get := func(f Field) string { return string(e.Get(f)) }
	switch e.Table {
	case CommonSecurityLog:
		ipFields = []fieldVal{{SourceIP, get(SourceIP), SourcePort}, {DestinationIP, get(DestinationIP), DestinationPort}}
		urlFields = []fieldVal{{f: RequestURL, v: get(RequestURL)}}
		hostFields = []fieldVal{{f: DestinationHostName, v: get(DestinationHostName)}}
	case DeviceNetworkEvents:
		ipFields = []fieldVal{{RemoteIP, get(RemoteIP), RemotePort}}
		urlFields = []fieldVal{{f: RemoteUrl, v: get(RemoteUrl)}}
		for _, f := range []Field{InitiatingProcessSHA256, InitiatingProcessSHA1, InitiatingProcessMD5} {
			hashFields = append(hashFields, fieldVal{f: f, v: get(f)})
		}
	case UrlClickEvents:
		urlFields = []fieldVal{{f: Url, v: get(Url)}}
		for _, u := range e.Chain {
			urlFields = append(urlFields, fieldVal{f: UrlChain, v: string(u)})
		}
	}
	for _, fv := range urlFields {
		hostFields = append(hostFields, fieldVal{f: fv.f, v: slowHost(fv.v)})
	}
	for i := range inds {
		in := &inds[i]
		if cfg.MinConfidence > 0 && in.Confidence != NoConfidence && in.Confidence < cfg.MinConfidence {
			continue
		}
		if cfg.MaxAge > 0 && e.HasTime {
			until := in.LastSeen
			if until.IsZero() {
				until = in.FirstSeen
			}
			if !until.IsZero() && time.Unix(0, e.Time).After(until.Add(cfg.MaxAge)) {
				continue
			}
		}
		switch in.Type {
		case TypeIP, TypeIPPort, TypeCIDR:
			for _, fv := range ipFields {
				a, err := netip.ParseAddr(fv.v)
				if err != nil || a.Zone() != "" {
					continue
				}
				a = a.Unmap()
				if in.Type == TypeCIDR && !in.Prefix.Contains(a) || in.Type != TypeCIDR && in.Addr != a {
					continue
				}
				h := refHit{Field: fv.f, Value: in.Value}
				if in.Type == TypeIPPort {
					h.PortMatched = get(fv.port) == fmt.Sprint(in.Port)
					if cfg.StrictPorts && !h.PortMatched {
						continue
					}
				}
				out = append(out, h)
			}
		case TypeURL:
			pat := strings.ToLower(in.Value)
			for _, fv := range urlFields {
				hay := strings.ToLower(fv.v)
				for i := 0; i+len(pat) <= len(hay); i++ {
					if hay[i:i+len(pat)] != pat {
						continue
					}
					alnum := func(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
					if alnum(pat[0]) && i > 0 && alnum(hay[i-1]) {
						continue
					}
					if end := i + len(pat); alnum(pat[len(pat)-1]) && end < len(hay) && alnum(hay[end]) {
						continue
					}
					out = append(out, refHit{Field: fv.f, Value: in.Value})
					break
				}
			}
		case TypeDomain:
			for _, fv := range hostFields {
				h := strings.TrimSuffix(strings.ToLower(fv.v), ".")
				d := strings.ToLower(in.Value)
				if h != "" && (h == d || strings.HasSuffix(h, "."+d)) {
					out = append(out, refHit{Field: fv.f, Value: in.Value})
				}
			}
		case TypeMD5, TypeSHA1, TypeSHA256:
			for _, fv := range hashFields {
				if fv.v != "" && strings.EqualFold(fv.v, in.Value) {
					out = append(out, refHit{Field: fv.f, Value: in.Value})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b refHit) int {
		if c := strings.Compare(a.Field.String(), b.Field.String()); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return slices.CompactFunc(out, func(a, b refHit) bool { return a.Field == b.Field && a.Value == b.Value })
}

// slowHost is the reference host extraction of the package doc.
func slowHost(v string) string {
	if i := strings.Index(v, "://"); i > 0 {
		scheme := v[:i]
		ok := scheme[0]|0x20 >= 'a' && scheme[0]|0x20 <= 'z'
		for _, c := range scheme {
			if !(c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
				ok = false
			}
		}
		if ok {
			v = v[i+3:]
		}
	}
	if i := strings.IndexAny(v, "/?#\\"); i >= 0 {
		v = v[:i]
	}
	if i := strings.LastIndex(v, "@"); i >= 0 {
		v = v[i+1:]
	}
	if strings.HasPrefix(v, "[") {
		if i := strings.Index(v, "]"); i > 0 {
			return v[1:i]
		}
		return ""
	}
	if i := strings.Index(v, ":"); i >= 0 {
		v = v[:i]
	}
	for _, c := range v {
		if !(c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			return ""
		}
	}
	return v
}

func hitsByValue(s *Set, hits []Hit) []refHit {
	out := make([]refHit, 0, len(hits))
	for _, h := range hits {
		r := refHit{Field: h.Field, Value: s.Indicators()[h.Indicator].Value}
		if s.Indicators()[h.Indicator].Type == TypeIPPort {
			r.PortMatched = h.PortMatched
		}
		out = append(out, r)
	}
	return out
}

func mustIndicator(t testing.TB, typ IndicatorType, v string) Indicator {
	in := Indicator{Value: v, Type: typ, Confidence: NoConfidence, Sources: []string{"test"}}
	switch typ {
	case TypeIP:
		in.Addr = netip.MustParseAddr(v)
	case TypeCIDR:
		in.Prefix = netip.MustParsePrefix(v)
	case TypeIPPort:
		ap := netip.MustParseAddrPort(v)
		in.Addr, in.Port = ap.Addr(), ap.Port()
	}
	return in
}

func event(t Table, kv ...string) *Event {
	e := &Event{Table: t}
	for i := 0; i < len(kv); i += 2 {
		if kv[i] == "UrlChain" {
			e.Chain = append(e.Chain, []byte(kv[i+1]))
			continue
		}
		f := LookupField([]byte(kv[i]))
		if f == FieldNone {
			panic("unknown field " + kv[i])
		}
		e.Set(f, []byte(kv[i+1]))
	}
	return e
}

var seedIndicators = []struct {
	typ IndicatorType
	v   string
}{
	{TypeURL, "http://176.65.139.151/Sakura.sh"},
	{TypeIPPort, "169.239.130.20:80"},
	{TypeIPPort, "176.65.139.126:2701"},
	{TypeIP, "176.65.139.126"},
	{TypeIP, "169.239.130.20"},
	{TypeCIDR, "176.65.0.0/16"},
	{TypeCIDR, "176.65.139.0/24"},
	{TypeIP, "2a02:cf40:1::5"},
	{TypeIPPort, "[2a02:cf40:1::5]:40669"},
	{TypeURL, "http://a/x"},
	{TypeURL, "http://a/x/y"},
	{TypeURL, "/bins/"},
	{TypeDomain, "evil.example"},
	{TypeDomain, "example"},
	{TypeSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{TypeMD5, "d41d8cd98f00b204e9800998ecf8427e"},
}

func seedSet(t testing.TB, cfg Config) ([]Indicator, *Set) {
	var inds []Indicator
	for _, s := range seedIndicators {
		inds = append(inds, mustIndicator(t, s.typ, s.v))
	}
	s, err := Compile(inds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return inds, s
}

func TestMatch(t *testing.T) {
	inds, set := seedSet(t, Config{})
	sc := NewScanner(set)
	for _, c := range []struct {
		name string
		e    *Event
		want []refHit
	}{
		{"ip and ip:port with port", event(CommonSecurityLog, "DestinationIP", "176.65.139.126", "DestinationPort", "2701"),
			[]refHit{{DestinationIP, "176.65.0.0/16", false}, {DestinationIP, "176.65.139.0/24", false}, {DestinationIP, "176.65.139.126", false}, {DestinationIP, "176.65.139.126:2701", true}}},
		{"ip:port other port", event(CommonSecurityLog, "SourceIP", "169.239.130.20", "SourcePort", "443", "DestinationPort", "80"),
			[]refHit{{SourceIP, "169.239.130.20", false}, {SourceIP, "169.239.130.20:80", false}}},
		{"source port for SourceIP", event(CommonSecurityLog, "SourceIP", "169.239.130.20", "SourcePort", "80"),
			[]refHit{{SourceIP, "169.239.130.20", false}, {SourceIP, "169.239.130.20:80", true}}},
		{"both sides", event(CommonSecurityLog, "SourceIP", "169.239.130.20", "DestinationIP", "176.65.1.1"),
			[]refHit{{DestinationIP, "176.65.0.0/16", false}, {SourceIP, "169.239.130.20", false}, {SourceIP, "169.239.130.20:80", false}}},
		{"ipv6 and mapped", event(DeviceNetworkEvents, "RemoteIP", "2a02:CF40:1:0::5", "RemotePort", "40669"),
			[]refHit{{RemoteIP, "2a02:cf40:1::5", false}, {RemoteIP, "[2a02:cf40:1::5]:40669", true}}},
		{"v4-mapped v6", event(DeviceNetworkEvents, "RemoteIP", "::ffff:169.239.130.20"),
			[]refHit{{RemoteIP, "169.239.130.20", false}, {RemoteIP, "169.239.130.20:80", false}}},
		{"not an ip", event(DeviceNetworkEvents, "RemoteIP", "169.239.130.20x"), nil},
		{"url exact", event(UrlClickEvents, "Url", "http://176.65.139.151/Sakura.sh"), []refHit{{Url, "http://176.65.139.151/Sakura.sh", false}}},
		{"url case and query", event(UrlClickEvents, "Url", "HTTP://176.65.139.151/sakura.SH?x=1"), []refHit{{Url, "http://176.65.139.151/Sakura.sh", false}}},
		{"url boundary after", event(UrlClickEvents, "Url", "http://176.65.139.151/Sakura.shell"), nil},
		{"url boundary before", event(UrlClickEvents, "Url", "xhttp://176.65.139.151/Sakura.sh"), nil},
		{"url inside", event(UrlClickEvents, "Url", "https://r.example/?u=http://176.65.139.151/Sakura.sh&z"), []refHit{{Url, "example", false}, {Url, "http://176.65.139.151/Sakura.sh", false}}},
		{"nested", event(UrlClickEvents, "Url", "http://a/x/y"), []refHit{{Url, "http://a/x", false}, {Url, "http://a/x/y", false}}},
		{"non-alnum edges need no boundary", event(UrlClickEvents, "Url", "http://b/bins/x"), []refHit{{Url, "/bins/", false}}},
		{"chain", event(UrlClickEvents, "Url", "https://safe/", "UrlChain", "https://safe/", "UrlChain", "http://a/x", "UrlChain", "http://a/x?again"),
			[]refHit{{UrlChain, "http://a/x", false}}},
		{"domain host", event(CommonSecurityLog, "RequestURL", "https://www.Evil.Example:8443/p"), []refHit{{RequestURL, "evil.example", false}, {RequestURL, "example", false}}},
		{"domain bare host field", event(CommonSecurityLog, "DestinationHostName", "evil.example."), []refHit{{DestinationHostName, "evil.example", false}, {DestinationHostName, "example", false}}},
		{"domain not suffix", event(CommonSecurityLog, "DestinationHostName", "notevil.examples"), nil},
		{"domain in path only", event(DeviceNetworkEvents, "RemoteUrl", "http://good.test/evil.example"), nil},
		{"domain schemeless", event(DeviceNetworkEvents, "RemoteUrl", "cdn.evil.example/x"), []refHit{{RemoteUrl, "evil.example", false}, {RemoteUrl, "example", false}}},
		{"hash", event(DeviceNetworkEvents, "InitiatingProcessSHA256", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "InitiatingProcessMD5", "d41d8cd98f00b204e9800998ecf8427e"),
			[]refHit{{InitiatingProcessMD5, "d41d8cd98f00b204e9800998ecf8427e", false}, {InitiatingProcessSHA256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false}}},
		{"hash is not a host", event(UrlClickEvents, "Url", "http://d41d8cd98f00b204e9800998ecf8427e/x"), nil},
		{"domain is not a hash", event(DeviceNetworkEvents, "InitiatingProcessMD5", "evil.example"), nil},
		{"unmatched table field", event(UrlClickEvents, "RemoteIP", "176.65.139.126"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := hitsByValue(set, sc.Match(c.e))
			if !slices.Equal(got, c.want) {
				t.Errorf("Match = %v\nwant    %v", got, c.want)
			}
			if ref := slowMatch(inds, Config{}, c.e); !slices.Equal(ref, c.want) {
				t.Errorf("reference = %v\nwant        %v", ref, c.want)
			}
		})
	}
}

func TestMatchConfig(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 6, d, 0, 0, 0, 0, time.UTC) }
	inds := []Indicator{
		mustIndicator(t, TypeIP, "1.1.1.1"),
		mustIndicator(t, TypeIP, "2.2.2.2"),
		mustIndicator(t, TypeIPPort, "3.3.3.3:80"),
	}
	inds[0].Confidence, inds[0].FirstSeen = 50, day(1)
	inds[1].LastSeen, inds[1].FirstSeen = day(10), day(1)
	ev := func(ip, port string, at time.Time) *Event {
		e := event(CommonSecurityLog, "DestinationIP", ip, "DestinationPort", port)
		if !at.IsZero() {
			e.Time, e.HasTime = at.UnixNano(), true
		}
		return e
	}
	for _, c := range []struct {
		name string
		cfg  Config
		e    *Event
		hit  bool
	}{
		{"confidence below", Config{MinConfidence: 60}, ev("1.1.1.1", "", time.Time{}), false},
		{"confidence at", Config{MinConfidence: 50}, ev("1.1.1.1", "", time.Time{}), true},
		{"no confidence passes", Config{MinConfidence: 99}, ev("2.2.2.2", "", time.Time{}), true},
		{"age from first seen", Config{MaxAge: 48 * time.Hour}, ev("1.1.1.1", "", day(4)), false},
		{"age within", Config{MaxAge: 72 * time.Hour}, ev("1.1.1.1", "", day(4)), true},
		{"age from last seen", Config{MaxAge: 24 * time.Hour}, ev("2.2.2.2", "", day(11)), true},
		{"age past last seen", Config{MaxAge: 24 * time.Hour}, ev("2.2.2.2", "", day(12)), false},
		{"record without time", Config{MaxAge: time.Hour}, ev("2.2.2.2", "", time.Time{}), true},
		{"indicator without time", Config{MaxAge: time.Hour}, ev("3.3.3.3", "", day(30)), true},
		{"strict port miss", Config{StrictPorts: true}, ev("3.3.3.3", "443", time.Time{}), false},
		{"strict port hit", Config{StrictPorts: true}, ev("3.3.3.3", "80", time.Time{}), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Compile(inds, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := len(NewScanner(s).Match(c.e)) > 0
			ref := len(slowMatch(inds, c.cfg, c.e)) > 0
			if got != c.hit || ref != c.hit {
				t.Errorf("hit = %v, reference %v, want %v", got, ref, c.hit)
			}
		})
	}
}

// randomCorpus makes indicators and events that collide often.
func randomCorpus(r *rand.Rand, nInd, nEv int) ([]Indicator, []*Event) {
	octet := func() int { return r.IntN(4) }
	ip := func() string { return fmt.Sprintf("10.%d.%d.%d", octet(), octet(), octet()) }
	words := []string{"a", "b", "x", "evil", "ex-ample", "1", "A", "sh", "/", ".", "?", "Z9"}
	word := func() string {
		var b strings.Builder
		for range 1 + r.IntN(3) {
			b.WriteString(words[r.IntN(len(words))])
		}
		return b.String()
	}
	host := func() string { return word() + "." + []string{"test", "example", "evil.test"}[r.IntN(3)] }
	seen := map[string]bool{}
	var inds []Indicator
	for len(inds) < nInd {
		var in Indicator
		switch r.IntN(6) {
		case 0:
			in = mustIndicator(nil, TypeIP, ip())
		case 1:
			in = mustIndicator(nil, TypeIPPort, fmt.Sprintf("%s:%d", ip(), 80+r.IntN(2)))
		case 2:
			in = mustIndicator(nil, TypeCIDR, netip.PrefixFrom(netip.MustParseAddr(ip()), 8+r.IntN(25)).Masked().String())
		case 3:
			in = Indicator{Value: "http://" + host() + "/" + word(), Type: TypeURL, Confidence: NoConfidence}
			if r.IntN(3) == 0 {
				in.Value = word()
			}
		case 4:
			in = Indicator{Value: strings.ToLower(host()), Type: TypeDomain, Confidence: NoConfidence}
		case 5:
			in = Indicator{Value: fmt.Sprintf("%032x", r.IntN(4)), Type: TypeMD5, Confidence: NoConfidence}
		}
		if seen[in.Value] {
			continue
		}
		seen[in.Value] = true
		inds = append(inds, in)
	}
	var evs []*Event
	for range nEv {
		switch r.IntN(3) {
		case 0:
			evs = append(evs, event(CommonSecurityLog, "SourceIP", ip(), "DestinationIP", ip(), "SourcePort", "80", "DestinationPort", fmt.Sprint(80+r.IntN(2)),
				"RequestURL", "http://"+host()+"/"+word()+word(), "DestinationHostName", host()))
		case 1:
			evs = append(evs, event(DeviceNetworkEvents, "RemoteIP", ip(), "RemotePort", "81", "RemoteUrl", word()+host()+word(), "InitiatingProcessMD5", fmt.Sprintf("%032X", r.IntN(5))))
		case 2:
			evs = append(evs, event(UrlClickEvents, "Url", "https://"+host()+"/?u="+word()+"http://"+host()+"/"+word(), "UrlChain", "http://"+host()+"/"+word()))
		}
	}
	return inds, evs
}

func TestMatchDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		inds, evs := randomCorpus(r, 5+r.IntN(60), 200)
		for _, cfg := range []Config{{}, {StrictPorts: true}} {
			s, err := Compile(inds, cfg)
			if err != nil {
				t.Fatal(err)
			}
			sc := NewScanner(s)
			for _, e := range evs {
				got := hitsByValue(s, sc.Match(e))
				want := slowMatch(inds, cfg, e)
				if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
					t.Fatalf("round %d: event %+v\nMatch     %v\nreference %v", round, e, got, want)
				}
			}
		}
	}
}

// TestCompileSeq checks that CompileSeq gives the set Compile gives, whatever
// its size hint, and that the URL patterns it takes from the store match.
func TestCompileSeq(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for round := range 10 {
		inds, evs := randomCorpus(r, 5+r.IntN(60), 50)
		want, err := Compile(inds, Config{})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{-1, 0, 1, len(inds), 3 * len(inds)} {
			s, err := CompileSeq(n, slices.Values(ptrs(inds)), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if s.ContentHash() != want.ContentHash() || s.Len() != want.Len() {
				t.Fatalf("round %d, hint %d: CompileSeq and Compile differ", round, n)
			}
			sc := NewScanner(s)
			for _, e := range evs {
				got, wantHits := hitsByValue(s, sc.Match(e)), slowMatch(inds, Config{}, e)
				if !slices.Equal(got, wantHits) && !(len(got) == 0 && len(wantHits) == 0) {
					t.Fatalf("round %d, hint %d: event %+v\nMatch     %v\nreference %v", round, n, e, got, wantHits)
				}
			}
		}
	}
}

func ptrs(inds []Indicator) []*Indicator {
	p := make([]*Indicator, len(inds))
	for i := range inds {
		p[i] = &inds[i]
	}
	return p
}

func FuzzMatch(f *testing.F) {
	f.Add(uint64(1), "http://a/x/y", "10.1.2.3", "evil.test")
	f.Add(uint64(7), "HTTP://A/X?", "10.0.0.0", "")
	addrs, urls, hosts := corpusTokens(100)
	for i, u := range urls {
		if len(addrs) > 0 && len(hosts) > 0 {
			f.Add(uint64(i), u, addrs[i%len(addrs)], hosts[i%len(hosts)])
		}
	}
	f.Fuzz(func(t *testing.T, seed uint64, url, ip, host string) {
		r := rand.New(rand.NewPCG(seed, 0))
		inds, evs := randomCorpus(r, 1+r.IntN(30), 5)
		evs = append(evs,
			event(CommonSecurityLog, "SourceIP", ip, "RequestURL", url, "DestinationHostName", host),
			event(UrlClickEvents, "Url", url, "UrlChain", host+url))
		s, err := Compile(inds, Config{})
		if err != nil {
			t.Fatal(err)
		}
		sc := NewScanner(s)
		for _, e := range evs {
			got := hitsByValue(s, sc.Match(e))
			want := slowMatch(inds, Config{}, e)
			if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("event %+v\nMatch     %v\nreference %v", e, got, want)
			}
		}
	})
}

func TestMatchNoAllocs(t *testing.T) {
	_, set := seedSet(t, Config{MaxAge: 24 * time.Hour})
	sc := NewScanner(set)
	evs := []*Event{
		event(CommonSecurityLog, "SourceIP", "10.0.0.1", "DestinationIP", "176.65.139.126", "DestinationPort", "2701", "RequestURL", "http://www.evil.example/Sakura.sh"),
		event(DeviceNetworkEvents, "RemoteIP", "2a02:cf40:1::5", "RemoteUrl", "http://a/x/y", "InitiatingProcessMD5", "D41D8CD98F00B204E9800998ECF8427E"),
		event(UrlClickEvents, "Url", "http://176.65.139.151/Sakura.sh", "UrlChain", "http://a/x"),
		event(UrlClickEvents, "Url", "https://nothing.here/at/all"),
	}
	for _, e := range evs {
		sc.Match(e) // grow scratch
		if n := testing.AllocsPerRun(100, func() { sc.Match(e) }); n != 0 {
			t.Errorf("Match(%v) allocates %v times", e.Table, n)
		}
	}
}

func TestURLHost(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://a.b/c", "a.b"}, {"https://u:p@Host.Example:8080/x", "Host.Example"}, {"http://[2001:db8::1]:80/", "2001:db8::1"},
		{"host.example", "host.example"}, {"host.example/path", "host.example"}, {"host.example:443", "host.example"},
		{"mailto:x@y", "y"}, {"http://a b/", ""}, {"", ""}, {"http://", ""}, {"HTTP://X.Y?q", "X.Y"}, {"http://x.y#f", "x.y"},
	} {
		if got := string(URLHost([]byte(c.in))); got != c.want || got != slowHost(c.in) {
			t.Errorf("URLHost(%q) = %q, reference %q, want %q", c.in, got, slowHost(c.in), c.want)
		}
	}
}
