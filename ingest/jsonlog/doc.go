// Package jsonlog owns the parsing of JSON log records into matcher.Event:
// one JSON object per line, shaped like the Microsoft Sentinel tables
// CommonSecurityLog, DeviceNetworkEvents and UrlClickEvents.
//
// Two shapes are understood:
//
//   - Log Analytics export: one record per line, its columns the line's
//     members and its table named by the Type member
//     ({"TimeGenerated":"…","Type":"CommonSecurityLog",…}).
//   - Defender streaming: a records envelope holding several records per
//     line ({"records":[{"time":"…","category":"AdvancedHunting-DeviceNetworkEvents","properties":{…}},…]}).
//     Each record's table is its category without the "AdvancedHunting-"
//     prefix and its columns are the members of its properties object; the
//     envelope's other members are not kept.
//
// A record that names no table (no Type or category, or null or "") takes the
// Parser's default table, the CLI's --table.
//
// Columns whose name is a matcher.Field (exact case) are set on the Event;
// the others, Type included, go to Event.Extra in line order. Strings are
// decoded (invalid UTF-8 is kept as is, unpaired surrogate escapes become
// U+FFFD); numbers, booleans, objects and arrays keep their JSON text; null
// is absent. UrlChain also fills Event.Chain from an array of strings, from a
// string holding such an array, or from a single URL. When a member repeats,
// the last one wins, as in encoding/json.
//
// The event time is TimeGenerated for CommonSecurityLog; for the Defender
// tables it is Timestamp, else TimeGenerated, else the envelope record's
// time: the first of them present, parsed by internal/evtime. A time that
// does not parse leaves Event.HasTime false and is not an error.
//
// The parser is a hand-written byte scanner: it does not use encoding/json,
// maps or reflection, runs in time linear in the line, skips nested values
// without recursion under a depth limit, rejects a record with more than
// matcher.MaxExtra members outside its table's columns or URLs in its
// UrlChain (so that memory stays bounded too), and does not allocate once its
// Parser and the caller's Event have grown to the input. Parsed values alias
// the line or the Event's Buf; see Parser.Next.
package jsonlog
