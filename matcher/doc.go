// Package matcher decides: it holds the parsed log record (Event), threat
// indicators (Indicator), the IP radix set, the URL Aho-Corasick automaton and
// the engine that matches one against the other, and the Alert they produce.
//
// Matching semantics are documented on Set.
package matcher
