package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigPrecedence: flags win over MATCHD_* variables, which win over
// the --config file, which wins over the defaults.
func TestConfigPrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "matchd.yaml")
	writeFile(t, cfg, []byte("# matchd settings\niocs:\n  - "+seed+"\nmin_confidence: 95\n"))
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"config file", nil, []string{"--config", cfg}, "total: 2 indicators"},
		{"file named by the environment", map[string]string{"MATCHD_CONFIG": cfg}, nil, "total: 2 indicators"},
		{"env over file", map[string]string{"MATCHD_MIN_CONFIDENCE": "85"}, []string{"--config", cfg}, "total: 3 indicators"},
		{"flag over env", map[string]string{"MATCHD_MIN_CONFIDENCE": "85"}, []string{"--config", cfg, "--min-confidence", "0"}, "total: 5 indicators"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			r := runMatchd(t, "", append([]string{"check"}, c.args...)...)
			if r.code != 0 || !strings.Contains(r.stdout, c.want) {
				t.Errorf("exit %d, output lacks %q:\n%s%s", r.code, c.want, r.stdout, r.stderr)
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, yaml, msg string
	}{
		{"unknown key", "iocs: x\nmin-confidense: 3\n", `matchd.yaml:2: unknown setting "min-confidense"`},
		{"list for a scalar", "min-confidence: [1, 2]\n", "takes one value, not a list"},
		{"bad value", "min-confidence: many\n", "min-confidence"},
		{"not a mapping", "- a\n- b\n", "want a mapping"},
		{"twice", "iocs: a\niocs: b\n", "set twice"},
		{"syntax", "iocs: [a\n", "matchd.yaml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, "matchd.yaml")
			writeFile(t, p, []byte(c.yaml))
			r := runMatchd(t, "", "replay", "--config", p, demoDir)
			if r.code != 2 || !strings.Contains(r.stderr, c.msg) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, c.msg)
			}
		})
	}
}

// TestConfigLists: a list in the file sets a repeatable flag once per
// element.
func TestConfigLists(t *testing.T) {
	p := filepath.Join(t.TempDir(), "matchd.yaml")
	writeFile(t, p, []byte("iocs: ["+seed+", "+seed+"]\nprogress: never\n"))
	r := runMatchd(t, "", "replay", "--config", p, demoDir)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 14 {
		t.Errorf("exit %d, %d alerts:\n%s", r.code, strings.Count(r.stdout, "\n"), r.stderr)
	}
}
