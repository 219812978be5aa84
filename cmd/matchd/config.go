package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// configFlag names the flag every command has for its YAML settings file.
const configFlag = "config"

// applyConfigFile fills every flag of fs not yet set (on the command line
// or from the environment) from the YAML file named by --config, if any.
// The file is one mapping whose keys are flag names ("min-confidence"; '_'
// may stand for '-'); a value is a scalar or, for a repeatable flag
// (--iocs, --topic, --brokers), a list. Unknown keys are errors, so a typo
// does not silently leave a default in force.
func applyConfigFile(fs *flag.FlagSet) error {
	cf := fs.Lookup(configFlag)
	if cf == nil || cf.Value.String() == "" {
		return nil
	}
	path := cf.Value.String()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 { // an empty file
		return nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: want a mapping of flag names to values", path, m.Line)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		name := strings.ReplaceAll(k.Value, "_", "-")
		f := fs.Lookup(name)
		if f == nil || name == configFlag {
			return fmt.Errorf("%s:%d: unknown setting %q for matchd %s", path, k.Line, k.Value, fs.Name())
		}
		if seen[name] {
			return fmt.Errorf("%s:%d: %q is set twice", path, k.Line, k.Value)
		}
		seen[name] = true
		if set[name] {
			continue // the command line or the environment wins
		}
		_, repeatable := f.Value.(*listFlag)
		var vals []*yaml.Node
		switch v.Kind {
		case yaml.ScalarNode:
			if v.Tag == "!!null" {
				continue
			}
			vals = []*yaml.Node{v}
		case yaml.SequenceNode:
			if !repeatable {
				return fmt.Errorf("%s:%d: %s takes one value, not a list", path, v.Line, name)
			}
			vals = v.Content
		default:
			return fmt.Errorf("%s:%d: %s: want a value or a list of values", path, v.Line, name)
		}
		for _, e := range vals {
			if e.Kind != yaml.ScalarNode {
				return fmt.Errorf("%s:%d: %s: want plain values", path, e.Line, name)
			}
			if err := fs.Set(name, e.Value); err != nil {
				return fmt.Errorf("%s:%d: %s: %w", path, e.Line, name, err)
			}
		}
	}
	return nil
}
