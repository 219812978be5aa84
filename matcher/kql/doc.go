// Package kql owns matchd's KQL rules: the lexer and parser of a subset of
// the Kusto Query Language (the language of Microsoft Sentinel hunting
// queries), the compiler that turns the literals of thousands of queries
// into one shared prefilter — an IP radix set, an Aho-Corasick automaton
// and two value tables — and the evaluator that runs each query's full
// predicate only on the records the prefilter says it could select, then
// writes the query's projection as an alert.
//
// A rule file holds queries one after another, each its let statements
// and one tabular expression:
//
//	// Hunt in Defender for Endpoint network events
//	let malicious_ips = dynamic(["176.65.139.126", "169.239.130.20"]);
//	DeviceNetworkEvents
//	| where RemoteIP in (malicious_ips)
//	| project Timestamp, DeviceName, RemoteIP, RemotePort, InitiatingProcessFileName, ActionType
//	| order by Timestamp desc
//
// The subset, its semantics and the compilation are described in
// DESIGN.md. Anything outside the subset is a *ParseError naming the
// construct and its file:line:column.
package kql
