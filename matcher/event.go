package matcher

import "bytes"

// Table identifies the Sentinel table a record belongs to. The zero value,
// TableUnknown, is a record no parser could place.
type Table uint8

const (
	TableUnknown Table = iota
	CommonSecurityLog
	DeviceNetworkEvents
	UrlClickEvents
	numTables
)

var tableNames = [numTables]string{"", "CommonSecurityLog", "DeviceNetworkEvents", "UrlClickEvents"}

// String returns the Sentinel table name ("" for TableUnknown).
func (t Table) String() string {
	if t >= numTables {
		return ""
	}
	return tableNames[t]
}

// ParseTable returns the table named b (exact Sentinel spelling, ASCII case
// ignored) or TableUnknown. It does not allocate.
func ParseTable(b []byte) Table {
	for t := CommonSecurityLog; t < numTables; t++ {
		if bytes.EqualFold(b, []byte(tableNames[t])) {
			return t
		}
	}
	return TableUnknown
}

// Tables lists the tables matchd ingests, in a fixed order.
func Tables() []Table { return []Table{CommonSecurityLog, DeviceNetworkEvents, UrlClickEvents} }

// Field identifies a column of a Sentinel table. Fields are shared between
// tables where Sentinel uses the same column name (DeviceName, ActionType).
// Columns without a Field of their own travel in Event.Extra.
type Field uint8

const (
	FieldNone Field = iota

	// CommonSecurityLog.
	TimeGenerated
	SourceIP
	DestinationIP
	SourcePort
	DestinationPort
	DeviceAction
	Activity
	RequestURL
	DestinationHostName
	SourceHostName
	DeviceVendor
	DeviceProduct
	DeviceVersion
	DeviceEventClassID
	LogSeverity
	ApplicationProtocol
	Protocol
	SourceUserName
	DestinationUserName
	Message
	CEFVersion

	// DeviceNetworkEvents (DeviceName and ActionType are shared).
	Timestamp
	DeviceName
	ActionType
	RemoteIP
	RemotePort
	RemoteUrl
	LocalIP
	LocalPort
	InitiatingProcessFileName
	InitiatingProcessCommandLine
	InitiatingProcessAccountName
	InitiatingProcessParentFileName
	InitiatingProcessSHA256
	InitiatingProcessSHA1
	InitiatingProcessMD5

	// UrlClickEvents.
	AccountUpn
	Url
	UrlChain
	IsClickedThrough

	NumFields
)

var fieldNames = [NumFields]string{
	FieldNone:                       "",
	TimeGenerated:                   "TimeGenerated",
	SourceIP:                        "SourceIP",
	DestinationIP:                   "DestinationIP",
	SourcePort:                      "SourcePort",
	DestinationPort:                 "DestinationPort",
	DeviceAction:                    "DeviceAction",
	Activity:                        "Activity",
	RequestURL:                      "RequestURL",
	DestinationHostName:             "DestinationHostName",
	SourceHostName:                  "SourceHostName",
	DeviceVendor:                    "DeviceVendor",
	DeviceProduct:                   "DeviceProduct",
	DeviceVersion:                   "DeviceVersion",
	DeviceEventClassID:              "DeviceEventClassID",
	LogSeverity:                     "LogSeverity",
	ApplicationProtocol:             "ApplicationProtocol",
	Protocol:                        "Protocol",
	SourceUserName:                  "SourceUserName",
	DestinationUserName:             "DestinationUserName",
	Message:                         "Message",
	CEFVersion:                      "CEFVersion",
	Timestamp:                       "Timestamp",
	DeviceName:                      "DeviceName",
	ActionType:                      "ActionType",
	RemoteIP:                        "RemoteIP",
	RemotePort:                      "RemotePort",
	RemoteUrl:                       "RemoteUrl",
	LocalIP:                         "LocalIP",
	LocalPort:                       "LocalPort",
	InitiatingProcessFileName:       "InitiatingProcessFileName",
	InitiatingProcessCommandLine:    "InitiatingProcessCommandLine",
	InitiatingProcessAccountName:    "InitiatingProcessAccountName",
	InitiatingProcessParentFileName: "InitiatingProcessParentFileName",
	InitiatingProcessSHA256:         "InitiatingProcessSHA256",
	InitiatingProcessSHA1:           "InitiatingProcessSHA1",
	InitiatingProcessMD5:            "InitiatingProcessMD5",
	AccountUpn:                      "AccountUpn",
	Url:                             "Url",
	UrlChain:                        "UrlChain",
	IsClickedThrough:                "IsClickedThrough",
}

// String returns the Sentinel column name of f.
func (f Field) String() string {
	if f >= NumFields {
		return ""
	}
	return fieldNames[f]
}

// fieldSlots is an open-addressing table from column name to Field, keyed
// by a cheap hash of the name's length and a few bytes: parsers look up
// every JSON member name, so this beats a string-keyed map by avoiding a
// full-string hash. Read-only after init.
var fieldSlots = func() (t [fieldSlotCount]Field) {
	for f := Field(1); f < NumFields; f++ {
		i := fieldHash(fieldNames[f])
		for t[i] != FieldNone {
			i = (i + 1) & (fieldSlotCount - 1)
		}
		t[i] = f
	}
	return t
}()

const fieldSlotCount = 256 // a power of two, well above 2*NumFields

func fieldHash[S ~string | ~[]byte](b S) int {
	n := len(b)
	if n == 0 {
		return 0
	}
	h := uint(n)*131 + uint(b[0])*31 + uint(b[n-1])*7 + uint(b[n/2])
	return int(h*0x9E3779B1>>8) & (fieldSlotCount - 1)
}

// LookupField returns the field whose column name is exactly b, or FieldNone.
// It does not allocate.
func LookupField(b []byte) Field {
	for i := fieldHash(b); ; i = (i + 1) & (fieldSlotCount - 1) {
		f := fieldSlots[i]
		if f == FieldNone || fieldNames[f] == string(b) {
			return f
		}
	}
}

// KV is a column without a Field of its own: Name is the Sentinel column name
// when the parser knows the mapping, else the source's own key.
type KV struct {
	Name, Value []byte
}

// Event is one parsed log record. Parsers fill it; the matcher reads it.
//
// Values alias the parsed line or Buf, so an Event is valid only until the
// next parse into it or until the line's buffer is reused. The zero value is
// an empty event of TableUnknown. An Event is not safe for concurrent use.
type Event struct {
	Table Table

	// Time is the record's event time in Unix nanoseconds (TimeGenerated for
	// CommonSecurityLog, Timestamp for the Defender tables), valid when
	// HasTime is set.
	Time    int64
	HasTime bool

	vals [NumFields][]byte

	// Chain holds the URLs of UrlChain, in order.
	Chain [][]byte

	// Extra holds the columns without a Field, in source order.
	Extra []KV

	// Buf is scratch space owned by the parser (unescaped values live here).
	// Parsers size it once per record so that slices into it stay valid.
	Buf []byte
}

// MaxExtra bounds Event.Extra and Event.Chain: the parsers reject a record
// with more columns outside the Fields, or more UrlChain URLs. Real records
// have a few dozen; without a bound a 16 MiB line of "a=b " pairs costs a
// gigabyte of entries while it is parsed, and the Event reused for the
// next record keeps their capacity. At 24 to 48 bytes an entry, the bound
// is under half a megabyte.
const MaxExtra = 10_000

// Reset empties e and keeps its capacity.
func (e *Event) Reset() {
	e.Table = TableUnknown
	e.Time, e.HasTime = 0, false
	clear(e.vals[:])
	e.Chain = e.Chain[:0]
	e.Extra = e.Extra[:0]
	e.Buf = e.Buf[:0]
}

// Set stores v as the value of f. A nil v marks the column absent; an empty
// non-nil v is present and empty.
func (e *Event) Set(f Field, v []byte) { e.vals[f] = v }

// Get returns the value of f, nil when absent. The slice aliases the input.
func (e *Event) Get(f Field) []byte { return e.vals[f] }

// Has reports whether f is present.
func (e *Event) Has(f Field) bool { return e.vals[f] != nil }
