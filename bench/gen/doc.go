// Package gen owns the benchmark corpora: it writes, from a seed, threat
// feeds as plain lists, the same indicator strings as one patterns file for
// literal scanners (grep -F, rg -F), a corpus of log records, and
// expected.json, which says how many records must alert.
//
// Output depends only on Config: every random draw comes from a PCG stream
// (math/rand/v2) seeded with Config.Seed, with one stream per feed and one
// for the records, so changing the record count leaves the feeds alone.
//
// Two corpora exist (Kind):
//
//   - Mixed: interleaved lines of the CommonSecurityLog table as CEF behind
//     varied syslog prefixes (RFC 3164, RFC 5424, a bare <PRI>, a tagged
//     line without PRI, an RFC 3339 relay timestamp) and as JSON, and of the
//     DeviceNetworkEvents and UrlClickEvents tables as JSON (Log Analytics
//     export: one object a line with a Type member), against URL, IP, CIDR,
//     domain and hash feeds.
//   - URLs: UrlClickEvents JSON lines against a URL feed only.
//
// Each record is one of three things:
//
//   - noise, which matches nothing and contains no indicator string at all;
//   - a hit (Config.HitRate): one indicator planted in a field matchd
//     matches for that table, so the record must give one alert;
//   - a lookalike (Config.LookalikeRate): an indicator string in a field
//     matchd does not match for IOCs (a NAT address, a command line, the
//     clicking client's address), or a near miss in a matched field (an IP
//     or URL indicator followed by one more letter or digit, a domain with a
//     letter in front or a benign zone behind). It must not alert, but a
//     literal scanner counts it.
//
// Expected.Alerts counts the hits. Expected.LiteralLines counts the lines a
// literal scanner given the patterns file finds: hits whose planted value
// contains its indicator verbatim (not CIDR or ip:port hits, not URLs whose
// case was changed or whose '=' CEF escaped) and lookalikes.
//
// Noise never matches by accident because noise and indicators are drawn
// from disjoint spaces:
//
//   - IPv4 noise is private (10/8, 172.16/12, 192.168/16), from the
//     benchmarking block 198.18/15, or from the first octets of IP
//     indicators (which are all three digits long) when neither the address
//     nor any IP that is a prefix of its text is an indicator. CIDRs use
//     first octets 1-99 only, never 10, so they cover no noise; IP, ip:port
//     and URL-host indicators use disjoint sets of three-digit first
//     octets, so that no IP indicator's text is a substring of another
//     kind's address.
//   - IPv6 noise is 2001:db8::/32; indicators are under 2a00::/11 in the
//     shape g1:g2:g3:g4::n, whose first group is never a suffix of "2001".
//   - Noise hosts end in .com, .net, .org, .us; URL indicator hosts in
//     urlTLDs; domain indicators in domainTLDs, and no noise text contains
//     "." followed by one of those.
//   - Every URL indicator begins with its scheme and host, and no noise URL
//     has an indicator host. The URL feed is prefix-free (ASCII case
//     folded), so a URL indicator followed by more letters is no other
//     indicator.
//   - Noise hashes are random hex, so they equal or contain an indicator
//     hash with probability below 2^-100 for the default sizes.
//
// The generator writes about 100 MB/s on one core; see bench/README.md.
package gen
