package cef

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/matchd/matchd/matcher"
)

// snap is a comparable copy of an Event.
type snap struct {
	Table   matcher.Table
	Time    int64
	HasTime bool
	Fields  map[string]string // present columns, empty ones included
	Extra   []string          // "Name=Value", in order
}

func snapshot(e *matcher.Event) snap {
	s := snap{Table: e.Table, Time: e.Time, HasTime: e.HasTime, Fields: map[string]string{}}
	for f := matcher.Field(1); f < matcher.NumFields; f++ {
		if e.Has(f) {
			s.Fields[f.String()] = string(e.Get(f))
		}
	}
	for _, kv := range e.Extra {
		s.Extra = append(s.Extra, string(kv.Name)+"="+string(kv.Value))
	}
	return s
}

func (s snap) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "table=%v time=%d hasTime=%v\n", s.Table, s.Time, s.HasTime)
	for _, k := range slices.Sorted(maps.Keys(s.Fields)) {
		fmt.Fprintf(&b, "  %s=%q\n", k, s.Fields[k])
	}
	for _, x := range s.Extra {
		fmt.Fprintf(&b, "  extra %q\n", x)
	}
	return b.String()
}

func equalSnap(a, b snap) bool {
	return a.Table == b.Table && a.Time == b.Time && a.HasTime == b.HasTime &&
		maps.Equal(a.Fields, b.Fields) && slices.Equal(a.Extra, b.Extra)
}

// defaultHeader is the header of the cases that only give an extension.
const defaultHeader = "CEF:0|Vendor|Product|1.0|100|Name|5|"

var defaultFields = map[string]string{
	"CEFVersion": "0", "DeviceVendor": "Vendor", "DeviceProduct": "Product",
	"DeviceVersion": "1.0", "DeviceEventClassID": "100", "Activity": "Name", "LogSeverity": "5",
}

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		// line is the whole line; when empty, defaultHeader+ext is parsed
		// and defaultFields are expected besides fields.
		line, ext string
		fields    map[string]string
		extra     []string
		time      int64
		hasTime   bool
	}{
		{
			name:   "rfc3164 with pri",
			line:   `<14>Mar 21 14:05:02 HOST CEF:0|Cyber-Ark|Vault|7.20|295|Retrieve password|5|src=10.0.0.1 dst=10.0.0.2`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "Cyber-Ark", "DeviceProduct": "Vault", "DeviceVersion": "7.20", "DeviceEventClassID": "295", "Activity": "Retrieve password", "LogSeverity": "5", "SourceIP": "10.0.0.1", "DestinationIP": "10.0.0.2"},
		},
		{
			name:   "rfc3164 with tag",
			line:   `Mar 21 14:05:02 HOST tag[1]: CEF:0|V|P|1|2|N|3|src=10.0.0.1`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "V", "DeviceProduct": "P", "DeviceVersion": "1", "DeviceEventClassID": "2", "Activity": "N", "LogSeverity": "3", "SourceIP": "10.0.0.1"},
		},
		{
			name:   "rfc5424",
			line:   `<34>1 2026-06-07T10:00:01Z host app - - - CEF:0|V|P|1|2|N|3|dst=10.0.0.2`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "V", "DeviceProduct": "P", "DeviceVersion": "1", "DeviceEventClassID": "2", "Activity": "N", "LogSeverity": "3", "DestinationIP": "10.0.0.2"},
		},
		{
			name:   "bare pri and cef version 1",
			line:   `<14>CEF:1|V|P|1|2|N|3|`,
			fields: map[string]string{"CEFVersion": "1", "DeviceVendor": "V", "DeviceProduct": "P", "DeviceVersion": "1", "DeviceEventClassID": "2", "Activity": "N", "LogSeverity": "3"},
		},
		{
			name:   "tag glued to marker",
			line:   `Sep 10 16:03:01 172.30.0.20 ASM:CEF:0|F5|ASM|11.0.0|X|Y|8|act=Blocked`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "F5", "DeviceProduct": "ASM", "DeviceVersion": "11.0.0", "DeviceEventClassID": "X", "Activity": "Y", "LogSeverity": "8", "DeviceAction": "Blocked"},
		},
		{
			name:   "space after marker",
			line:   `<14>Apr  7 10:10:10 hostname CEF: 0|Palo Alto Networks|PAN-OS|6.1.3|url|THREAT|1|proto=tcp`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "Palo Alto Networks", "DeviceProduct": "PAN-OS", "DeviceVersion": "6.1.3", "DeviceEventClassID": "url", "Activity": "THREAT", "LogSeverity": "1", "Protocol": "tcp"},
		},
		{
			name:   "iso timestamp prefix",
			line:   `2016-04-01T09:29:11.356-0400 CEF:0|Adallom|Adallom|1.0|56fe|ALERT|0|suser=a@example.com`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "Adallom", "DeviceProduct": "Adallom", "DeviceVersion": "1.0", "DeviceEventClassID": "56fe", "Activity": "ALERT", "LogSeverity": "0", "SourceUserName": "a@example.com"},
		},
		{
			name:   "first marker with a version wins",
			line:   `host says CEF: maybe CEF:x and CEF:12|V|P|1|2|N|3|msg=CEF:0|not|a|header`,
			fields: map[string]string{"CEFVersion": "12", "DeviceVendor": "V", "DeviceProduct": "P", "DeviceVersion": "1", "DeviceEventClassID": "2", "Activity": "N", "LogSeverity": "3", "Message": "CEF:0|not|a|header"},
		},
		{
			name:   "header escapes",
			line:   `CEF:0|a\|b|c\\d|e\xf|g\\\|h|detected a \\ in packet|10|`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "a|b", "DeviceProduct": `c\d`, "DeviceVersion": `e\xf`, "DeviceEventClassID": `g\|h`, "Activity": `detected a \ in packet`, "LogSeverity": "10"},
		},
		{
			name:   "equals in header needs no escape",
			line:   `CEF:0|V|P|1|2|a = b|3|`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "V", "DeviceProduct": "P", "DeviceVersion": "1", "DeviceEventClassID": "2", "Activity": "a = b", "LogSeverity": "3"},
		},
		{
			name:   "severity ends the line",
			line:   "CEF:0|V|P|1|2|N|High \r\n",
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "V", "DeviceProduct": "P", "DeviceVersion": "1", "DeviceEventClassID": "2", "Activity": "N", "LogSeverity": "High"},
		},
		{
			name:   "empty header fields are present",
			line:   `CEF:0||||||`,
			fields: map[string]string{"CEFVersion": "0", "DeviceVendor": "", "DeviceProduct": "", "DeviceVersion": "", "DeviceEventClassID": "", "Activity": "", "LogSeverity": ""},
		},
		{
			name:   "pipes in extension need no escape",
			ext:    `src=10.0.0.1 act=blocked a | dst=1.1.1.1`,
			fields: map[string]string{"SourceIP": "10.0.0.1", "DeviceAction": "blocked a |", "DestinationIP": "1.1.1.1"},
		},
		{
			name:   "values with spaces",
			ext:    `cs2=ip-172-30-2-212 -> /var/log/auth.log cs2Label=Location msg=Aug 14 14:26:53 host sshd[16217]: message repeated 2 times`,
			fields: map[string]string{"Message": "Aug 14 14:26:53 host sshd[16217]: message repeated 2 times"},
			extra:  []string{"DeviceCustomString2=ip-172-30-2-212 -> /var/log/auth.log", "DeviceCustomString2Label=Location"},
		},
		{
			name:   "value escapes",
			ext:    `src=10.0.0.1 act=blocked a \= b \\ c \| d cs1=foo\rbar msg=line1\nline2`,
			fields: map[string]string{"SourceIP": "10.0.0.1", "DeviceAction": `blocked a = b \ c | d`, "Message": "line1\nline2"},
			extra:  []string{"DeviceCustomString1=foo\rbar"},
		},
		{
			name:   "unknown escapes are kept",
			ext:    `fname=Root\ABC phobos3 request=\"www.example.com/\" filePath=C:\\Users\\x\\a.exe cs1=tail\`,
			fields: map[string]string{"RequestURL": `\"www.example.com/\"`},
			extra:  []string{`FileName=Root\ABC phobos3`, `FilePath=C:\Users\x\a.exe`, `DeviceCustomString1=tail\`},
		},
		{
			name:   "equals without a key is part of the value",
			ext:    `request=/search.php?\=&q\=%3C&x=1 dst=172.30.0.32 msg=a=b c,d=e`,
			fields: map[string]string{"RequestURL": "/search.php?=&q=%3C&x=1", "DestinationIP": "172.30.0.32", "Message": "a=b c,d=e"},
		},
		{
			name:   "unescaped key value pairs in a message split",
			ext:    `msg=PAM 2 more authentication failures; logname= uid=0 rhost=116.31.116.17`,
			fields: map[string]string{"Message": "PAM 2 more authentication failures;"},
			extra:  []string{"logname=", "uid=0", "rhost=116.31.116.17"},
		},
		{
			name:   "real world keys",
			ext:    `ad.Authentification=MICROSOFT ad.field[0]=field0 ad.foo.name[1]=new_name [x]=y a-b=c cs1Label=Rule deviceCustomString1=r1 _cefVer=0.1`,
			extra:  []string{"ad.Authentification=MICROSOFT", "ad.field[0]=field0", "ad.foo.name[1]=new_name", "[x]=y", "a-b=c", "DeviceCustomString1Label=Rule", "DeviceCustomString1=r1", "_cefVer=0.1"},
			fields: map[string]string{},
		},
		{
			// A comma is not a key byte, so "ad.Error_,Code" is no key and
			// stays in the previous value.
			name:   "comma is not a key byte",
			ext:    `ad.A=x ad.Error_,Code=3221225578 dst=1.2.3.4`,
			extra:  []string{"ad.A=x ad.Error_,Code=3221225578"},
			fields: map[string]string{"DestinationIP": "1.2.3.4"},
		},
		{
			name:   "trailing blanks dropped, leading kept",
			ext:    "msg= Transformed (xout)  src=192.168.3.4 \t dhost=\t  ",
			fields: map[string]string{"Message": " Transformed (xout)", "SourceIP": "192.168.3.4", "DestinationHostName": ""},
		},
		{
			name:   "empty values are present",
			ext:    `dhost= duser= externalId= app= cs1= cs1Label=Policy`,
			fields: map[string]string{"DestinationHostName": "", "DestinationUserName": "", "ApplicationProtocol": ""},
			extra:  []string{"ExtID=", "DeviceCustomString1=", "DeviceCustomString1Label=Policy"},
		},
		{
			name:   "text before the first key is skipped",
			ext:    `garbage here src=10.0.0.1`,
			fields: map[string]string{"SourceIP": "10.0.0.1"},
		},
		{
			name:   "leading space before first key",
			ext:    ` eventId=31 msg=Started`,
			fields: map[string]string{"Message": "Started"},
			extra:  []string{"eventId=31"},
		},
		{
			name:   "no key at all",
			ext:    `just text = here`,
			fields: map[string]string{},
		},
		{
			name:   "repeated key: column takes the last, extra keeps all",
			ext:    `src=1.1.1.1 sourceAddress=2.2.2.2 cs1=a cs1=b`,
			fields: map[string]string{"SourceIP": "2.2.2.2"},
			extra:  []string{"DeviceCustomString1=a", "DeviceCustomString1=b"},
		},
		{
			name: "short names",
			ext:  `src=1.1.1.1 dst=2.2.2.2 spt=1 dpt=2 act=a request=http://x/ app=HTTP dhost=d shost=s suser=su duser=du msg=m proto=TCP dvchost=dev`,
			fields: map[string]string{"SourceIP": "1.1.1.1", "DestinationIP": "2.2.2.2", "SourcePort": "1", "DestinationPort": "2", "DeviceAction": "a",
				"RequestURL": "http://x/", "ApplicationProtocol": "HTTP", "DestinationHostName": "d", "SourceHostName": "s", "SourceUserName": "su",
				"DestinationUserName": "du", "Message": "m", "Protocol": "TCP", "DeviceName": "dev"},
		},
		{
			name: "full names",
			ext:  `sourceAddress=1.1.1.1 destinationAddress=2.2.2.2 sourcePort=1 destinationPort=2 deviceAction=a requestUrl=http://x/ applicationProtocol=HTTP destinationHostName=d sourceHostName=s sourceUserName=su destinationUserName=du message=m transportProtocol=TCP deviceHostName=dev`,
			fields: map[string]string{"SourceIP": "1.1.1.1", "DestinationIP": "2.2.2.2", "SourcePort": "1", "DestinationPort": "2", "DeviceAction": "a",
				"RequestURL": "http://x/", "ApplicationProtocol": "HTTP", "DestinationHostName": "d", "SourceHostName": "s", "SourceUserName": "su",
				"DestinationUserName": "du", "Message": "m", "Protocol": "TCP", "DeviceName": "dev"},
		},
		{
			name:   "extra columns",
			ext:    `cn1=1 cn1Label=L c6a2=fd00::555 cfp1=1.5 flexString1=f cat=c dvc=10.1.1.1 outcome=o fname=f.txt in=1 out=2 reason=r requestMethod=GET requestClientApplication=ua smac=aa dmac=bb deviceExternalId=e externalId=x cnt=3 sourceTranslatedAddress=3.3.3.3 slat=1.5`,
			fields: map[string]string{},
			extra: []string{"DeviceCustomNumber1=1", "DeviceCustomNumber1Label=L", "DeviceCustomIPv6Address2=fd00::555", "DeviceCustomFloatingPoint1=1.5",
				"FlexString1=f", "DeviceEventCategory=c", "DeviceAddress=10.1.1.1", "EventOutcome=o", "FileName=f.txt", "ReceivedBytes=1", "SentBytes=2",
				"Reason=r", "RequestMethod=GET", "RequestClientApplication=ua", "SourceMACAddress=aa", "DestinationMACAddress=bb", "DeviceExternalID=e",
				"ExtID=x", "EventCount=3", "SourceTranslatedAddress=3.3.3.3", "slat=1.5"},
		},
		{
			name:    "rt epoch millis",
			ext:     `rt=1543270652000 src=1.1.1.1`,
			fields:  map[string]string{"TimeGenerated": "1543270652000", "SourceIP": "1.1.1.1"},
			extra:   []string{"ReceiptTime=1543270652000"},
			time:    ms("2018-11-26T22:17:32Z"),
			hasTime: true,
		},
		{
			name:    "rt cef layout without zone is utc",
			ext:     `rt=Jan 17 2020 08:52:10`,
			fields:  map[string]string{"TimeGenerated": "Jan 17 2020 08:52:10"},
			extra:   []string{"ReceiptTime=Jan 17 2020 08:52:10"},
			time:    ms("2020-01-17T08:52:10Z"),
			hasTime: true,
		},
		{
			name:    "rt wins over start and end",
			ext:     `end=1459517280999 start=1459517280810 deviceReceiptTime=2026-06-07T10:00:01.123+02:00`,
			fields:  map[string]string{"TimeGenerated": "2026-06-07T10:00:01.123+02:00"},
			extra:   []string{"EndTime=1459517280999", "StartTime=1459517280810", "ReceiptTime=2026-06-07T10:00:01.123+02:00"},
			time:    ms("2026-06-07T08:00:01.123Z"),
			hasTime: true,
		},
		{
			name:    "start when no rt",
			ext:     `startTime=1459517280810 endTime=1459517280999`,
			fields:  map[string]string{"TimeGenerated": "1459517280810"},
			extra:   []string{"StartTime=1459517280810", "EndTime=1459517280999"},
			time:    1459517280810 * 1e6,
			hasTime: true,
		},
		{
			name:    "unparseable rt falls through to end",
			ext:     `receiptTime=Mar 21 14:05:02 end=31 March 2016 13:04:55`,
			fields:  map[string]string{"TimeGenerated": "31 March 2016 13:04:55"},
			extra:   []string{"ReceiptTime=Mar 21 14:05:02", "EndTime=31 March 2016 13:04:55"},
			time:    ms("2016-03-31T13:04:55Z"),
			hasTime: true,
		},
		{
			name:   "unparseable time is kept, not an error",
			ext:    `rt=yesterday start=soon`,
			fields: map[string]string{"TimeGenerated": "yesterday"},
			extra:  []string{"ReceiptTime=yesterday", "StartTime=soon"},
		},
		{
			name:   "empty rt is no time",
			ext:    `rt= src=1.1.1.1`,
			fields: map[string]string{"SourceIP": "1.1.1.1"},
			extra:  []string{"ReceiptTime="},
		},
		{
			name:   "nul and invalid utf-8",
			ext:    "msg=a\x00b\xff\xfe src=\xc3",
			fields: map[string]string{"Message": "a\x00b\xff\xfe", "SourceIP": "\xc3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.line
			want := snap{Table: matcher.CommonSecurityLog, Time: tt.time, HasTime: tt.hasTime, Fields: map[string]string{}, Extra: tt.extra}
			if line == "" {
				line = defaultHeader + tt.ext
				maps.Copy(want.Fields, defaultFields)
			}
			maps.Copy(want.Fields, tt.fields)
			var e matcher.Event
			if err := Parse(&e, []byte(line)); err != nil {
				t.Fatalf("Parse(%q): %v", line, err)
			}
			if got := snapshot(&e); !equalSnap(got, want) {
				t.Errorf("Parse(%q)\ngot:\n%v\nwant:\n%v", line, got, want)
			}
			// The slow reference agrees.
			if ref, err := refParse([]byte(line)); err != nil || !equalSnap(ref, want) {
				t.Errorf("refParse(%q) = %v, %v", line, ref, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, line string
		col        int
		msg        string
	}{
		{"too few fields", "CEF:0|a|b", 1, `cannot parse CEF header "CEF:0|a|b": want 7 fields, have 3`},
		{"six fields", "<14>CEF:0|a|b|c|d|e", 5, `cannot parse CEF header "CEF:0|a|b|c|d|e": want 7 fields, have 6`},
		{"only version", "x CEF:0|", 3, `cannot parse CEF header "CEF:0|": want 7 fields, have 2`},
		{"escaped pipes do not count", `CEF:0|a\|b\|c\|d\|e\|f`, 1, `cannot parse CEF header "CEF:0|a\\|b\\|c\\|d\\|e\\|f": want 7 fields, have 2`},
		{"no version", "CEF:|a|b|c|d|e|f|", 1, `cannot parse CEF version "CEF:|a|b|c|d|e|f|": want digits and '|' after "CEF:"`},
		{"version not digits", "host CEF:x|a", 6, `cannot parse CEF version "CEF:x|a": want digits and '|' after "CEF:"`},
		{"marker at end", "CEF:", 1, `cannot parse CEF version "CEF:": want digits and '|' after "CEF:"`},
		{"long input truncated", "CEF:0|" + strings.Repeat("x", 100), 1,
			`cannot parse CEF header "CEF:0|` + strings.Repeat("x", 58) + `"...: want 7 fields, have 2`},
		{"quoting invalid utf-8", "CEF:0|\xff\x00", 1, `cannot parse CEF header "CEF:0|\xff\x00": want 7 fields, have 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e matcher.Event
			e.Table = matcher.UrlClickEvents // must be reset
			err := Parse(&e, []byte(tt.line))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %v, want *ParseError", tt.line, err)
			}
			if pe.Col != tt.col || pe.Msg != tt.msg || err.Error() != tt.msg {
				t.Errorf("Parse(%q) = {Col: %d, Msg: %s}, want {Col: %d, Msg: %s}", tt.line, pe.Col, pe.Msg, tt.col, tt.msg)
			}
			if errors.Is(err, ErrNotCEF) {
				t.Errorf("Parse(%q): error is ErrNotCEF", tt.line)
			}
			if e.Table != matcher.TableUnknown {
				t.Errorf("Parse(%q) left Table = %v", tt.line, e.Table)
			}
		})
	}
}

func TestParseNotCEF(t *testing.T) {
	for _, line := range []string{"", "hello", "cef:0|a|b|c|d|e|f|", "CEF 0|a|b|c|d|e|f|", `{"CEF":1}`, "CE", "C\x00EF:0|"} {
		var e matcher.Event
		if err := Parse(&e, []byte(line)); err != ErrNotCEF {
			t.Errorf("Parse(%q) = %v, want ErrNotCEF", line, err)
		}
	}
}

func TestParseHeader(t *testing.T) {
	line := []byte(`<14>Mar 21 14:05:02 HOST  CEF: 0|V\|x|P|1|2|N|3|src=1.1.1.1`)
	h, err := ParseHeader(line)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{string(h.Prefix), string(h.Version), string(h.DeviceVendor), string(h.DeviceProduct), string(h.DeviceVersion),
		string(h.DeviceEventClassID), string(h.Name), string(h.Severity), string(h.Extension)}
	want := []string{"<14>Mar 21 14:05:02 HOST", "0", `V\|x`, "P", "1", "2", "N", "3", "src=1.1.1.1"}
	if !slices.Equal(got, want) {
		t.Errorf("ParseHeader(%q) = %q, want %q", line, got, want)
	}
	if v := AppendUnescapedHeader(nil, h.DeviceVendor); string(v) != "V|x" {
		t.Errorf("AppendUnescapedHeader(%q) = %q", h.DeviceVendor, v)
	}
	if h, _ := ParseHeader([]byte("CEF:0|a|b|c|d|e|f")); h.Extension == nil || len(h.Extension) != 0 {
		t.Errorf("Extension = %#v, want empty non-nil", h.Extension)
	}
}

func TestExtensions(t *testing.T) {
	ext := []byte(`a=1 b=x\=y  c= d=last  `)
	var keys, raws, vals []string
	x := ScanExtensions(ext)
	for x.Next() {
		keys = append(keys, string(x.Key()))
		raws = append(raws, string(x.Raw()))
		vals = append(vals, string(x.AppendValue(nil)))
	}
	if want := []string{"a", "b", "c", "d"}; !slices.Equal(keys, want) {
		t.Errorf("keys = %q, want %q", keys, want)
	}
	if want := []string{"1", `x\=y`, "", "last"}; !slices.Equal(raws, want) {
		t.Errorf("raw values = %q, want %q", raws, want)
	}
	if want := []string{"1", "x=y", "", "last"}; !slices.Equal(vals, want) {
		t.Errorf("values = %q, want %q", vals, want)
	}
	var pairs []string
	for k, v := range Pairs(ext) {
		pairs = append(pairs, string(k)+"="+string(v))
		if string(k) == "b" {
			break
		}
	}
	if want := []string{"a=1", "b=x=y"}; !slices.Equal(pairs, want) {
		t.Errorf("Pairs = %q, want %q", pairs, want)
	}
	var zero Extensions
	if zero.Next() {
		t.Error("zero Extensions yields a pair")
	}
}

func TestColumnName(t *testing.T) {
	for key, want := range map[string]string{
		"src": "SourceIP", "deviceHostName": "DeviceName", "cs6Label": "DeviceCustomString6Label",
		"c6a4": "DeviceCustomIPv6Address4", "flexString2Label": "FlexString2Label", "externalId": "ExtID",
		"rt": "ReceiptTime", "deviceCustomDate2": "DeviceCustomDate2", "cfp4": "DeviceCustomFloatingPoint4",
	} {
		if got, ok := ColumnName([]byte(key)); !ok || got != want {
			t.Errorf("ColumnName(%q) = %q, %v; want %q", key, got, ok, want)
		}
	}
	for _, key := range []string{"slat", "cs7", "cn4", "Src", "ad.Key"} {
		if got, ok := ColumnName([]byte(key)); ok {
			t.Errorf("ColumnName(%q) = %q, want none", key, got)
		}
	}
}

// TestBufNotMoved checks that unescaping never reallocates Buf, so values
// handed out early stay valid.
func TestBufNotMoved(t *testing.T) {
	var line bytes.Buffer
	line.WriteString(`CEF:0|a\\|b\|c|d|e|f|g|`)
	for i := range 200 {
		fmt.Fprintf(&line, `k%d=\\\=\n\r\| `, i)
	}
	var e matcher.Event
	if err := Parse(&e, line.Bytes()); err != nil {
		t.Fatal(err)
	}
	if got := e.Get(matcher.DeviceVendor); string(got) != `a\` {
		t.Errorf("DeviceVendor = %q", got)
	}
	if cap(e.Buf) < line.Len() {
		t.Errorf("cap(Buf) = %d < len(line) = %d", cap(e.Buf), line.Len())
	}
	for _, kv := range e.Extra {
		if string(kv.Value) != "\\=\n\r|" {
			t.Fatalf("%s = %q", kv.Name, kv.Value)
		}
	}
}

// TestLinear parses lines of 100,000 and 400,000 extensions, and other
// worst-case shapes of both sizes, and checks that quadrupling the input
// does not much more than quadruple the time.
func TestLinear(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	shapes := map[string]func(n int) []byte{
		// Pairs of a column with a Field: past matcher.MaxExtra pairs
		// that go to Event.Extra the line is rejected (TestTooManyExtensions).
		"many pairs": func(n int) []byte {
			return []byte(defaultHeader + strings.Repeat("src=a b ", n))
		},
		"equals without keys": func(n int) []byte {
			return []byte(defaultHeader + "msg=" + strings.Repeat("a=", n))
		},
		"key bytes without equals": func(n int) []byte {
			return []byte(defaultHeader + "msg=" + strings.Repeat(" abcdefgh", n) + "=x")
		},
		"markers without version": func(n int) []byte {
			return []byte(strings.Repeat("CEF: CEF:x", n) + "CEF:0|a|b|c|d|e|f|")
		},
		"escapes": func(n int) []byte {
			return []byte("CEF:0|" + strings.Repeat(`\|`, n) + "|b|c|d|e|f|k=" + strings.Repeat(`\=`, n))
		},
	}
	const n = 50_000
	for name, gen := range shapes {
		t.Run(name, func(t *testing.T) {
			small, large := gen(n), gen(8*n)
			var e matcher.Event
			measure := func(line []byte) time.Duration {
				best := time.Duration(1 << 62)
				for range 5 {
					start := time.Now()
					Parse(&e, line)
					best = min(best, time.Since(start))
				}
				return best
			}
			ts := measure(small)
			if name == "many pairs" && string(e.Get(matcher.SourceIP)) != "a b" {
				t.Fatalf("SourceIP %q, want the last pair's", e.Get(matcher.SourceIP))
			}
			tl := measure(large)
			// Linear gives a ratio near 8, quadratic near 64; the wide
			// margin absorbs cache effects, a busy machine and the race
			// detector.
			ratio := float64(tl) / float64(ts)
			t.Logf("time(n) = %v, time(8n) = %v, ratio %.1f", ts, tl, ratio)
			if ratio > 28 {
				t.Errorf("time(8n)/time(n) = %.1f (%v, %v), want about 8", ratio, ts, tl)
			}
		})
	}
}

var typicalLine = []byte(`<14>Mar 21 14:05:02 fw01 CEF:0|Check Point|VPN-1 & FireWall-1|Check Point|Log|https|Unknown|act=Accept destinationTranslatedAddress=0.0.0.0 rt=1543270652000 spt=49363 dpt=443 cs2Label=Rule Name layer_name=Network originsicname=CN\=R80,O\=R80_M..6u6bdo dst=52.173.84.157 proto=6 src=192.168.101.100 request=http://example.com/a?b\=c msg=Referred connection: 10.1.1.40 -> 10.37.133.35 frag\=0x4000 cs5Label=Matched Category cs5=Business / Economy`)

func TestNoAllocs(t *testing.T) {
	var e matcher.Event
	syslog := []byte("Mar 21 14:05:02 host sshd[1]: accepted")
	tests := []struct {
		name string
		fn   func()
	}{
		{"Parse", func() { Parse(&e, typicalLine) }},
		{"ParseHeader", func() { ParseHeader(typicalLine) }},
		{"Parse not CEF", func() { Parse(&e, syslog) }},
		{"Extensions", func() {
			h, _ := ParseHeader(typicalLine)
			x := ScanExtensions(h.Extension)
			for x.Next() {
			}
		}},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(100, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs, want 0", tt.name, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	var e matcher.Event
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalLine)))
	for b.Loop() {
		if err := Parse(&e, typicalLine); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseParallel(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalLine)))
	b.RunParallel(func(pb *testing.PB) {
		var e matcher.Event
		for pb.Next() {
			if err := Parse(&e, typicalLine); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func ExampleParse() {
	line := []byte(`<14>Mar 21 14:05:02 fw01 CEF:0|Vendor|Firewall|1.0|100|Blocked|5|src=10.0.0.1 dst=203.0.113.7 request=http://example.com/?q\=1 rt=Apr 11 2020 10:42:13 UTC cs1Label=Rule cs1=deny all`)
	var e matcher.Event // reuse it for the next line
	if err := Parse(&e, line); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Table, string(e.Get(matcher.SourceIP)), string(e.Get(matcher.DestinationIP)))
	fmt.Println(string(e.Get(matcher.RequestURL)))
	fmt.Println(time.Unix(0, e.Time).UTC().Format(time.RFC3339), e.HasTime)
	for _, kv := range e.Extra {
		fmt.Printf("%s=%s\n", kv.Name, kv.Value)
	}
	// Output:
	// CommonSecurityLog 10.0.0.1 203.0.113.7
	// http://example.com/?q=1
	// 2020-04-11T10:42:13Z true
	// ReceiptTime=Apr 11 2020 10:42:13 UTC
	// DeviceCustomString1Label=Rule
	// DeviceCustomString1=deny all
}

// TestTooManyExtensions: a line is rejected once more than
// matcher.MaxExtra of its pairs would go to Event.Extra, however many
// there are, and the Event it leaves is empty.
func TestTooManyExtensions(t *testing.T) {
	var e matcher.Event
	at := func(n int) []byte {
		return []byte(defaultHeader + strings.Repeat("cs1=a ", n) + "src=10.0.0.1")
	}
	if err := Parse(&e, at(matcher.MaxExtra)); err != nil || len(e.Extra) != matcher.MaxExtra {
		t.Fatalf("at the bound: %v, %d extra", err, len(e.Extra))
	}
	for _, n := range []int{matcher.MaxExtra + 1, 1_000_000} {
		err := Parse(&e, at(n))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Col != len(defaultHeader)+1 ||
			!strings.HasSuffix(pe.Msg, ": more than 10000 extensions outside the CommonSecurityLog columns") {
			t.Fatalf("%d pairs: %v", n, err)
		}
		if e.Table != matcher.TableUnknown || len(e.Extra) != 0 || cap(e.Extra) > 2*matcher.MaxExtra {
			t.Errorf("%d pairs: left table %v, %d extra (capacity %d)", n, e.Table, len(e.Extra), cap(e.Extra))
		}
	}
}

// findKeySlow is findKey's reference: one pass, byte by byte.
func findKeySlow(s []byte, i int) (k, eq int) {
	run := -1 // start of the current candidate run, -1 if none
	for j := i; j < len(s); j++ {
		c := s[j]
		switch {
		case keyByte[c]:
			if run < 0 && (j == 0 || s[j-1] == ' ') {
				run = j
			}
		case c == '=' && run >= 0:
			return run, j
		default:
			run = -1
		}
	}
	return -1, -1
}

// TestFindKeyReference compares findKey with findKeySlow on random strings
// over the bytes that matter (key bytes, '=', space, backslash, others)
// from every start.
func TestFindKeyReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "ab1_.=  \\\\/?:"
	for range 200_000 {
		s := make([]byte, rng.IntN(24))
		for j := range s {
			s[j] = alphabet[rng.IntN(len(alphabet))]
		}
		for i := 0; i <= len(s); i++ {
			k, eq := findKey(s, i)
			wk, weq := findKeySlow(s, i)
			if k != wk || eq != weq {
				t.Fatalf("findKey(%q, %d) = %d, %d; want %d, %d", s, i, k, eq, wk, weq)
			}
		}
	}
}

func FuzzFindKey(f *testing.F) {
	f.Add([]byte("src=1.2.3.4 request=http://a/b?c=d act=allow"), 0)
	f.Add([]byte(`msg=a\\=b k=v`), 3)
	f.Fuzz(func(t *testing.T, s []byte, i int) {
		if i < 0 || i > len(s) {
			return
		}
		k, eq := findKey(s, i)
		wk, weq := findKeySlow(s, i)
		if k != wk || eq != weq {
			t.Fatalf("findKey(%q, %d) = %d, %d; want %d, %d", s, i, k, eq, wk, weq)
		}
	})
}
