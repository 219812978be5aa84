package gen_test

import (
	"fmt"
	"os"

	"github.com/matchd/matchd/bench/gen"
)

func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "matchd-gen")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	cfg := gen.DefaultConfig(gen.Mixed)
	cfg.Dir = dir
	cfg.Records = 10_000
	cfg.URLs, cfg.IPs, cfg.CIDRs, cfg.Domains, cfg.Hashes = 1000, 1000, 100, 100, 100
	e, err := gen.Generate(cfg)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Files, e.Feeds, e.Patterns)
	fmt.Println(e.Records, "records,", e.PatternCount, "patterns")
	fmt.Println(e.Alerts == e.Tables[gen.CommonSecurityLog].Alerts+e.Tables[gen.DeviceNetworkEvents].Alerts+e.Tables[gen.UrlClickEvents].Alerts)
	// Output:
	// [mixed.log] [iocs/urls.txt iocs/ips.txt iocs/cidrs.txt iocs/domains.txt iocs/hashes.txt] patterns.txt
	// 10000 records, 2300 patterns
	// true
}
