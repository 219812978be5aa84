package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// listFlag is a repeatable string flag; a comma-separated value adds each
// element.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// ageFlag is a duration that also accepts days and weeks: "36h", "7d",
// "2w", "1d12h".
type ageFlag time.Duration

func (a *ageFlag) String() string { return time.Duration(*a).String() }
func (a *ageFlag) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*a = ageFlag(d)
	return nil
}

func parseAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, errors.New("empty duration")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		j := i
		for j < len(rest) && !(rest[j] >= '0' && rest[j] <= '9' || rest[j] == '.') {
			j++
		}
		if i == 0 || j == i {
			return 0, fmt.Errorf("invalid duration %q (use h, d or w, e.g. 36h, 7d, 2w)", s)
		}
		num, unit := rest[:i], rest[i:j]
		rest = rest[j:]
		var mult time.Duration
		switch unit {
		case "w":
			mult = 7 * 24 * time.Hour
		case "d":
			mult = 24 * time.Hour
		default:
			d, err := time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("invalid duration %q (use h, d or w, e.g. 36h, 7d, 2w)", s)
			}
			total += d
			continue
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		total += time.Duration(f * float64(mult))
	}
	if total < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return total, nil
}

// timeFlag is an RFC 3339 time or date ("2026-06-07", "2026-06-07T10:00:00Z").
type timeFlag struct {
	t   time.Time
	set bool
}

func (f *timeFlag) String() string {
	if !f.set {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			f.t, f.set = t.UTC(), true
			return nil
		}
	}
	return fmt.Errorf("invalid time %q (want RFC 3339 or YYYY-MM-DD)", s)
}

// parseArgs parses flags and positional arguments in any order ("--" ends
// the flags), then fills every flag not given on the command line from the
// environment variable MATCHD_<FLAG> (upper case, '-' as '_'), and every
// flag still unset from the --config file. It prints the errors the flag
// package does not.
func parseArgs(fs *flag.FlagSet, args, env []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" && len(args) > 0 {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "MATCHD_") {
			vars[k] = v
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "MATCHD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := vars[name]; ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %v", name, e)
			}
		}
	})
	if err == nil {
		err = applyConfigFile(fs)
	}
	if err != nil {
		fmt.Fprintf(fs.Output(), "matchd %s: %v\n", fs.Name(), err)
	}
	return pos, err
}

func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.String(configFlag, "", "read settings from the YAML `FILE` (keys are flag names; flags and MATCHD_* variables win)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: matchd %s\n\nFlags (each also settable as MATCHD_<FLAG>, e.g. MATCHD_MIN_CONFIDENCE, or in the --config file):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
