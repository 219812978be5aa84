// Package evtime parses the event timestamps found in log records into Unix
// nanoseconds. It owns the set of accepted layouts, which the CEF and JSON
// parsers share so that one record time means the same instant whichever
// parser read it.
//
// Parse never allocates and never reads the clock: a layout without a year
// (syslog's "Mar 21 14:05:02") is rejected rather than completed with the
// current year, and a time without a zone is UTC.
package evtime
