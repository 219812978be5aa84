package jsonlog

import "github.com/matchd/matchd/matcher"

// Typical records, one per table and shape. Their columns follow Microsoft's
// documented schemas for CommonSecurityLog, DeviceNetworkEvents and
// UrlClickEvents; the values are made up (documentation address ranges,
// example domains).
const (
	// A Palo Alto traffic log in CommonSecurityLog as Log Analytics exports it.
	typicalCSL = `{"TenantId":"5f1c2a9e-8b7d-4c3e-9a61-2d4f8e7b0c13","TimeGenerated":"2026-06-07T10:00:01.1234567Z",` +
		`"SourceSystem":"OpsManager","Computer":"cef-collector-01","DeviceVendor":"Palo Alto Networks","DeviceProduct":"PAN-OS",` +
		`"DeviceVersion":"11.1.2","DeviceEventClassID":"end","Activity":"TRAFFIC","LogSeverity":"1","OriginalLogSeverity":"informational",` +
		`"SourceIP":"10.20.30.40","SourcePort":51234,"DestinationIP":"203.0.113.50","DestinationPort":443,"Protocol":"TCP",` +
		`"DeviceAction":"allow","SimplifiedDeviceAction":"Allow","ApplicationProtocol":"ssl",` +
		`"RequestURL":"https://cdn.example.net/assets/app.js?v=3","DestinationHostName":"cdn.example.net",` +
		`"SourceUserName":"corp\\jdoe","ReceivedBytes":48211,"SentBytes":3120,` +
		`"AdditionalExtensions":"PanOSRuleName=allow-web;PanOSSessionID=882134;cat=web-browsing",` +
		`"Type":"CommonSecurityLog","_ResourceId":"","_ItemId":"0b8e2f6c-3d41-4a7b-b2c9-5e1f0a9d8c77"}`

	// A DeviceNetworkEvents row as Log Analytics exports it.
	typicalDNE = `{"TenantId":"5f1c2a9e-8b7d-4c3e-9a61-2d4f8e7b0c13","TimeGenerated":"2026-06-07T10:00:03.512Z",` +
		`"Timestamp":"2026-06-07T10:00:01.8734412Z","DeviceId":"c2f8d6a1e0b94f3c7d5e2a1b0c9f8e7d6a5b4c3d",` +
		`"DeviceName":"ws-0142.corp.example.com","ActionType":"ConnectionSuccess","RemoteIP":"198.51.100.23","RemotePort":443,` +
		`"RemoteUrl":"update.example.org","LocalIP":"10.1.4.17","LocalPort":50432,"Protocol":"Tcp","LocalIPType":"Private",` +
		`"RemoteIPType":"Public","InitiatingProcessSHA1":"3f786850e387550fdab836ed7e6dc881de23001b",` +
		`"InitiatingProcessSHA256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",` +
		`"InitiatingProcessMD5":"0cc175b9c0f1b6a831c399e269772661","InitiatingProcessFileName":"powershell.exe",` +
		`"InitiatingProcessFileSize":450560,"InitiatingProcessVersionInfoCompanyName":"Microsoft Corporation",` +
		`"InitiatingProcessId":7212,"InitiatingProcessCommandLine":"\"powershell.exe\" -NoProfile -ExecutionPolicy Bypass ` +
		`-Command \"Invoke-WebRequest -Uri https://update.example.org/agent.ps1 -OutFile C:\\Users\\jdoe\\AppData\\Local\\Temp\\agent.ps1\"",` +
		`"InitiatingProcessCreationTime":"2026-06-07T09:59:58.1029384Z",` +
		`"InitiatingProcessFolderPath":"c:\\windows\\system32\\windowspowershell\\v1.0\\powershell.exe",` +
		`"InitiatingProcessParentFileName":"explorer.exe","InitiatingProcessParentId":4120,"InitiatingProcessAccountDomain":"corp",` +
		`"InitiatingProcessAccountName":"jdoe","InitiatingProcessAccountSid":"S-1-5-21-1004336348-1177238915-682003330-1108",` +
		`"InitiatingProcessAccountUpn":"jdoe@corp.example.com","InitiatingProcessIntegrityLevel":"Medium",` +
		`"InitiatingProcessTokenElevation":"TokenElevationTypeLimited","ReportId":18234,"AppGuardContainerId":"",` +
		`"AdditionalFields":null,"Type":"DeviceNetworkEvents"}`

	// A UrlClickEvents row as Log Analytics exports it: UrlChain and
	// DetectionMethods are dynamic columns, exported as strings.
	typicalUCE = `{"TenantId":"5f1c2a9e-8b7d-4c3e-9a61-2d4f8e7b0c13","TimeGenerated":"2026-06-07T10:05:12.004Z",` +
		`"Timestamp":"2026-06-07T10:05:09Z","Url":"https://login.example-portal.com/session?id=8f3a",` +
		`"ActionType":"ClickAllowed","AccountUpn":"jdoe@corp.example.com","Workload":"Email",` +
		`"NetworkMessageId":"7e2b1c4d-5a6f-4e3d-9b8a-1c2d3e4f5a6b","ThreatTypes":"Phish",` +
		`"DetectionMethods":"[\"URL detonation reputation\"]","IPAddress":"203.0.113.77","IsClickedThrough":false,` +
		`"UrlChain":"[\"https://t.example.net/r/8f3a\",\"https://login.example-portal.com/session?id=8f3a\"]",` +
		`"ReportId":"d7f0c1e2-3b4a-4c5d-8e9f-0a1b2c3d4e5f","SourceSystem":"","Type":"UrlClickEvents"}`

	// Two DeviceNetworkEvents records in the Defender streaming shape.
	typicalDNERecords = `{"records":[` +
		`{"time":"2026-06-07T10:00:02.9138221Z","tenantId":"5f1c2a9e-8b7d-4c3e-9a61-2d4f8e7b0c13","operationName":"Publish",` +
		`"category":"AdvancedHunting-DeviceNetworkEvents","_TimeReceivedBySvc":"2026-06-07T10:00:01.9012345Z",` +
		`"properties":{"ActionType":"ConnectionSuccess","AppGuardContainerId":"","DeviceId":"c2f8d6a1e0b94f3c7d5e2a1b0c9f8e7d6a5b4c3d",` +
		`"DeviceName":"ws-0142.corp.example.com","InitiatingProcessAccountDomain":"corp","InitiatingProcessAccountName":"jdoe",` +
		`"InitiatingProcessAccountUpn":"jdoe@corp.example.com","InitiatingProcessCommandLine":"\"chrome.exe\" --type=utility",` +
		`"InitiatingProcessFileName":"chrome.exe","InitiatingProcessId":9120,"InitiatingProcessMD5":"92eb5ffee6ae2fec3ad71c777531578f",` +
		`"InitiatingProcessParentFileName":"chrome.exe","InitiatingProcessSHA1":"86f7e437faa5a7fce15d1ddcb9eaeaea377667b8",` +
		`"InitiatingProcessSHA256":"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb","LocalIP":"10.1.4.17",` +
		`"LocalIPType":"Private","LocalPort":50433,"Protocol":"Tcp","RemoteIP":"198.51.100.24","RemoteIPType":"Public",` +
		`"RemotePort":443,"RemoteUrl":"www.example.com","ReportId":18235,"Timestamp":"2026-06-07T10:00:01.9012345Z",` +
		`"MachineGroup":"Workstations"}},` +
		`{"time":"2026-06-07T10:00:02.9138221Z","tenantId":"5f1c2a9e-8b7d-4c3e-9a61-2d4f8e7b0c13","operationName":"Publish",` +
		`"category":"AdvancedHunting-DeviceNetworkEvents","_TimeReceivedBySvc":"2026-06-07T10:00:02.0345678Z",` +
		`"properties":{"ActionType":"ConnectionFailed","DeviceId":"c2f8d6a1e0b94f3c7d5e2a1b0c9f8e7d6a5b4c3d",` +
		`"DeviceName":"ws-0142.corp.example.com","InitiatingProcessAccountName":"system","InitiatingProcessFileName":"svchost.exe",` +
		`"InitiatingProcessCommandLine":"svchost.exe -k NetworkService -p","InitiatingProcessParentFileName":"services.exe",` +
		`"LocalIP":"fe80::1c2d:3e4f:5a6b:7c8d","LocalPort":50434,"Protocol":"Udp","RemoteIP":"2001:db8::53","RemotePort":53,` +
		`"RemoteUrl":"","ReportId":18236,"Timestamp":"2026-06-07T10:00:02.0345678Z"}}]}`

	// A UrlClickEvents record in the Defender streaming shape, UrlChain as
	// a JSON array.
	typicalUCERecords = `{"records":[{"time":"2026-06-07T10:05:10.5Z","tenantId":"5f1c2a9e-8b7d-4c3e-9a61-2d4f8e7b0c13",` +
		`"operationName":"Publish","category":"AdvancedHunting-UrlClickEvents","properties":{"Timestamp":"2026-06-07T10:05:09Z",` +
		`"Url":"https://login.example-portal.com/session?id=8f3a","ActionType":"ClickBlocked","AccountUpn":"jdoe@corp.example.com",` +
		`"Workload":"Email","NetworkMessageId":"7e2b1c4d-5a6f-4e3d-9b8a-1c2d3e4f5a6b","ThreatTypes":"Phish",` +
		`"DetectionMethods":["URL detonation reputation"],"IPAddress":"203.0.113.77","IsClickedThrough":true,` +
		`"UrlChain":["https://t.example.net/r/8f3a","https://login.example-portal.com/session?id=8f3a"],` +
		`"ReportId":"d7f0c1e2-3b4a-4c5d-8e9f-0a1b2c3d4e5f"}}]}`
)

// typical lists the typical records by name, with the table of their records.
var typical = []struct {
	name  string
	table matcher.Table
	line  string
}{
	{"CommonSecurityLog", matcher.CommonSecurityLog, typicalCSL},
	{"DeviceNetworkEvents", matcher.DeviceNetworkEvents, typicalDNE},
	{"UrlClickEvents", matcher.UrlClickEvents, typicalUCE},
	{"DeviceNetworkEvents/records", matcher.DeviceNetworkEvents, typicalDNERecords},
	{"UrlClickEvents/records", matcher.UrlClickEvents, typicalUCERecords},
}
