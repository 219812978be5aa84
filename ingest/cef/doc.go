// Package cef parses ArcSight Common Event Format lines into matcher.Events
// of the CommonSecurityLog table, without allocating in the steady state.
//
// It owns the CEF grammar as matchd reads it: finding the "CEF:" marker
// behind any syslog prefix, splitting and unescaping the seven header fields,
// scanning the key=value extension, and mapping CEF keys to the
// CommonSecurityLog columns the way Microsoft Sentinel's CEF connector names
// them (ColumnName reports the mapping). Parse is the entry point;
// ParseHeader and Extensions expose the lower layers for tools and tests.
//
// The grammar, as implemented:
//
//   - The marker is the first "CEF:" followed by optional spaces, digits
//     (the CEF version) and '|'. Anything before it is the prefix and is
//     ignored. A line without "CEF:" is ErrNotCEF.
//   - The header is Version|DeviceVendor|DeviceProduct|DeviceVersion|
//     DeviceEventClassID|Name|Severity|, where "\|" and "\\" stand for '|'
//     and '\'. The '|' after Severity may be missing when there is no
//     extension.
//   - The extension is a sequence of key=value pairs. A key is a run of
//     [A-Za-z0-9_.[\]-] at the start of the extension or after a space,
//     directly followed by '='. A value runs up to the space before the next
//     key, so values may hold spaces and unescaped '='. Trailing blanks of a
//     value are dropped, leading ones kept. In values "\=", "\\", "\|",
//     "\n" and "\r" are unescaped; any other backslash is kept as it is.
//     Text before the first key is ignored.
//
// A line whose extension holds more than matcher.MaxExtra pairs without a
// matcher.Field (those that go to Event.Extra) is rejected, so that a
// hostile line costs memory in proportion to the bound, not to its length.
//
// Parsing is linear in the length of the line and never panics, whatever the
// input (invalid UTF-8 and NUL bytes included).
package cef
