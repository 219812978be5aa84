package jsonlog

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

// want is the expected outcome of one record.
type want struct {
	err    string // substring of a *RecordError's message; "" for a record
	table  matcher.Table
	fields map[matcher.Field]string // every other field must be absent
	chain  []string
	extra  []string // name, value, name, value, … in order
	time   string   // RFC 3339; "" for no time
}

type parseTest struct {
	name   string
	def    matcher.Table
	line   string
	multi  bool
	syntax string // substring of a *SyntaxError's message
	want   []want
}

var parseTests = []parseTest{
	// Log Analytics shape.
	{
		name: "CommonSecurityLog",
		line: `{"TimeGenerated":"2026-06-07T10:00:01Z","DeviceVendor":"Palo Alto Networks","DeviceProduct":"PAN-OS",` +
			`"SourceIP":"10.0.0.1","DestinationIP":"203.0.113.5","SourcePort":51234,"DestinationPort":443,` +
			`"DeviceAction":"allow","Activity":"TRAFFIC","RequestURL":"https://example.com/a","DestinationHostName":"example.com",` +
			`"Type":"CommonSecurityLog"}`,
		want: []want{{
			table: matcher.CommonSecurityLog,
			fields: map[matcher.Field]string{
				matcher.TimeGenerated: "2026-06-07T10:00:01Z", matcher.DeviceVendor: "Palo Alto Networks",
				matcher.DeviceProduct: "PAN-OS", matcher.SourceIP: "10.0.0.1", matcher.DestinationIP: "203.0.113.5",
				matcher.SourcePort: "51234", matcher.DestinationPort: "443", matcher.DeviceAction: "allow",
				matcher.Activity: "TRAFFIC", matcher.RequestURL: "https://example.com/a",
				matcher.DestinationHostName: "example.com",
			},
			extra: []string{"Type", "CommonSecurityLog"},
			time:  "2026-06-07T10:00:01Z",
		}},
	},
	{
		name: "CommonSecurityLog/Timestamp is not its time",
		line: `{"Timestamp":"2026-06-07T10:00:01Z","Type":"CommonSecurityLog"}`,
		want: []want{{
			table:  matcher.CommonSecurityLog,
			fields: map[matcher.Field]string{matcher.Timestamp: "2026-06-07T10:00:01Z"},
			extra:  []string{"Type", "CommonSecurityLog"},
		}},
	},
	{
		name: "DeviceNetworkEvents/Timestamp before TimeGenerated",
		line: `{"TimeGenerated":"2026-06-07T10:00:05Z","Timestamp":"2026-06-07T10:00:01.5Z","DeviceName":"ws-1",` +
			`"RemoteIP":"198.51.100.23","RemotePort":443,"ReportId":18234,"Type":"DeviceNetworkEvents"}`,
		want: []want{{
			table: matcher.DeviceNetworkEvents,
			fields: map[matcher.Field]string{
				matcher.TimeGenerated: "2026-06-07T10:00:05Z", matcher.Timestamp: "2026-06-07T10:00:01.5Z",
				matcher.DeviceName: "ws-1", matcher.RemoteIP: "198.51.100.23", matcher.RemotePort: "443",
			},
			extra: []string{"ReportId", "18234", "Type", "DeviceNetworkEvents"},
			time:  "2026-06-07T10:00:01.5Z",
		}},
	},
	{
		name: "DeviceNetworkEvents/TimeGenerated without Timestamp",
		line: `{"TimeGenerated":"2026-06-07T10:00:05Z","Timestamp":null,"Type":"DeviceNetworkEvents"}`,
		want: []want{{
			table:  matcher.DeviceNetworkEvents,
			fields: map[matcher.Field]string{matcher.TimeGenerated: "2026-06-07T10:00:05Z"},
			extra:  []string{"Type", "DeviceNetworkEvents"},
			time:   "2026-06-07T10:00:05Z",
		}},
	},
	{
		name: "DeviceNetworkEvents/unparseable Timestamp",
		line: `{"TimeGenerated":"2026-06-07T10:00:05Z","Timestamp":"soon","Type":"DeviceNetworkEvents"}`,
		want: []want{{
			table:  matcher.DeviceNetworkEvents,
			fields: map[matcher.Field]string{matcher.TimeGenerated: "2026-06-07T10:00:05Z", matcher.Timestamp: "soon"},
			extra:  []string{"Type", "DeviceNetworkEvents"},
		}},
	},
	{
		name: "UrlClickEvents/UrlChain as an exported string",
		line: `{"Timestamp":"2026-06-07 10:05:09","Url":"https://login.example.com/s","AccountUpn":"jdoe@example.com",` +
			`"ActionType":"ClickAllowed","IsClickedThrough":false,"NetworkMessageId":"7e2b1c4d","ThreatTypes":"Phish",` +
			`"Workload":"Email","UrlChain":"[\"https://t.example.net/r\",\"https://login.example.com/s\"]","Type":"UrlClickEvents"}`,
		want: []want{{
			table: matcher.UrlClickEvents,
			fields: map[matcher.Field]string{
				matcher.Timestamp: "2026-06-07 10:05:09", matcher.Url: "https://login.example.com/s",
				matcher.AccountUpn: "jdoe@example.com", matcher.ActionType: "ClickAllowed",
				matcher.IsClickedThrough: "false",
				matcher.UrlChain:         `["https://t.example.net/r","https://login.example.com/s"]`,
			},
			chain: []string{"https://t.example.net/r", "https://login.example.com/s"},
			extra: []string{"NetworkMessageId", "7e2b1c4d", "ThreatTypes", "Phish", "Workload", "Email", "Type", "UrlClickEvents"},
			time:  "2026-06-07T10:05:09Z",
		}},
	},
	{
		name: "Type ignores ASCII case",
		line: `{"Type":"urlclickevents"}`,
		want: []want{{table: matcher.UrlClickEvents, extra: []string{"Type", "urlclickevents"}}},
	},
	{
		name: "Type overrides the default table",
		def:  matcher.CommonSecurityLog,
		line: `{"Type":"UrlClickEvents"}`,
		want: []want{{table: matcher.UrlClickEvents, extra: []string{"Type", "UrlClickEvents"}}},
	},
	{
		name: "default table without Type",
		def:  matcher.CommonSecurityLog,
		line: `{"SourceIP":"10.0.0.1"}`,
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.SourceIP: "10.0.0.1"}}},
	},
	{
		name: "default table with a null Type",
		def:  matcher.DeviceNetworkEvents,
		line: `{"Type":null}`,
		want: []want{{table: matcher.DeviceNetworkEvents}},
	},
	{
		name: "default table with an empty Type",
		def:  matcher.DeviceNetworkEvents,
		line: `{"Type":""}`,
		want: []want{{table: matcher.DeviceNetworkEvents, extra: []string{"Type", ""}}},
	},
	{
		name: "unknown Type",
		def:  matcher.DeviceNetworkEvents,
		line: `{"Type":"DeviceProcessEvents","DeviceName":"ws-1"}`,
		want: []want{{err: `no known table: Type "DeviceProcessEvents"`}},
	},
	{
		name: "unknown long Type is cut",
		line: `{"Type":"` + strings.Repeat("A", 100) + `"}`,
		want: []want{{err: `Type "` + strings.Repeat("A", quoteMax) + `..."`}},
	},
	{
		name: "Type not a string",
		line: `{"Type":["CommonSecurityLog"]}`,
		want: []want{{err: `Type "[\"CommonSecurityLog\"]"`}},
	},
	{
		name: "no table and no default",
		line: `{"SourceIP":"10.0.0.1"}`,
		want: []want{{err: "no known table: record names none"}},
	},
	{
		name: "records not an array is a column",
		line: `{"records":{"a":1},"Type":"CommonSecurityLog"}`,
		want: []want{{table: matcher.CommonSecurityLog, extra: []string{"records", `{"a":1}`, "Type", "CommonSecurityLog"}}},
	},

	// Defender streaming shape.
	{
		name:  "records/every table",
		multi: true,
		line: `{"records":[` +
			`{"time":"2026-06-07T10:00:02Z","tenantId":"t","operationName":"Publish","category":"AdvancedHunting-DeviceNetworkEvents",` +
			`"properties":{"Timestamp":"2026-06-07T10:00:01Z","RemoteIP":"198.51.100.23","RemoteUrl":"www.example.com","MachineGroup":"WS"}},` +
			`{"time":"2026-06-07T10:05:10Z","category":"AdvancedHunting-UrlClickEvents",` +
			`"properties":{"Url":"https://b.example/","UrlChain":["https://a.example/","https://b.example/"]}},` +
			`{"category":"AdvancedHunting-CommonSecurityLog","time":"2026-06-07T10:00:02Z","properties":{"SourceIP":"10.0.0.1"}}]}`,
		want: []want{
			{
				table: matcher.DeviceNetworkEvents,
				fields: map[matcher.Field]string{
					matcher.Timestamp: "2026-06-07T10:00:01Z", matcher.RemoteIP: "198.51.100.23",
					matcher.RemoteUrl: "www.example.com",
				},
				extra: []string{"MachineGroup", "WS"},
				time:  "2026-06-07T10:00:01Z",
			},
			{
				table: matcher.UrlClickEvents,
				fields: map[matcher.Field]string{
					matcher.Url: "https://b.example/", matcher.UrlChain: `["https://a.example/","https://b.example/"]`,
				},
				chain: []string{"https://a.example/", "https://b.example/"},
				time:  "2026-06-07T10:05:10Z",
			},
			{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.SourceIP: "10.0.0.1"}},
		},
	},
	{
		name:  "records/category without the prefix",
		multi: true,
		line:  `{"records":[{"category":"DeviceNetworkEvents","properties":{}}]}`,
		want:  []want{{table: matcher.DeviceNetworkEvents}},
	},
	{
		name:  "records/unknown category",
		multi: true,
		def:   matcher.UrlClickEvents,
		line: `{"records":[{"category":"AdvancedHunting-DeviceProcessEvents","properties":{"FileName":"a.exe"}},` +
			`{"category":"AdvancedHunting-UrlClickEvents","properties":{"Url":"https://a.example/"}}]}`,
		want: []want{
			{err: `no known table: category "AdvancedHunting-DeviceProcessEvents"`},
			{table: matcher.UrlClickEvents, fields: map[matcher.Field]string{matcher.Url: "https://a.example/"}},
		},
	},
	{
		name:  "records/default table without category",
		multi: true,
		def:   matcher.DeviceNetworkEvents,
		line:  `{"records":[{"time":"2026-06-07T10:00:02Z","properties":{"RemoteIP":"198.51.100.23"}}]}`,
		want: []want{{
			table:  matcher.DeviceNetworkEvents,
			fields: map[matcher.Field]string{matcher.RemoteIP: "198.51.100.23"},
			time:   "2026-06-07T10:00:02Z",
		}},
	},
	{
		name:  "records/element not an object",
		multi: true,
		line:  `{"records":[5,{"category":"UrlClickEvents","properties":{}},[{"a":1}],null]}`,
		want: []want{
			{err: "record is not a JSON object"},
			{table: matcher.UrlClickEvents},
			{err: "record is not a JSON object"},
			{err: "record is not a JSON object"},
		},
	},
	{
		name:  "records/no properties",
		multi: true,
		line:  `{"records":[{"category":"UrlClickEvents"},{"category":"UrlClickEvents","properties":null},{"category":"UrlClickEvents","properties":"{}"}]}`,
		want:  []want{{err: `no "properties" object`}, {err: `no "properties" object`}, {err: `no "properties" object`}},
	},
	{
		name:  "records/envelope members are not columns",
		multi: true,
		line:  `{"Type":"CommonSecurityLog","records":[{"tenantId":"t","Type":"x","category":"UrlClickEvents","properties":{}}],"x":1}`,
		want:  []want{{table: matcher.UrlClickEvents}},
	},
	{
		name:  "records/empty",
		multi: true,
		line:  `{"records":[]}`,
	},
	{
		name:  "records/repeated members, last wins",
		multi: true,
		line: `{"records":[{"properties":{"Url":"https://a.example/"},"category":"CommonSecurityLog",` +
			`"properties":{"Url":"https://b.example/"},"category":"UrlClickEvents"}],"records":[]}`,
	},
	{
		name:  "records/repeated properties, last wins",
		multi: true,
		line: `{"records":[{"properties":{"Url":"https://a.example/","X":"1"},"category":"CommonSecurityLog",` +
			`"properties":{"Url":"https://b.example/"},"category":"UrlClickEvents"}]}`,
		want: []want{{table: matcher.UrlClickEvents, fields: map[matcher.Field]string{matcher.Url: "https://b.example/"}}},
	},

	// Values.
	{
		name: "values/types",
		def:  matcher.CommonSecurityLog,
		line: `{"SourcePort":443,"DestinationPort":-1.5e+10,"IsClickedThrough":true,"RemotePort":null,"DeviceAction":"",` +
			`"Message":{"a":[1, "x"]},"Activity":[],"X":null,"Y":false,"Z":{}}`,
		want: []want{{
			table: matcher.CommonSecurityLog,
			fields: map[matcher.Field]string{
				matcher.SourcePort: "443", matcher.DestinationPort: "-1.5e+10", matcher.IsClickedThrough: "true",
				matcher.DeviceAction: "", matcher.Message: `{"a":[1, "x"]}`, matcher.Activity: "[]",
			},
			extra: []string{"Y", "false", "Z", "{}"},
		}},
	},
	{
		name: "values/repeated column, last wins",
		def:  matcher.CommonSecurityLog,
		line: `{"SourceIP":"10.0.0.1","DestinationIP":"10.0.0.2","SourceIP":"10.0.0.3","DestinationIP":null}`,
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.SourceIP: "10.0.0.3"}}},
	},
	{
		name: "values/column names are case sensitive",
		def:  matcher.CommonSecurityLog,
		line: `{"sourceip":"10.0.0.1"}`,
		want: []want{{table: matcher.CommonSecurityLog, extra: []string{"sourceip", "10.0.0.1"}}},
	},
	{
		name: "escapes/short",
		def:  matcher.CommonSecurityLog,
		line: `{"Message":"a\"b\\c\/d\be\ff\ng\rh\ti"}`,
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.Message: "a\"b\\c/d\be\ff\ng\rh\ti"}}},
	},
	{
		name: "escapes/unicode",
		def:  matcher.CommonSecurityLog,
		line: `{"Message":"caf\u00e9 \u4E2D \ud83d\ude00 \u0000"}`,
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.Message: "café 中 😀 \x00"}}},
	},
	{
		name: "escapes/unpaired surrogates",
		def:  matcher.CommonSecurityLog,
		line: `{"Message":"\ud83dx \ude00 \ude00\ud83d \ud83d\u0041 \ud83d\ud83d\ude00 \ud83d"}`,
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.Message: "\uFFFDx \uFFFD \uFFFD\uFFFD \uFFFDA \uFFFD😀 \uFFFD"}}},
	},
	{
		name: "escapes/member name",
		def:  matcher.CommonSecurityLog,
		line: `{"Source\u0049P":"10.0.0.1","T\u00e9":"x"}`,
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.SourceIP: "10.0.0.1"}, extra: []string{"Té", "x"}}},
	},
	{
		name: "escapes/Type",
		line: `{"Type":"Url\u0043lickEvents"}`,
		want: []want{{table: matcher.UrlClickEvents, extra: []string{"Type", "UrlClickEvents"}}},
	},
	{
		name: "invalid UTF-8 passes through",
		def:  matcher.CommonSecurityLog,
		line: "{\"Message\":\"a\xffb\xc3\",\"\xfe\":\"\\n\xff\"}",
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.Message: "a\xffb\xc3"}, extra: []string{"\xfe", "\n\xff"}}},
	},

	// UrlChain.
	{
		name: "UrlChain/array with escapes and other elements",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":["https://a.example/\u0041",1,null,{"u":"x"},["y"],"https:\/\/b.example\/"]}`,
		want: []want{{
			table:  matcher.UrlClickEvents,
			fields: map[matcher.Field]string{matcher.UrlChain: `["https://a.example/\u0041",1,null,{"u":"x"},["y"],"https:\/\/b.example\/"]`},
			chain:  []string{"https://a.example/A", "https://b.example/"},
		}},
	},
	{
		name: "UrlChain/string holding an array with escapes",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":" [ \"https://a.example/\\u0041\\\"\" , 5, \"https://b.example/\" ] "}`,
		want: []want{{
			table:  matcher.UrlClickEvents,
			fields: map[matcher.Field]string{matcher.UrlChain: ` [ "https://a.example/\u0041\"" , 5, "https://b.example/" ] `},
			chain:  []string{`https://a.example/A"`, "https://b.example/"},
		}},
	},
	{
		name: "UrlChain/string holding an empty array",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":"[]"}`,
		want: []want{{table: matcher.UrlClickEvents, fields: map[matcher.Field]string{matcher.UrlChain: "[]"}}},
	},
	{
		name: "UrlChain/plain URL",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":"https://a.example/x?y=[1]"}`,
		want: []want{{
			table:  matcher.UrlClickEvents,
			fields: map[matcher.Field]string{matcher.UrlChain: "https://a.example/x?y=[1]"},
			chain:  []string{"https://a.example/x?y=[1]"},
		}},
	},
	{
		name: "UrlChain/string that is not a JSON array",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":"[\"https://a.example/\""}`,
		want: []want{{
			table:  matcher.UrlClickEvents,
			fields: map[matcher.Field]string{matcher.UrlChain: `["https://a.example/"`},
			chain:  []string{`["https://a.example/"`},
		}},
	},
	{
		name: "UrlChain/empty string",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":""}`,
		want: []want{{table: matcher.UrlClickEvents, fields: map[matcher.Field]string{matcher.UrlChain: ""}}},
	},
	{
		name: "UrlChain/null and number",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":null,"Url":"https://a.example/"}`,
		want: []want{{table: matcher.UrlClickEvents, fields: map[matcher.Field]string{matcher.Url: "https://a.example/"}}},
	},
	{
		name: "UrlChain/number",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":7}`,
		want: []want{{table: matcher.UrlClickEvents, fields: map[matcher.Field]string{matcher.UrlChain: "7"}}},
	},
	{
		name: "UrlChain/repeated, last wins",
		def:  matcher.UrlClickEvents,
		line: `{"UrlChain":["https://a.example/"],"UrlChain":"https://b.example/"}`,
		want: []want{{
			table:  matcher.UrlClickEvents,
			fields: map[matcher.Field]string{matcher.UrlChain: "https://b.example/"},
			chain:  []string{"https://b.example/"},
		}},
	},

	// Whitespace.
	{
		name: "whitespace/around and inside, CRLF",
		def:  matcher.CommonSecurityLog,
		line: " \t{ \"SourceIP\" :\t\"10.0.0.1\" , \"X\" : [ 1 , { } ] }\r\n",
		want: []want{{table: matcher.CommonSecurityLog, fields: map[matcher.Field]string{matcher.SourceIP: "10.0.0.1"}, extra: []string{"X", "[ 1 , { } ]"}}},
	},
	{
		name: "whitespace/blank line",
		def:  matcher.CommonSecurityLog,
		line: " \t\r",
	},
	{
		name: "whitespace/empty line",
		line: "",
	},

	// A valid line that is not an object.
	{name: "not an object/array", line: `[{"Type":"CommonSecurityLog"}]`, want: []want{{err: "not a JSON object"}}},
	{name: "not an object/string", line: `"x"`, want: []want{{err: "not a JSON object"}}},
	{name: "not an object/null", line: ` null `, want: []want{{err: "not a JSON object"}}},

	// Lines that are not valid JSON.
	{name: "bad JSON/unterminated object", line: `{"SourceIP":"10.0.0.1"`, syntax: "unexpected end of input"},
	{name: "bad JSON/unterminated string", line: `{"SourceIP":"10.0.0.1}`, syntax: "unterminated string"},
	{name: "bad JSON/bad escape", line: `{"Message":"C:\Windows"}`, syntax: "invalid escape"},
	{name: "bad JSON/bad unicode escape", line: `{"Message":"\u12G4"}`, syntax: `invalid \u escape`},
	{name: "bad JSON/short unicode escape", line: `{"Message":"\u12"}`, syntax: `invalid \u escape`},
	{name: "bad JSON/bad escape in a nested value", line: `{"X":[{"a":"\q"}]}`, syntax: "invalid escape"},
	{name: "bad JSON/bad escape in a name", line: `{"\q":1}`, syntax: "invalid escape"},
	{name: "bad JSON/control character", line: "{\"Message\":\"a\tb\"}", syntax: "control character"},
	{name: "bad JSON/trailing garbage", line: `{"Type":"CommonSecurityLog"} x`, syntax: "unexpected data after the record"},
	{name: "bad JSON/two objects", line: `{}{}`, syntax: "unexpected data after the record"},
	{name: "bad JSON/trailing garbage after a non-object", line: `[] ]`, syntax: "unexpected data after the record"},
	{name: "bad JSON/leading zero", line: `{"SourcePort":0443}`, syntax: "expected ',' or '}'"},
	{name: "bad JSON/bare fraction", line: `{"SourcePort":1.}`, syntax: "invalid number"},
	{name: "bad JSON/bare exponent", line: `{"SourcePort":1e}`, syntax: "invalid number"},
	{name: "bad JSON/lone minus", line: `{"SourcePort":-}`, syntax: "invalid number"},
	{name: "bad JSON/plus sign", line: `{"SourcePort":+1}`, syntax: "expected a value"},
	{name: "bad JSON/bad literal", line: `{"IsClickedThrough":tru}`, syntax: "invalid literal"},
	{name: "bad JSON/single quotes", line: `{'Type':'CommonSecurityLog'}`, syntax: "expected a member name"},
	{name: "bad JSON/missing colon", line: `{"Type" "CommonSecurityLog"}`, syntax: "expected ':'"},
	{name: "bad JSON/missing comma", line: `{"a":1 "b":2}`, syntax: "expected ',' or '}'"},
	{name: "bad JSON/trailing comma", line: `{"a":1,}`, syntax: "expected a member name"},
	{name: "bad JSON/trailing comma in array", line: `{"a":[1,]}`, syntax: "expected a value"},
	{name: "bad JSON/mismatched bracket", line: `{"a":[1}`, syntax: "expected ',' or ']'"},
	{name: "bad JSON/byte order mark", line: "\ufeff{}", syntax: "expected a value"},
	{name: "bad JSON/missing value", line: `{"a":}`, syntax: "expected a value"},
	{
		name:   "bad JSON/too deep",
		line:   `{"X":` + strings.Repeat("[", DefaultMaxDepth) + strings.Repeat("]", DefaultMaxDepth) + `}`,
		syntax: "nesting deeper than 512",
	},
	{
		name:   "bad JSON/too deep, unterminated",
		line:   strings.Repeat("[", 100000),
		syntax: "nesting deeper than 512",
	},
	{
		name:   "bad JSON/too deep in records",
		line:   `{"records":[{"properties":{"X":` + strings.Repeat("{\"a\":", DefaultMaxDepth-3) + "1" + strings.Repeat("}", DefaultMaxDepth-3) + `}}]}`,
		syntax: "nesting deeper than 512",
	},
	{
		name:  "records/at the depth limit",
		multi: true,
		line:  `{"records":[{"category":"UrlClickEvents","properties":{"X":` + strings.Repeat("[", DefaultMaxDepth-4) + strings.Repeat("]", DefaultMaxDepth-4) + `}}]}`,
		want: []want{{
			table: matcher.UrlClickEvents,
			extra: []string{"X", strings.Repeat("[", DefaultMaxDepth-4) + strings.Repeat("]", DefaultMaxDepth-4)},
		}},
	},
	{
		name:   "bad JSON/a later record",
		line:   `{"records":[{"category":"UrlClickEvents","properties":{}},{"category":"UrlClickEvents","properties":{"Url":"\x"}}]}`,
		syntax: "invalid escape",
	},
	{
		name:   "bad JSON/records not closed",
		line:   `{"records":[{"category":"UrlClickEvents","properties":{}}`,
		syntax: "unexpected end of input",
	},
	{
		name: "at the depth limit",
		def:  matcher.CommonSecurityLog,
		line: `{"X":` + strings.Repeat("[", DefaultMaxDepth-1) + strings.Repeat("]", DefaultMaxDepth-1) + `}`,
		want: []want{{
			table: matcher.CommonSecurityLog,
			extra: []string{"X", strings.Repeat("[", DefaultMaxDepth-1) + strings.Repeat("]", DefaultMaxDepth-1)},
		}},
	},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewParser(tt.def)
			var ev matcher.Event
			// Start from a used Event, to check that Next resets it.
			p.Reset([]byte(typicalUCE))
			if ok, err := p.Next(&ev); !ok || err != nil {
				t.Fatalf("typical record: %v, %v", ok, err)
			}
			checkLine(t, p, &ev, tt)
			if d := diffLine(p, []byte(tt.line), tt.def); d != "" {
				t.Errorf("reference disagrees: %s", d)
			}
		})
	}
}

func checkLine(t *testing.T, p *Parser, ev *matcher.Event, tt parseTest) {
	t.Helper()
	line := []byte(tt.line)
	p.Reset(line)
	for i := 0; ; i++ {
		ok, err := p.Next(ev)
		if tt.syntax != "" {
			var se *SyntaxError
			if ok || !errors.As(err, &se) || !strings.Contains(se.Msg, tt.syntax) {
				t.Fatalf("Next = %v, %v; want a syntax error containing %q", ok, err, tt.syntax)
			}
			if se.Offset < 0 || se.Offset > len(line) {
				t.Errorf("offset %d outside the line", se.Offset)
			}
			if ok, err := p.Next(ev); ok || err != nil {
				t.Errorf("Next after a syntax error = %v, %v", ok, err)
			}
			if p.Multi() {
				t.Error("Multi() after a syntax error")
			}
			return
		}
		if !ok {
			if err != nil {
				t.Fatalf("record %d: Next = false, %v", i, err)
			}
			if i != len(tt.want) {
				t.Fatalf("got %d records, want %d", i, len(tt.want))
			}
			if p.Multi() != tt.multi {
				t.Errorf("Multi() = %v, want %v", p.Multi(), tt.multi)
			}
			if ok, err := p.Next(ev); ok || err != nil {
				t.Errorf("Next after the end = %v, %v", ok, err)
			}
			return
		}
		if i >= len(tt.want) {
			t.Fatalf("record %d: more records than %d (err %v)", i, len(tt.want), err)
		}
		w := tt.want[i]
		if w.err != "" {
			var re *RecordError
			if !errors.As(err, &re) || re.Index != i || !strings.Contains(re.Msg, w.err) {
				t.Errorf("record %d: err = %v; want a record error %d containing %q", i, err, i, w.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("record %d: %v", i, err)
			continue
		}
		checkEvent(t, i, ev, w)
	}
}

func checkEvent(t *testing.T, i int, ev *matcher.Event, w want) {
	t.Helper()
	if ev.Table != w.table {
		t.Errorf("record %d: table %v, want %v", i, ev.Table, w.table)
	}
	for f := matcher.Field(1); f < matcher.NumFields; f++ {
		wv, present := w.fields[f]
		switch got := ev.Get(f); {
		case !present && got != nil:
			t.Errorf("record %d: %v = %q, want absent", i, f, got)
		case present && (got == nil || string(got) != wv):
			t.Errorf("record %d: %v = %q (nil %v), want %q", i, f, got, got == nil, wv)
		}
	}
	var chain []string
	for _, u := range ev.Chain {
		chain = append(chain, string(u))
	}
	if strings.Join(chain, "\n") != strings.Join(w.chain, "\n") || len(chain) != len(w.chain) {
		t.Errorf("record %d: chain %q, want %q", i, chain, w.chain)
	}
	var extra []string
	for _, kv := range ev.Extra {
		extra = append(extra, string(kv.Name), string(kv.Value))
	}
	if strings.Join(extra, "\n") != strings.Join(w.extra, "\n") || len(extra) != len(w.extra) {
		t.Errorf("record %d: extra %q, want %q", i, extra, w.extra)
	}
	var wantTime int64
	if w.time != "" {
		tm, err := time.Parse(time.RFC3339Nano, w.time)
		if err != nil {
			t.Fatal(err)
		}
		wantTime = tm.UnixNano()
	}
	if ev.HasTime != (w.time != "") || ev.Time != wantTime {
		t.Errorf("record %d: time %d (has %v), want %q", i, ev.Time, ev.HasTime, w.time)
	}
}

func TestTypical(t *testing.T) {
	p := NewParser(matcher.TableUnknown)
	var ev matcher.Event
	for _, tc := range typical {
		t.Run(tc.name, func(t *testing.T) {
			p.Reset([]byte(tc.line))
			n := 0
			for {
				ok, err := p.Next(&ev)
				if err != nil {
					t.Fatal(err)
				}
				if !ok {
					break
				}
				n++
				if ev.Table != tc.table || !ev.HasTime || len(ev.Extra) == 0 {
					t.Errorf("record %d: table %v, has time %v, %d extra", n-1, ev.Table, ev.HasTime, len(ev.Extra))
				}
			}
			if n == 0 {
				t.Error("no record")
			}
			if d := diffLine(p, []byte(tc.line), matcher.TableUnknown); d != "" {
				t.Errorf("reference disagrees: %s", d)
			}
		})
	}
	// Spot checks of values that need decoding.
	p.Reset([]byte(typicalDNE))
	p.Next(&ev)
	if got, want := string(ev.Get(matcher.InitiatingProcessCommandLine)), `"powershell.exe" -NoProfile`; !strings.HasPrefix(got, want) {
		t.Errorf("InitiatingProcessCommandLine = %q, want prefix %q", got, want)
	}
	p.Reset([]byte(typicalUCE))
	p.Next(&ev)
	if len(ev.Chain) != 2 || string(ev.Chain[0]) != "https://t.example.net/r/8f3a" {
		t.Errorf("Chain = %q", ev.Chain)
	}
}

func TestMaxDepth(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		line   string
		syntax bool
	}{
		{"flat object at 1", 1, `{"Type":"CommonSecurityLog","a":1}`, false},
		{"array at 2 over 1", 1, `{"Type":"CommonSecurityLog","a":[]}`, true},
		{"records need 3", 2, `{"records":[{"category":"UrlClickEvents","properties":{}}]}`, true},
		{"properties need 4", 3, `{"records":[{"category":"UrlClickEvents","properties":{}}]}`, true},
		{"envelope at 4", 4, `{"records":[{"category":"UrlClickEvents","properties":{"a":1}}]}`, false},
		{"not an object over the limit", 1, `[[]]`, true},
		{"past the inline stack", 2000, `{"a":` + strings.Repeat("[{\"b\":", 999) + "1" + strings.Repeat("}]", 999) + `}`, false},
		{"past the inline stack, too deep", 2000, `{"a":` + strings.Repeat("[{\"b\":", 1000) + "1" + strings.Repeat("}]", 1000) + `}`, true},
		{"zero is the default", 0, `{"Type":"CommonSecurityLog","a":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + `}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewParser(matcher.TableUnknown, MaxDepth(tt.max))
			var ev matcher.Event
			p.Reset([]byte(tt.line))
			_, err := p.Next(&ev)
			var se *SyntaxError
			if errors.As(err, &se) != tt.syntax {
				t.Errorf("Next error = %v, want syntax error %v", err, tt.syntax)
			}
		})
	}
}

func TestZeroParser(t *testing.T) {
	var p Parser
	var ev matcher.Event
	if ok, err := p.Next(&ev); ok || err != nil {
		t.Errorf("Next before Reset = %v, %v", ok, err)
	}
	p.Reset([]byte(`{"Type":"CommonSecurityLog","SourceIP":"10.0.0.1"}`))
	if ok, err := p.Next(&ev); !ok || err != nil || string(ev.Get(matcher.SourceIP)) != "10.0.0.1" {
		t.Errorf("Next = %v, %v, SourceIP %q", ok, err, ev.Get(matcher.SourceIP))
	}
	p.Reset([]byte(`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`))
	if ok, err := p.Next(&ev); ok || err == nil {
		t.Errorf("Next on deep line = %v, %v", ok, err)
	}
}

func TestNewParserInvalidDefault(t *testing.T) {
	p := NewParser(matcher.Table(200))
	var ev matcher.Event
	p.Reset([]byte(`{"SourceIP":"10.0.0.1"}`))
	var re *RecordError
	if ok, err := p.Next(&ev); !ok || !errors.As(err, &re) {
		t.Errorf("Next = %v, %v; want a record error", ok, err)
	}
}

// TestAliasing checks where values live: unescaped strings alias the line,
// decoded ones dst.Buf, and values parsed earlier survive later decoding.
func TestAliasing(t *testing.T) {
	line := []byte(`{"SourceIP":"10.0.0.1","Message":"a\nb","Activity":"c\td","Type":"CommonSecurityLog"}`)
	p := NewParser(matcher.TableUnknown)
	ev := matcher.Event{Buf: make([]byte, 0, 4)} // too small: Next must size it
	p.Reset(line)
	if ok, err := p.Next(&ev); !ok || err != nil {
		t.Fatal(ok, err)
	}
	within := func(v, b []byte) bool {
		if len(v) == 0 {
			return false
		}
		b = b[:cap(b)]
		for i := range b {
			if &b[i] == &v[0] {
				return true
			}
		}
		return false
	}
	if v := ev.Get(matcher.SourceIP); !within(v, line) {
		t.Errorf("SourceIP %q does not alias the line", v)
	}
	if v := ev.Get(matcher.Message); !within(v, ev.Buf) || string(v) != "a\nb" {
		t.Errorf("Message %q is not decoded into Buf", v)
	}
	if v := ev.Get(matcher.Activity); !within(v, ev.Buf) || string(v) != "c\td" {
		t.Errorf("Activity %q is not decoded into Buf", v)
	}
	if cap(ev.Buf) < len(line) {
		t.Errorf("cap(Buf) = %d, want at least %d", cap(ev.Buf), len(line))
	}
	if v := ev.Get(matcher.Message); cap(v) != len(v) {
		t.Errorf("cap(Message) = %d, want %d", cap(v), len(v))
	}
}

func TestErrorStrings(t *testing.T) {
	if got, want := (&SyntaxError{Offset: 7, Msg: "invalid escape"}).Error(), "invalid JSON at byte 7: invalid escape"; got != want {
		t.Errorf("SyntaxError = %q, want %q", got, want)
	}
	if got, want := (&RecordError{Index: 2, Msg: "no known table"}).Error(), "record 2: no known table"; got != want {
		t.Errorf("RecordError = %q, want %q", got, want)
	}
	p := NewParser(matcher.TableUnknown)
	var ev matcher.Event
	p.Reset([]byte(`{"Message":"C:\Windows\System32\drivers\etc\hosts is long"}`))
	_, err := p.Next(&ev)
	if got, want := err.Error(), `invalid JSON at byte 14: invalid escape at "\\Windows\\System32\\drivers\\etc\\hosts is l..."`; got != want {
		t.Errorf("Error() = %s, want %s", got, want)
	}
}

func TestNoAllocs(t *testing.T) {
	lines := []struct{ name, line string }{
		{"escapes and string UrlChain", `{"Type":"UrlClickEvents","Message":"caf\u00e9\n\ud83d\ude00",` +
			`"UrlChain":"[\"https://a.example/\\u0041\",\"https://b.example/\"]","Extra\u0041":[1,{"a":"\t"}]}`},
	}
	for _, tc := range typical {
		lines = append(lines, struct{ name, line string }{tc.name, tc.line})
	}
	for _, tc := range lines {
		t.Run(tc.name, func(t *testing.T) {
			p := NewParser(matcher.TableUnknown)
			var ev matcher.Event
			line := []byte(tc.line)
			parse := func() {
				p.Reset(line)
				for {
					ok, err := p.Next(&ev)
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						return
					}
				}
			}
			parse() // grow the Event
			if n := testing.AllocsPerRun(100, parse); n != 0 {
				t.Errorf("%v allocations per line, want 0", n)
			}
		})
	}
}

// TestTooManyMembers: a record with more than matcher.MaxExtra members that
// go to Event.Extra, or URLs in UrlChain, is a RecordError; in an envelope
// the other records are still parsed.
func TestTooManyMembers(t *testing.T) {
	members := func(n int) string { return strings.Repeat(`"x":1,`, n) }
	urls := func(n int) string { return `"UrlChain":[` + strings.Repeat(`"u",`, n) + `"u"],` }
	for _, c := range []struct {
		name, line string
		errs       []bool // per record: rejected
	}{
		{"members at the bound", `{"Type":"UrlClickEvents",` + members(matcher.MaxExtra-1) + `"Url":"u"}`, []bool{false}},
		{"members past the bound", `{"Type":"UrlClickEvents",` + members(matcher.MaxExtra+1) + `"Url":"u"}`, []bool{true}},
		{"a million members", `{"Type":"UrlClickEvents",` + members(1_000_000) + `"Url":"u"}`, []bool{true}},
		{"chain at the bound", `{"Type":"UrlClickEvents",` + urls(matcher.MaxExtra-1) + `"Url":"u"}`, []bool{false}},
		{"chain past the bound", `{"Type":"UrlClickEvents",` + urls(matcher.MaxExtra) + `"Url":"u"}`, []bool{true}},
		{"envelope", `{"records":[{"category":"UrlClickEvents","properties":{` + members(matcher.MaxExtra+1) + `"Url":"u"}},` +
			`{"category":"UrlClickEvents","properties":{"Url":"v"}}]}`, []bool{true, false}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := NewParser(matcher.TableUnknown)
			var ev matcher.Event
			p.Reset([]byte(c.line))
			for i, wantErr := range c.errs {
				ok, err := p.Next(&ev)
				var re *RecordError
				switch {
				case !ok:
					t.Fatalf("record %d: end, %v", i, err)
				case wantErr && (!errors.As(err, &re) || re.Msg != "more than 10000 members outside the table's columns or URLs in UrlChain"):
					t.Fatalf("record %d: %v, want the bound's RecordError", i, err)
				case !wantErr && err != nil:
					t.Fatalf("record %d: %v", i, err)
				}
				if len(ev.Extra) > matcher.MaxExtra || len(ev.Chain) > matcher.MaxExtra {
					t.Fatalf("record %d: %d extra, %d chain", i, len(ev.Extra), len(ev.Chain))
				}
			}
			if ok, err := p.Next(&ev); ok || err != nil {
				t.Fatalf("after the records: %v %v", ok, err)
			}
		})
	}
}

// TestHasStop checks the eight-byte test against the strStop table: every
// byte value at every position among ordinary bytes, and random words.
func TestHasStop(t *testing.T) {
	want := func(b []byte) bool {
		for _, c := range b {
			if strStop[c] {
				return true
			}
		}
		return false
	}
	for c := range 256 {
		for pos := range 8 {
			b := []byte("abcdefgh")
			b[pos] = byte(c)
			if got := hasStop(binary.LittleEndian.Uint64(b)); got != want(b) {
				t.Errorf("byte %#x at %d: hasStop %v, want %v", c, pos, got, want(b))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 1_000_000 {
		x := rng.Uint64()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], x)
		if got := hasStop(x); got != want(b[:]) {
			t.Fatalf("%q: hasStop %v, want %v", b, got, want(b[:]))
		}
	}
}
