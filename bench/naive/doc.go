// Package naive is the baseline matchd is measured against and the
// reference the corpus generator is checked with: the obvious program a
// Go programmer would write in an afternoon. It decodes JSON records with
// encoding/json into map[string]any, splits CEF with strings functions,
// looks IPs and names up in maps, and tries every URL indicator on every
// URL field with strings.Index. It follows matchd's documented matching
// rules (go doc ./matcher Set) and shares no code with matchd or with the
// generator.
//
// It is slow on purpose: the URL loop costs O(URL indicators) per URL
// field.
package naive
