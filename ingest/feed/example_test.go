package feed_test

import (
	"fmt"
	"time"

	"github.com/matchd/matchd/ingest/feed"
	"github.com/matchd/matchd/matcher"
)

func ExampleParse() {
	list := "# C2 servers, defanged\n" +
		"hxxp://evil[.]example/payload.sh\n" +
		"203.0.113.7:4444   # seen 2026-06-07\n" +
		"10.1.2.3/8\n" +
		"not an indicator\n"
	f, err := feed.Parse("c2.txt", []byte(list), feed.Options{Now: time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.Format)
	for _, in := range f.Indicators {
		fmt.Println(in.Type, in.Value, in.Sources)
	}
	for _, e := range f.Bad {
		fmt.Println(e)
	}
	for _, w := range f.Warnings {
		fmt.Println(w)
	}
	// Output:
	// plain
	// url http://evil.example/payload.sh [c2.txt]
	// ip:port 203.0.113.7:4444 [c2.txt]
	// cidr 10.0.0.0/8 [c2.txt]
	// c2.txt:5: space or control character in "not an indicator"
	// c2.txt:4: 10.0.0.0/8: host bits set in 10.1.2.3/8: masked to 10.0.0.0/8
	// c2.txt:3: 203.0.113.7:4444: documentation (203.0.113.0/24)
	// c2.txt:4: 10.0.0.0/8: very broad /8 — would flood alerts; private (RFC 1918)
}

func ExampleMerge() {
	opt := feed.Options{Now: time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)}
	a, _ := feed.Parse("local.txt", []byte("evil.example\n198.51.100.9\n"), opt)
	b, _ := feed.Parse("recent.json", []byte(`{"query_status":"ok","data":[
{"ioc":"evil.example","ioc_type":"domain","threat_type":"botnet_cc","malware_printable":"Mirai","confidence_level":80,"first_seen":"2026-06-07 10:11:12 UTC","tags":["elf"]}]}`), opt)
	for _, in := range feed.Merge(a, b) {
		fmt.Printf("%s %s sources=%q threat=%q malware=%q confidence=%d tags=%q\n",
			in.Type, in.Value, in.Sources, in.ThreatType, in.Malware, in.Confidence, in.Tags)
	}
	// Output:
	// domain evil.example sources=["local.txt" "ThreatFox"] threat="botnet_cc" malware="Mirai" confidence=80 tags=["elf"]
	// ip 198.51.100.9 sources=["local.txt"] threat="" malware="" confidence=-1 tags=[]
}

func ExampleMergeSeq() {
	opt := feed.Options{Now: time.Date(2026, 6, 8, 0, 0, 0, 0, time.UTC)}
	a, _ := feed.Parse("local.txt", []byte("evil.example\n198.51.100.9\n"), opt)
	b, _ := feed.Parse("urls.txt", []byte("http://evil.example/x.sh\nevil.example\n"), opt)
	n, inds := feed.MergeSeq(a, b)
	set, err := matcher.CompileSeq(n, inds, matcher.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for id := range uint32(set.Len()) {
		in := set.Indicator(id)
		fmt.Println(in.Type, in.Value, in.Sources)
	}
	// Output:
	// domain evil.example [local.txt urls.txt]
	// ip 198.51.100.9 [local.txt]
	// url http://evil.example/x.sh [urls.txt]
}
