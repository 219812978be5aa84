package gen

// Word lists for noise and indicators. Noise text must never contain an
// indicator by accident, so these lists obey the rules that vocab_test.go
// checks: no dotted quad anywhere, no "."+TLD for an indicator TLD, no host
// whose last label is an indicator TLD.

// urlTLDs are the top-level labels of URL indicator hosts with a name.
var urlTLDs = []string{"shop", "online", "site", "store", "fun", "pw", "ws", "su", "cc", "ru", "cn", "info", "biz", "club", "vip", "work"}

// domainTLDs are the top-level labels of domain indicators. They differ
// from urlTLDs, so a URL indicator's host is never under a domain
// indicator, and noise text never contains "." followed by one of them.
var domainTLDs = []string{"top", "xyz", "icu", "cyou", "sbs", "bond", "cfd", "quest", "monster", "rest"}

// noiseHosts are benign hosts of noise URLs and host names.
var noiseHosts = []string{
	"www.microsoft.com", "login.microsoftonline.com", "outlook.office365.com",
	"teams.microsoft.com", "graph.microsoft.com", "settings-win.data.microsoft.com",
	"www.google.com", "fonts.googleapis.com", "update.googleapis.com", "accounts.google.com",
	"github.com", "objects.githubusercontent.com", "api.github.com",
	"s3.amazonaws.com", "d3f1k2m9x8.cloudfront.net", "cdn.jsdelivr.net",
	"www.wikipedia.org", "slack.com", "zoom.us", "www.linkedin.com",
	"contoso.sharepoint.com", "intranet.contoso.com", "mail.contoso.com",
	"www.example.com", "cdn.example.net", "static.example.org", "api.example.net",
	"ocsp.digicert.com", "ctldl.windowsupdate.com", "clients2.google.com",
}

// noiseSubdomains prefix generated noise hosts ("<word>-<n>.example.net").
var noiseSubdomains = []string{"cdn", "edge", "img", "static", "api", "assets", "media", "files", "app", "portal"}

// noiseZones are the parents of generated noise hosts.
var noiseZones = []string{"example.net", "example.com", "example.org", "contoso.com", "fabrikam.com"}

// pathWords build URL paths of both noise and indicators: a path alone
// never makes a match, the host does.
var pathWords = []string{
	"wp-content", "wp-includes", "wp-admin", "uploads", "plugins", "themes", "assets", "images",
	"js", "css", "api", "v1", "v2", "static", "download", "files", "docs", "invoice", "update",
	"login", "account", "secure", "verify", "admin", "cgi-bin", "share", "media", "cache", "tmp",
	"public", "includes", "modules", "vendor", "lib", "en-us", "products", "support", "news",
}

// fileExts are file name extensions for URL paths.
var fileExts = []string{"php", "html", "js", "css", "png", "jpg", "zip", "exe", "dll", "doc", "xls", "pdf", "sh", "bin", "apk", "msi", "jar", "txt"}

// queryKeys are query parameter names.
var queryKeys = []string{"id", "page", "q", "ref", "token", "uid", "hwid", "session", "utm_source", "lang", "v", "file"}

// botNames and botArches make the Mirai-style download paths that IoT
// malware URL feeds are full of ("/bins/mirai.arm7").
var botNames = []string{"mirai", "sora", "okiru", "hiddenbin", "Sakura", "yakuza", "hakai", "gafgyt", "mozi", "owari", "tsunami", "kaiten", "condi", "Corona", "x86_64"}
var botArches = []string{"arm", "arm5", "arm6", "arm7", "mips", "mpsl", "x86", "m68k", "ppc", "sh4", "spc", "i686", "arc"}

// scriptNames are dropper script names ("/Sakura.sh").
var scriptNames = []string{"Sakura", "bins", "wget", "t", "x", "8UsA", "update", "i", "lol", "ssh", "jaws", "zyxel", "Fourloko"}

// userNames make account names.
var userNames = []string{"j.doe", "a.smith", "m.lee", "r.kim", "s.patel", "l.garcia", "k.nguyen", "p.muller", "e.rossi", "t.tanaka", "c.dubois", "o.ivanova", "svc_backup", "admin", "root"}

// userAgents are request client applications. None holds a dotted quad.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
	"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Firefox/127.0",
	"Microsoft Office/16.0 (Windows NT 10.0)",
	"curl/8.5.0", "Wget/1.21.4", "python-requests/2.32.3", "Go-http-client/2.0",
}

// processes are DeviceNetworkEvents initiating processes: file name,
// parent, and a command line template where %u stands for a URL and %h for
// a host.
var processes = []struct{ file, parent, cmd string }{
	{"msedge.exe", "explorer.exe", `"msedge.exe" --single-argument %u`},
	{"chrome.exe", "explorer.exe", `"chrome.exe" --type=utility --utility-sub-type=network.mojom.NetworkService`},
	{"svchost.exe", "services.exe", `svchost.exe -k netsvcs -p -s wuauserv`},
	{"OneDrive.exe", "explorer.exe", `"OneDrive.exe" /background`},
	{"Teams.exe", "explorer.exe", `"Teams.exe" --system-initiated`},
	{"powershell.exe", "cmd.exe", `powershell.exe -NoProfile -Command Invoke-WebRequest -Uri %u -OutFile update.zip`},
	{"curl", "bash", `curl -fsSL %u -o /tmp/pkg.tgz`},
	{"wget", "sh", `wget -q %u -O /tmp/update.bin`},
	{"python3", "systemd", `/usr/bin/python3 /opt/agent/collector.py --upload %h`},
	{"sshd", "systemd", `sshd: admin [priv]`},
	{"rsync", "cron", `rsync -az --delete /var/backups/nightly/ archive@%h::backup`},
	{"nc", "fluentd", `sh -c 'tcpdump -i eth0 -w - port 514 | nc %h 6514'`},
}

// cefActivities are PAN-OS, FortiGate and Check Point verdicts.
var panActions = []string{"allow", "deny", "drop", "reset-both"}
var panApps = []string{"ssl", "web-browsing", "dns", "ms-office365", "google-base", "ssh", "unknown-tcp", "ntp", "smtp"}
var fortiServices = []string{"HTTPS", "HTTP", "DNS", "SSH", "SMTP", "NTP", "RDP", "tcp/8443"}
var cpRules = []string{"Outbound_Web", "DNS_Out", "Mgmt_SSH", "Block_Known_Bad", "Cleanup_Rule", "Allow_O365"}
var urlCategories = []string{"Business and Economy", "Computing and Internet", "News and Media", "Web Search", "Social Networking", "Online Storage", "Miscellaneous"}
var countries = []string{"Netherlands", "United States", "Germany", "France", "Singapore", "Brazil", "Reserved"}
var deviceNames = []string{"laptop", "desktop", "srv", "build", "web", "db", "jump", "kiosk", "vdi", "cam-gw"}
var clickActions = []string{"ClickAllowed", "ClickAllowed", "ClickAllowed", "ClickBlocked", "UrlScanInProgress", "ClickBlockedByTenantPolicy"}
var workloads = []string{"Email", "Email", "Teams", "Office"}
var threatTypes = []string{"", "", "", "Phish", "Malware", "Spam"}
var dneActions = []string{"ConnectionSuccess", "ConnectionSuccess", "ConnectionSuccess", "ConnectionFailed", "ConnectionAttempt", "InboundConnectionAccepted"}
var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
