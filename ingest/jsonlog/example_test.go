package jsonlog_test

import (
	"fmt"

	"github.com/matchd/matchd/ingest/jsonlog"
	"github.com/matchd/matchd/matcher"
)

func ExampleParser() {
	line := []byte(`{"records":[` +
		`{"time":"2026-06-07T10:00:02Z","category":"AdvancedHunting-DeviceNetworkEvents",` +
		`"properties":{"Timestamp":"2026-06-07T10:00:01Z","RemoteIP":"198.51.100.23","RemotePort":443}},` +
		`{"category":"AdvancedHunting-DeviceProcessEvents","properties":{}},` +
		`{"category":"AdvancedHunting-UrlClickEvents",` +
		`"properties":{"Url":"https://b.example/","UrlChain":"[\"https://a.example/\",\"https://b.example/\"]"}}]}`)

	p := jsonlog.NewParser(matcher.TableUnknown)
	var ev matcher.Event
	p.Reset(line)
	for i := 0; ; i++ {
		ok, err := p.Next(&ev)
		if err != nil {
			fmt.Println("reject:", err) // a *RecordError when ok, else a *SyntaxError
		} else if ok {
			fmt.Printf("%d %v %s:%s %q\n", i, ev.Table, ev.Get(matcher.RemoteIP), ev.Get(matcher.RemotePort), ev.Chain)
		}
		if !ok {
			break
		}
	}
	fmt.Println("multi:", p.Multi())
	// Output:
	// 0 DeviceNetworkEvents 198.51.100.23:443 []
	// reject: record 1: no known table: category "AdvancedHunting-DeviceProcessEvents"
	// 2 UrlClickEvents : ["https://a.example/" "https://b.example/"]
	// multi: true
}
