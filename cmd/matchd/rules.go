package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/matchd/matchd/matcher"
	"github.com/matchd/matchd/matcher/kql"
)

// ruleFlags are replay's rule flags.
type ruleFlags struct {
	rules      listFlag
	feedAlerts bool
}

func (f *ruleFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.rules, "rules", "KQL rule `FILE` (repeatable): one alert per record a query selects, shaped by its project, written after the input rule by rule")
	fs.BoolVar(&f.feedAlerts, "feed-alerts", true, "with --iocs and --rules, also write the feed alerts (those without a Rule column) as records match")
}

// load loads the feeds and the rules. set is the compiled feeds (empty
// without --iocs), whose indicators fill the rules' matchd_* lists; scan is
// the set workers match feed alerts with: set, or an empty set when only
// rule alerts are wanted. rules is nil without --rules.
func (f *ruleFlags) load(iocs []string, cfg matcher.Config, now time.Time, log io.Writer) (set, scan *matcher.Set, rules *kql.Rules, err error) {
	if len(iocs) == 0 && len(f.rules) == 0 {
		return nil, nil, nil, errors.New("no threat feed or rules: give --iocs FILE, --rules FILE or both")
	}
	if len(iocs) > 0 {
		set, err = loadSet(iocs, cfg, now, log)
	} else {
		set, err = matcher.Compile(nil, cfg)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	scan = set
	if len(f.rules) == 0 {
		return set, scan, nil, nil
	}
	var feeds *matcher.Set
	if len(iocs) > 0 {
		feeds = set
	}
	if rules, err = loadRules(f.rules, feeds); err != nil {
		return nil, nil, nil, err
	}
	if len(iocs) == 0 || !f.feedAlerts {
		if scan, err = matcher.Compile(nil, cfg); err != nil {
			return nil, nil, nil, err
		}
	}
	return set, scan, rules, nil
}

// loadRules parses and compiles the rule files against set, whose
// indicators fill the matchd_* lists (nil: no feed loaded).
func loadRules(paths []string, set *matcher.Set) (*kql.Rules, error) {
	prog, err := kql.Load(paths...)
	if err != nil {
		return nil, err
	}
	return prog.Compile(kql.Options{Feeds: set})
}

// ruleMatcher evaluates rules in a worker and keeps their alerts, with
// their sort keys, in the batch's result.
type ruleMatcher struct {
	ev *kql.Evaluator
}

func newRuleMatcher(r *kql.Rules) *ruleMatcher { return &ruleMatcher{kql.NewEvaluator(r)} }

// use makes m evaluate r from its next record: a worker calls it once per
// batch with the rules in force, so a reload that publishes new rules
// (compiled against the new feeds) takes effect batch by batch.
func (m *ruleMatcher) use(r *kql.Rules) {
	if m.ev.Rules() != r {
		m.ev = kql.NewEvaluator(r)
	}
}

// ruleBatch holds the rule alerts of one batch: item i's sort key is
// buf[items[i-1].lineEnd:keyEnd] and its alert line buf[keyEnd:lineEnd].
type ruleBatch struct {
	buf   []byte
	items []ruleItem
}

type ruleItem struct {
	rule            kql.RuleID
	keyEnd, lineEnd int
}

func (b *ruleBatch) key(i int) []byte  { return b.buf[b.start(i):b.items[i].keyEnd] }
func (b *ruleBatch) line(i int) []byte { return b.buf[b.items[i].keyEnd:b.items[i].lineEnd] }
func (b *ruleBatch) start(i int) int {
	if i == 0 {
		return 0
	}
	return b.items[i-1].lineEnd
}

func (m *ruleMatcher) match(e *matcher.Event, o *matcher.Origin, b *ruleBatch) {
	ids := m.ev.Match(e)
	if len(ids) == 0 {
		return
	}
	r := m.ev.Rules()
	for _, id := range ids {
		b.buf = r.AppendSortKey(b.buf, e, id)
		keyEnd := len(b.buf)
		b.buf = m.ev.AppendAlert(b.buf, id, o)
		b.items = append(b.items, ruleItem{id, keyEnd, len(b.buf)})
	}
}

// writeRules takes a batch's rule alerts: into the sink that orders them
// when there is one (replay), else straight to the alerts in input order
// (a stream, where order by and take do not apply).
func (p *pipeline) writeRules(b *ruleBatch) error {
	if p.rules != nil {
		return p.rules.add(b)
	}
	for i := range b.items {
		if _, err := p.alerts.Write(b.line(i)); err != nil {
			return fmt.Errorf("writing alerts: %w", err)
		}
	}
	p.st.alerts += int64(len(b.items))
	return nil
}

// checkRules compiles the rule files and reports them, or every error, to
// w. It reports whether they compiled.
func checkRules(w io.Writer, paths []string, feeds *matcher.Set) bool {
	r, err := loadRules(paths, feeds)
	if err != nil {
		var el kql.ErrorList
		if errors.As(err, &el) {
			fmt.Fprintf(w, "rules %s: %d %s:\n", strings.Join(paths, ", "), len(el), plural(len(el), "error", "errors"))
			for _, e := range el {
				fmt.Fprintf(w, "  %v\n", e)
			}
		} else {
			fmt.Fprintf(w, "rules %s: UNUSABLE: %v\n", strings.Join(paths, ", "), err)
		}
		return false
	}
	reportRules(w, paths, r)
	return true
}

// reportRules writes matchd check's account of compiled rules.
func reportRules(w io.Writer, paths []string, r *kql.Rules) {
	st := r.Stats()
	fmt.Fprintf(w, "rules %s: %d %s, %d indexed literals (%d addresses and prefixes, %d automaton patterns, %d values), %d full-scan; %.1f MiB prefilter\n",
		strings.Join(paths, ", "), r.Len(), plural(r.Len(), "rule", "rules"), st.Terms, st.IPs, st.Patterns, st.Values, st.FullScan,
		float64(r.MemoryUsage())/(1<<20))
	for _, ru := range r.Rules() {
		q := ru.Query
		fmt.Fprintf(w, "  %s:%d: %q: %s", ru.File, ru.Pos.Line, ru.Name, ru.Table)
		if ru.FullScan {
			fmt.Fprintf(w, ", FULL SCAN (no indexable literal: evaluated on every %s record)", ru.Table)
		} else {
			fmt.Fprintf(w, ", %d indexed %s", ru.Indexed, plural(ru.Indexed, "literal", "literals"))
		}
		if len(ru.Feeds) > 0 {
			fmt.Fprintf(w, ", reads %s", strings.Join(ru.Feeds, ", "))
		}
		var ign []string
		if len(q.OrderBy) > 0 {
			var keys []string
			for _, k := range q.OrderBy {
				dir := "asc"
				if k.Desc {
					dir = "desc"
				}
				keys = append(keys, k.Col+" "+dir)
			}
			ign = append(ign, "order by "+strings.Join(keys, ", "))
		}
		if q.Take >= 0 {
			ign = append(ign, fmt.Sprintf("take %d", q.Take))
		}
		if len(ign) > 0 {
			fmt.Fprintf(w, "; %s: applied by replay, ignored on a stream (consume)", strings.Join(ign, ", "))
		}
		fmt.Fprintln(w)
	}
	byName := map[string][]string{}
	var names []string
	for _, ru := range r.Rules() {
		if byName[ru.Name] == nil {
			names = append(names, ru.Name)
		}
		byName[ru.Name] = append(byName[ru.Name], fmt.Sprintf("%s:%d", ru.File, ru.Pos.Line))
	}
	for _, n := range names {
		if at := byName[n]; len(at) > 1 {
			fmt.Fprintf(w, "  warning: %d rules are named %q (%s): their alerts cannot be told apart\n", len(at), n, strings.Join(at, ", "))
		}
	}
}
