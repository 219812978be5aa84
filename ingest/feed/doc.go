// Package feed owns threat feed loading: it reads the files given to
// `matchd --iocs FILE`, recognises their format from their content (never
// from their name), and turns every entry into a canonical matcher.Indicator.
//
// Formats, tried in this order:
//
//   - JSON (content starts with '{' or '['): a STIX 2.1 bundle, a bare STIX
//     indicator object or an array of STIX objects; the ThreatFox API response
//     ({"query_status":"ok","data":[…]}); the ThreatFox or URLhaus full JSON
//     export (an object of id → array of records); an array of such records;
//     or NDJSON with one ThreatFox or URLhaus record a line.
//   - CSV: the ThreatFox or URLhaus CSV export, recognised by its '#'-commented
//     column line; columns are found by name.
//   - Document: a Markdown report with an IOC table (a header row with a Value
//     column) or KQL `dynamic([…])` lists. Only those parts are read; prose,
//     other tables and KQL operators are not entries.
//   - Plain list: one indicator a line, with '#' comments and defanged forms
//     accepted, the type detected per line (see ParseValue).
//
// Every value is canonicalised as documented on matcher.Indicator, so the
// same indicator coming from several entries or feeds is found by its Value
// and folded with (*matcher.Indicator).Merge, within a feed by Parse and
// across feeds by Merge, or by MergeSeq, which hands the result to
// matcher.CompileSeq without copying the feeds' indicators into one slice.
//
// A bad entry is never fatal: it is counted in Feed.BadCount and the first
// 1000 are kept as *EntryError. A feed that cannot be read, whose
// format is not recognised, or that yields no indicator is fatal: Load and
// Parse return a *FeedError.
//
// Hygiene warnings (private, reserved and documentation addresses, very
// broad CIDRs, TLD-only domains, hashes of empty input) are reported in
// Feed.Warnings for `matchd check`; they never drop an indicator.
//
// The parsers do not read the clock: STIX valid_until is compared with
// Options.Now, which Parse fills from time.Now once when it is zero. Loading
// runs at start and on reload, never on the match path, but feeds reach
// millions of entries, so it keeps per-entry allocation down: a value
// already spelled canonically is a substring of the feed's text, and
// metadata that repeats across entries (threat type, malware, tag and
// source lists) is shared by the indicators that carry it.
package feed
