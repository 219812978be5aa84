package gen

import (
	"strconv"
	"strings"
)

// Firewall and proxy models of the CommonSecurityLog records.
const (
	vendorPAN = iota
	vendorForti
	vendorCheckPoint
	vendorZscaler
)

var vendorWeights = []int{30, 25, 20, 25}

// Syslog prefixes of CEF lines.
const (
	prefix3164    = iota // <14>Jun  7 10:00:01 fw01 CEF:0|...
	prefix5424           // <134>1 2026-06-07T10:00:01.123Z fw02 CEF - - - CEF:0|...
	prefixPRI            // <134>CEF:0|...
	prefixTagged         // Jun  7 10:00:01 proxy01 ZscalerNSS: CEF:0|...
	prefixRFC3339        // 2026-06-07T10:00:01.123Z relay01 CEF:0|...
)

// cslRec holds the fields shared by the CEF and JSON forms of a
// CommonSecurityLog record.
type cslRec struct {
	vendor           int
	src, dst, nat    []byte
	spt, dpt         int
	request, dhost   []byte
	user             string
	in, out          int
	action, activity string
}

// csl appends a CommonSecurityLog record, as CEF or as JSON.
func (g *recordGen) csl(asCEF bool, p *plant) {
	r := g.r
	var c cslRec
	switch p.slot {
	case slotRequest, slotDhost:
		c.vendor = vendorZscaler
	case slotNAT:
		c.vendor = pick(r, []int{vendorPAN, vendorForti})
	default:
		c.vendor = r.weighted(vendorWeights)
	}
	v6 := strings.IndexByte(p.value, ':') >= 0 && (p.slot == slotSrc || p.slot == slotDst) || r.chance(0.03)
	buf := g.tmp[:0]
	mark := func() []byte { s := buf; buf = buf[len(buf):]; return s }
	switch {
	case p.slot == slotSrc:
		buf = append(buf, p.value...)
	case v6:
		buf = g.appendNoise6(buf)
	default:
		buf = g.appendPrivate4(buf)
	}
	c.src = mark()
	switch {
	case p.slot == slotDst:
		buf = append(buf, p.value...)
	case v6:
		buf = g.appendNoise6(buf)
	case r.chance(0.7):
		buf = g.appendPublic4(buf)
	default:
		buf = g.appendPrivate4(buf)
	}
	c.dst = mark()
	c.spt = r.rangeIn(1024, 65535)
	c.dpt = pick(r, []int{443, 443, 443, 80, 53, 22, 25, 123, 8443, 3389})
	if p.port != 0 {
		c.dpt = p.port
	}
	if c.vendor == vendorPAN || c.vendor == vendorForti {
		switch {
		case p.slot == slotNAT:
			buf = append(buf, p.value...)
		case r.chance(0.3) && !v6:
			buf = g.appendPublic4(buf)
		}
		c.nat = mark()
	}
	if c.vendor == vendorZscaler {
		switch p.slot {
		case slotRequest:
			buf = append(buf, p.value...)
			c.request = mark()
			buf = append(buf, urlHost(p.value)...)
			c.dhost = mark()
		case slotDhost:
			buf = append(buf, p.value...)
			c.dhost = mark()
			buf = append(buf, "https://"...)
			buf = append(buf, p.value...)
			buf = g.appendNoisePath(buf)
			c.request = mark()
		default:
			buf = g.appendNoiseURL(buf)
			c.request = mark()
			buf = append(buf, urlHost(string(c.request))...)
			c.dhost = mark()
		}
		c.user = g.user() + "@contoso.com"
	} else {
		c.user = `corp\` + g.user()
	}
	g.tmp = buf
	c.in, c.out = r.rangeIn(40, 2_000_000), r.rangeIn(40, 200_000)
	if asCEF {
		g.cefLine(&c)
	} else {
		g.cslJSON(&c)
	}
}

var vendorHeaders = [...]struct {
	vendor, product, version, class, name, severity string
}{
	vendorPAN:        {"Palo Alto Networks", "PAN-OS", "10.2.4", "TRAFFIC", "end", "3"},
	vendorForti:      {"Fortinet", "FortiGate-100F", "7.4.3,build2573", "0000000013", "traffic:forward close", "3"},
	vendorCheckPoint: {"Check Point", "VPN-1 & FireWall-1", "R81.20", "Log", "Accept", "Low"},
	vendorZscaler:    {"Zscaler", "NSSWeblog", "6.2", "allowed", "Web request allowed", "1"},
}

var vendorPrefix = [...]int{vendorPAN: prefix3164, vendorForti: prefixPRI, vendorCheckPoint: prefix5424, vendorZscaler: prefixTagged}
var vendorHost = [...]string{vendorPAN: "fw", vendorForti: "fgt", vendorCheckPoint: "cp-gw", vendorZscaler: "nss"}

func (g *recordGen) cefLine(c *cslRec) {
	r := g.r
	b := g.b
	t := g.time()
	pfx := vendorPrefix[c.vendor]
	if r.chance(0.3) {
		pfx = r.intn(5)
	}
	host := vendorHost[c.vendor] + "0" + strconv.Itoa(1+r.intn(4))
	switch pfx {
	case prefix3164:
		b = append(b, "<14>"...)
		b = appendSyslogTime(b, t)
		b = append(b, ' ')
		b = append(b, host...)
		b = append(b, ' ')
	case prefix5424:
		b = append(b, "<134>1 "...)
		b = appendRFC3339Milli(b, t)
		b = append(b, ' ')
		b = append(b, host...)
		b = append(b, " CEF - - - "...)
	case prefixPRI:
		b = append(b, "<189>"...)
	case prefixTagged:
		b = appendSyslogTime(b, t)
		b = append(b, ' ')
		b = append(b, host...)
		b = append(b, pick(r, []string{" ZscalerNSS: ", " CEF: ", " firewall: "})...)
	default:
		b = appendRFC3339Milli(b, t)
		b = append(b, " relay0"...)
		b = strconv.AppendInt(b, int64(1+r.intn(3)), 10)
		b = append(b, ' ')
	}
	h := vendorHeaders[c.vendor]
	b = append(b, "CEF:0|"...)
	for _, f := range []string{h.vendor, h.product, h.version, h.class, h.name, h.severity} {
		b = append(b, f...)
		b = append(b, '|')
	}
	switch c.vendor {
	case vendorPAN:
		b = append(b, "rt="...)
		b = t.AppendFormat(b, "Jan 02 2006 15:04:05 GMT")
		b = append(b, ' ')
		b = append(b, "deviceExternalId=0079010"...)
		b = strconv.AppendInt(b, int64(10000+r.intn(90000)), 10)
		b = append(b, ' ')
		b = cef(b, "src", string(c.src))
		b = cef(b, "dst", string(c.dst))
		if len(c.nat) > 0 {
			b = cef(b, "destinationTranslatedAddress", string(c.nat))
		}
		b = append(b, "cs1Label=Rule cs1="...)
		b = append(b, pick(r, []string{"allow-web", "allow-dns", "default-deny", "o365", "guest-internet"})...)
		b = append(b, ' ')
		b = cef(b, "suser", c.user)
		b = cef(b, "app", pick(r, panApps))
		b = append(b, "cs3Label=Virtual System cs3=vsys1 "...)
		b = cefNum(b, "spt", int64(c.spt))
		b = cefNum(b, "dpt", int64(c.dpt))
		b = append(b, "proto=tcp "...)
		b = cef(b, "act", pick(r, panActions))
		b = cefNum(b, "in", int64(c.in))
		b = cefNum(b, "out", int64(c.out))
	case vendorForti:
		b = append(b, "deviceExternalId=FG100FTK22"...)
		b = strconv.AppendInt(b, int64(100000+r.intn(900000)), 10)
		b = append(b, " FTNTFGTlogid=0000000013 cat=traffic:forward FTNTFGTvd=root "...)
		b = cef(b, "src", string(c.src))
		b = cefNum(b, "spt", int64(c.spt))
		b = cef(b, "dst", string(c.dst))
		b = cefNum(b, "dpt", int64(c.dpt))
		b = cef(b, "FTNTFGTdstcountry", pick(r, countries))
		if len(c.nat) > 0 {
			b = cef(b, "destinationTranslatedAddress", string(c.nat))
		}
		b = cefNum(b, "externalId", int64(r.intn(1<<30)))
		b = append(b, "proto=6 act=close "...)
		b = cefNum(b, "FTNTFGTpolicyid", int64(1+r.intn(40)))
		b = cef(b, "app", pick(r, fortiServices))
		b = cefNum(b, "out", int64(c.out))
		b = cefNum(b, "in", int64(c.in))
	case vendorCheckPoint:
		b = cef(b, "act", "Accept")
		b = append(b, "deviceDirection=0 rt="...)
		b = strconv.AppendInt(b, g.ms, 10)
		b = append(b, ' ')
		b = cefNum(b, "spt", int64(c.spt))
		b = cefNum(b, "dpt", int64(c.dpt))
		b = cef(b, "src", string(c.src))
		b = cef(b, "dst", string(c.dst))
		b = append(b, "proto=6 cs2Label=Rule Name "...)
		b = cef(b, "cs2", pick(r, cpRules))
		b = append(b, "ifname=eth1 "...)
		b = cef(b, "suser", c.user)
		b = cefNum(b, "in", int64(c.in))
		b = cefNum(b, "out", int64(c.out))
	case vendorZscaler:
		b = append(b, "rt="...)
		b = t.AppendFormat(b, "Jan 02 2006 15:04:05")
		b = append(b, ' ')
		b = cef(b, "src", string(c.src))
		b = cef(b, "dst", string(c.dst))
		b = cef(b, "dhost", string(c.dhost))
		b = cef(b, "request", string(c.request))
		b = append(b, "requestMethod=GET "...)
		b = cef(b, "requestClientApplication", pick(r, userAgents))
		b = cef(b, "cat", pick(r, urlCategories))
		b = cef(b, "suser", c.user)
		b = append(b, "act=allowed "...)
		b = cefNum(b, "in", int64(c.in))
		b = cefNum(b, "out", int64(c.out))
	}
	g.b = cefEnd(b)
}

func (g *recordGen) cslJSON(c *cslRec) {
	r := g.r
	b := append(g.b, '{')
	b = append(b, `"TimeGenerated":"`...)
	b = appendRFC3339Milli(b, g.time())
	b = append(b, `",`...)
	h := vendorHeaders[c.vendor]
	b = jsonStr(b, "DeviceVendor", h.vendor)
	b = jsonStr(b, "DeviceProduct", h.product)
	b = jsonStr(b, "Activity", h.name)
	b = jsonStr(b, "SourceIP", string(c.src))
	b = jsonNum(b, "SourcePort", c.spt)
	b = jsonStr(b, "DestinationIP", string(c.dst))
	b = jsonNum(b, "DestinationPort", c.dpt)
	if len(c.nat) > 0 {
		b = jsonStr(b, "DestinationTranslatedAddress", string(c.nat))
	}
	switch c.vendor {
	case vendorZscaler:
		b = jsonStr(b, "DeviceAction", "allowed")
		b = jsonStr(b, "RequestURL", string(c.request))
		b = jsonStr(b, "DestinationHostName", string(c.dhost))
	case vendorCheckPoint:
		b = jsonStr(b, "DeviceAction", "Accept")
		b = jsonStr(b, "DeviceCustomString2", pick(r, cpRules))
	default:
		b = jsonStr(b, "DeviceAction", pick(r, panActions))
		b = jsonStr(b, "ApplicationProtocol", pick(r, panApps))
	}
	b = jsonStr(b, "SourceUserName", c.user)
	b = jsonNum(b, "SentBytes", c.out)
	b = jsonStr(b, "Type", CommonSecurityLog)
	g.b = jsonEnd(b)
}

// dne appends a DeviceNetworkEvents record.
func (g *recordGen) dne(p *plant) {
	r := g.r
	t := g.time()
	v6 := strings.IndexByte(p.value, ':') >= 0 && p.slot == slotRemoteIP || r.chance(0.04)
	b := append(g.b, '{')
	b = append(b, `"TimeGenerated":"`...)
	b = appendRFC3339Milli(b, t)
	b = append(b, `","DeviceName":"`...)
	b = append(b, pick(r, deviceNames)...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(r.intn(1000)), 10)
	b = append(b, `.contoso.com",`...)
	b = jsonStr(b, "ActionType", pick(r, dneActions))
	b = append(b, `"RemoteIP":"`...)
	switch {
	case p.slot == slotRemoteIP:
		b = append(b, p.value...)
	case v6:
		b = g.appendNoise6(b)
	case r.chance(0.75):
		b = g.appendPublic4(b)
	default:
		b = g.appendPrivate4(b)
	}
	b = append(b, `",`...)
	port := pick(r, []int{443, 443, 443, 80, 53, 22, 445, 3389, 8080})
	if p.port != 0 {
		port = p.port
	}
	b = jsonNum(b, "RemotePort", port)
	b = append(b, `"RemoteUrl":"`...)
	switch {
	case p.slot == slotRemoteURL:
		b = appendJSONEscaped(b, p.value)
	case r.chance(0.3):
		b = g.appendNoiseHost(b)
	case r.chance(0.3):
		b = appendJSONEscaped(b, string(g.appendNoiseURL(g.tmp[:0])))
	}
	b = append(b, `","LocalIP":"`...)
	if v6 {
		b = g.appendNoise6(b)
	} else {
		b = g.appendPrivate4(b)
	}
	b = append(b, `",`...)
	proc := pick(r, processes)
	if p.slot == slotCmdline {
		want := "%h"
		if strings.Contains(p.value, "://") {
			want = "%u"
		}
		for !strings.Contains(proc.cmd, want) {
			proc = pick(r, processes)
		}
	}
	b = jsonStr(b, "InitiatingProcessFileName", proc.file)
	b = append(b, `"InitiatingProcessCommandLine":"`...)
	cmd := proc.cmd
	for cmd != "" {
		i := strings.IndexByte(cmd, '%')
		if i < 0 || i+1 >= len(cmd) {
			b = appendJSONEscaped(b, cmd)
			break
		}
		b = appendJSONEscaped(b, cmd[:i])
		switch {
		case p.slot == slotCmdline:
			b = appendJSONEscaped(b, p.value)
		case cmd[i+1] == 'u':
			b = appendJSONEscaped(b, string(g.appendNoiseURL(g.tmp[:0])))
		case r.chance(0.5):
			b = g.appendPrivate4(b)
		default:
			b = g.appendNoiseHost(b)
		}
		cmd = cmd[i+2:]
	}
	b = append(b, `",`...)
	if p.slot == slotSHA256 || r.chance(0.2) {
		b = append(b, `"InitiatingProcessSHA256":"`...)
		b = g.appendHash(b, p, slotSHA256, 64)
		b = append(b, `",`...)
	}
	b = append(b, `"InitiatingProcessSHA1":"`...)
	b = g.appendHash(b, p, slotSHA1, 40)
	b = append(b, `","InitiatingProcessMD5":"`...)
	b = g.appendHash(b, p, slotMD5, 32)
	b = append(b, `",`...)
	b = jsonStr(b, "InitiatingProcessParentFileName", proc.parent)
	b = jsonStr(b, "Type", DeviceNetworkEvents)
	g.b = jsonEnd(b)
}

func (g *recordGen) appendHash(b []byte, p *plant, s slot, n int) []byte {
	if p.slot == s {
		return append(b, p.value...)
	}
	return g.r.appendHex(b, n)
}

// uce appends a UrlClickEvents record.
func (g *recordGen) uce(p *plant) {
	r := g.r
	t := g.time()
	b := append(g.b, '{')
	b = append(b, `"TimeGenerated":"`...)
	b = appendRFC3339Milli(b, t)
	b = append(b, `",`...)
	var target string
	wrapped := false
	switch p.slot {
	case slotURL:
		target = p.value
	case slotURLChain:
		target, wrapped = p.value, true
	default:
		target = string(g.appendNoiseURL(g.tmp[:0]))
		wrapped = r.chance(0.15)
	}
	var url string
	if wrapped {
		url = safelinks(r, target)
	} else {
		url = target
	}
	b = jsonStr(b, "Url", url)
	if wrapped || r.chance(0.1) {
		chain := []string{url}
		if wrapped {
			chain = append(chain, target)
		}
		var arr []byte
		arr = append(arr, '[')
		for i, u := range chain {
			if i > 0 {
				arr = append(arr, ',')
			}
			arr = append(arr, '"')
			arr = appendJSONEscaped(arr, u)
			arr = append(arr, '"')
		}
		arr = append(arr, ']')
		if r.chance(0.5) {
			b = jsonStr(b, "UrlChain", string(arr)) // Log Analytics export: dynamic as a string
		} else {
			b = jsonRaw(b, "UrlChain", arr)
		}
	}
	b = append(b, `"AccountUpn":"`...)
	b = append(b, g.user()...)
	b = append(b, `@contoso.com",`...)
	action := pick(r, clickActions)
	b = jsonStr(b, "ActionType", action)
	b = jsonBool(b, "IsClickedThrough", action == "ClickAllowed" && r.chance(0.7))
	b = append(b, `"NetworkMessageId":"`...)
	b = g.appendGUID(b)
	b = append(b, `","IPAddress":"`...)
	if p.slot == slotClientIP {
		b = append(b, p.value...)
	} else {
		b = g.appendPublic4(b)
	}
	b = append(b, `",`...)
	b = jsonStr(b, "Workload", pick(r, workloads))
	if tt := pick(r, threatTypes); tt != "" {
		b = jsonStr(b, "ThreatTypes", tt)
	}
	b = jsonStr(b, "Type", UrlClickEvents)
	g.b = jsonEnd(b)
}

// safelinks wraps u as Defender for Office 365 rewrites links: percent
// encoded in the url parameter, so that u itself does not occur.
func safelinks(r *rng, u string) string {
	var b []byte
	b = append(b, "https://nam"...)
	b = appendInt2(b, 1+r.intn(12))
	b = append(b, ".safelinks.protection.outlook.com/?url="...)
	for i := 0; i < len(u); i++ {
		c := u[i]
		if isAlnum(c) || c == '.' || c == '-' || c == '_' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
	}
	b = append(b, "&data=05%7C02%7C"...)
	b = r.appendHex(b, 16)
	b = append(b, "&reserved=0"...)
	return string(b)
}
