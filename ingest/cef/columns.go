package cef

import (
	"strconv"

	"github.com/matchd/matchd/matcher"
)

// keyColumns maps CEF extension keys, both the short names devices send and
// the full names of the CEF dictionary, to CommonSecurityLog columns, as
// Microsoft Sentinel's CEF connector names them. Columns that are a
// matcher.Field are set on the Event; the others travel in Event.Extra under
// the column name. Keys not listed here (vendor keys such as
// "FTNTFGTpolicyid", "ad.Key", CEF keys without a column such as "slat")
// travel in Extra under the key itself, as Sentinel's AdditionalExtensions
// would hold them. The custom-field families (cs1..6, cn1..3, cfp1..4,
// c6a1..4, deviceCustomDate1..2, flex*) are added by customColumns.
//
// The CEF header fields map to DeviceVendor, DeviceProduct, DeviceVersion,
// DeviceEventClassID, Activity (Name) and LogSeverity (Severity); the
// version to CEFVersion.
var keyColumns = []struct{ key, column string }{
	// Fields of matcher.Event.
	{"src", "SourceIP"}, {"sourceAddress", "SourceIP"},
	{"dst", "DestinationIP"}, {"destinationAddress", "DestinationIP"},
	{"spt", "SourcePort"}, {"sourcePort", "SourcePort"},
	{"dpt", "DestinationPort"}, {"destinationPort", "DestinationPort"},
	{"act", "DeviceAction"}, {"deviceAction", "DeviceAction"},
	{"request", "RequestURL"}, {"requestUrl", "RequestURL"},
	{"app", "ApplicationProtocol"}, {"applicationProtocol", "ApplicationProtocol"},
	{"dhost", "DestinationHostName"}, {"destinationHostName", "DestinationHostName"},
	{"shost", "SourceHostName"}, {"sourceHostName", "SourceHostName"},
	{"suser", "SourceUserName"}, {"sourceUserName", "SourceUserName"},
	{"duser", "DestinationUserName"}, {"destinationUserName", "DestinationUserName"},
	{"msg", "Message"}, {"message", "Message"},
	{"proto", "Protocol"}, {"transportProtocol", "Protocol"},
	{"dvchost", "DeviceName"}, {"deviceHostName", "DeviceName"},

	// Times. The first of rt, start and end that parses is the event time.
	{"rt", "ReceiptTime"}, {"deviceReceiptTime", "ReceiptTime"}, {"receiptTime", "ReceiptTime"},
	{"start", "StartTime"}, {"startTime", "StartTime"},
	{"end", "EndTime"}, {"endTime", "EndTime"},

	// Event.
	{"cat", "DeviceEventCategory"}, {"deviceEventCategory", "DeviceEventCategory"},
	{"cnt", "EventCount"}, {"baseEventCount", "EventCount"},
	{"outcome", "EventOutcome"}, {"eventOutcome", "EventOutcome"},
	{"type", "EventType"},
	{"reason", "Reason"},
	{"externalId", "ExtID"},
	{"deviceDirection", "CommunicationDirection"},

	// Device.
	{"dvc", "DeviceAddress"}, {"deviceAddress", "DeviceAddress"},
	{"dvcmac", "DeviceMacAddress"}, {"deviceMacAddress", "DeviceMacAddress"},
	{"dvcpid", "ProcessID"}, {"deviceProcessId", "ProcessID"},
	{"deviceProcessName", "ProcessName"},
	{"dtz", "DeviceTimeZone"}, {"deviceTimeZone", "DeviceTimeZone"},
	{"deviceExternalId", "DeviceExternalID"},
	{"deviceFacility", "DeviceFacility"},
	{"deviceInboundInterface", "DeviceInboundInterface"},
	{"deviceOutboundInterface", "DeviceOutboundInterface"},
	{"deviceDnsDomain", "DeviceDnsDomain"},
	{"deviceNtDomain", "DeviceNtDomain"},
	{"devicePayloadId", "DevicePayloadId"},
	{"deviceTranslatedAddress", "DeviceTranslatedAddress"},

	// Source.
	{"smac", "SourceMACAddress"}, {"sourceMacAddress", "SourceMACAddress"},
	{"sntdom", "SourceNTDomain"}, {"sourceNtDomain", "SourceNTDomain"},
	{"sourceDnsDomain", "SourceDnsDomain"},
	{"sourceServiceName", "SourceServiceName"},
	{"sourceTranslatedAddress", "SourceTranslatedAddress"},
	{"sourceTranslatedPort", "SourceTranslatedPort"},
	{"spid", "SourceProcessId"}, {"sourceProcessId", "SourceProcessId"},
	{"sproc", "SourceProcessName"}, {"sourceProcessName", "SourceProcessName"},
	{"spriv", "SourceUserPrivileges"}, {"sourceUserPrivileges", "SourceUserPrivileges"},
	{"suid", "SourceUserID"}, {"sourceUserId", "SourceUserID"},

	// Destination.
	{"dmac", "DestinationMACAddress"}, {"destinationMacAddress", "DestinationMACAddress"},
	{"dntdom", "DestinationNTDomain"}, {"destinationNtDomain", "DestinationNTDomain"},
	{"destinationDnsDomain", "DestinationDnsDomain"},
	{"destinationServiceName", "DestinationServiceName"},
	{"destinationTranslatedAddress", "DestinationTranslatedAddress"},
	{"destinationTranslatedPort", "DestinationTranslatedPort"},
	{"dpid", "DestinationProcessId"}, {"destinationProcessId", "DestinationProcessId"},
	{"dproc", "DestinationProcessName"}, {"destinationProcessName", "DestinationProcessName"},
	{"dpriv", "DestinationUserPrivileges"}, {"destinationUserPrivileges", "DestinationUserPrivileges"},
	{"duid", "DestinationUserID"}, {"destinationUserId", "DestinationUserID"},

	// Traffic and request.
	{"in", "ReceivedBytes"}, {"bytesIn", "ReceivedBytes"},
	{"out", "SentBytes"}, {"bytesOut", "SentBytes"},
	{"requestMethod", "RequestMethod"},
	{"requestClientApplication", "RequestClientApplication"},
	{"requestContext", "RequestContext"},
	{"requestCookies", "RequestCookies"},

	// Files.
	{"fname", "FileName"}, {"fileName", "FileName"},
	{"fsize", "FileSize"}, {"fileSize", "FileSize"},
	{"fileHash", "FileHash"},
	{"fileId", "FileID"},
	{"filePath", "FilePath"},
	{"filePermission", "FilePermission"},
	{"fileType", "FileType"},
	{"fileCreateTime", "FileCreateTime"},
	{"fileModificationTime", "FileModificationTime"},
	{"oldFileName", "OldFileName"},
	{"oldFileSize", "OldFileSize"},
	{"oldFileHash", "OldFileHash"},
	{"oldFileId", "OldFileID"},
	{"oldFilePath", "OldFilePath"},
	{"oldFilePermission", "OldFilePermission"},
	{"oldFileType", "OldFileType"},
	{"oldFileCreateTime", "OldFileCreateTime"},
	{"oldFileModificationTime", "OldFileModificationTime"},
}

// customColumns lists the custom-field families: short prefix, full
// prefix, column prefix and how many there are. Each member n has a value
// key and a label key: cs3, cs3Label, deviceCustomString3,
// deviceCustomString3Label map to DeviceCustomString3 and
// DeviceCustomString3Label.
var customColumns = []struct {
	short, full, column string
	n                   int
}{
	{"cs", "deviceCustomString", "DeviceCustomString", 6},
	{"cn", "deviceCustomNumber", "DeviceCustomNumber", 3},
	{"cfp", "deviceCustomFloatingPoint", "DeviceCustomFloatingPoint", 4},
	{"c6a", "deviceCustomIPv6Address", "DeviceCustomIPv6Address", 4},
	{"", "deviceCustomDate", "DeviceCustomDate", 2},
	{"", "flexDate", "FlexDate", 1},
	{"", "flexNumber", "FlexNumber", 2},
	{"", "flexString", "FlexString", 2},
}

// timeKind ranks the keys that can give the event time.
type timeKind uint8

const (
	timeNone timeKind = iota
	timeReceipt
	timeStart
	timeEnd
	numTimeKinds = iota - 1
)

// column is where one extension key goes.
type column struct {
	field matcher.Field // FieldNone: Extra under name
	col   string        // the column name
	name  []byte        // col as bytes, capacity-capped
	time  timeKind
}

// columns maps extension keys to columns. Read-only after init.
var columns = func() map[string]column {
	m := make(map[string]column, 2*len(keyColumns))
	add := func(key, col string) {
		if _, dup := m[key]; dup {
			panic("BUG: cef: key " + key + " mapped twice")
		}
		name := []byte(col)
		c := column{field: matcher.LookupField(name), col: col, name: name[:len(name):len(name)]}
		switch col {
		case "ReceiptTime":
			c.time = timeReceipt
		case "StartTime":
			c.time = timeStart
		case "EndTime":
			c.time = timeEnd
		}
		m[key] = c
	}
	for _, kc := range keyColumns {
		add(kc.key, kc.column)
	}
	for _, f := range customColumns {
		for i := 1; i <= f.n; i++ {
			n := strconv.Itoa(i)
			for _, p := range []string{f.short, f.full} {
				if p != "" {
					add(p+n, f.column+n)
					add(p+n+"Label", f.column+n+"Label")
				}
			}
		}
	}
	return m
}()

// ColumnName returns the CommonSecurityLog column Parse files the extension
// key under, and false for keys Parse keeps under their own name. Keys are
// case-sensitive. It does not allocate and is safe for concurrent use.
func ColumnName(key []byte) (string, bool) {
	c, ok := columns[string(key)]
	return c.col, ok
}
