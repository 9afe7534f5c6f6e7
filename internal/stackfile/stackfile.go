// Package stackfile reads Pulumi.yaml and Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a Go
// program: a flat map keyed "namespace:key", objects and lists as JSON text. It needs no Pulumi CLI and no
// secrets provider: encrypted values become placeholders and are listed as secret keys.
package stackfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Placeholder stands in for every encrypted (secure:) value. It satisfies the shape rules of the secrets
// this project takes (16 to 128 letters and digits), so an offline plan exercises the same code path as a
// real run with the secret set.
const Placeholder = "OfflinePlaceholderSecret0123456789"

// Stack is the configuration of one stack as the program would receive it.
type Stack struct {
	Project    string
	Name       string
	Config     map[string]string
	SecretKeys []string
}

// Load reads dir/Pulumi.yaml and dir/Pulumi.<name>.yaml. Project-level config (config: key: {value: ...})
// comes first; the stack file overrides it key by key.
func Load(dir, name string) (*Stack, error) {
	var project struct {
		Name   string               `yaml:"name"`
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := readYAML(filepath.Join(dir, "Pulumi.yaml"), &project); err != nil {
		return nil, err
	}
	if project.Name == "" {
		return nil, fmt.Errorf("%s: no project name", filepath.Join(dir, "Pulumi.yaml"))
	}
	path := filepath.Join(dir, "Pulumi."+name+".yaml")
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		have, _ := Names(dir)
		return nil, fmt.Errorf("stack %q: %s does not exist; stacks here: %s", name, path, strings.Join(have, ", "))
	}
	var stack struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := readYAML(path, &stack); err != nil {
		return nil, err
	}

	s := &Stack{Project: project.Name, Name: name, Config: map[string]string{}}
	secret := map[string]bool{}
	put := func(key string, node yaml.Node) error {
		if !strings.Contains(key, ":") {
			key = project.Name + ":" + key
		}
		v, isSecret, err := flatten(&node)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		s.Config[key] = v
		secret[key] = isSecret
		return nil
	}
	for key, node := range project.Config {
		// Project-level config must use {value: ...} to set a value; a bare {default: ...} only declares.
		var decl struct {
			Value yaml.Node `yaml:"value"`
		}
		if node.Kind == yaml.MappingNode && node.Decode(&decl) == nil && decl.Value.Kind != 0 {
			if err := put(key, decl.Value); err != nil {
				return nil, err
			}
		}
	}
	for key, node := range stack.Config {
		if err := put(key, node); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	for k, isSecret := range secret {
		if isSecret {
			s.SecretKeys = append(s.SecretKeys, k)
		}
	}
	sort.Strings(s.SecretKeys)
	return s, nil
}

// Keys returns the config keys, sorted.
func (s *Stack) Keys() []string {
	keys := make([]string, 0, len(s.Config))
	for k := range s.Config {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Names lists the stacks with a Pulumi.<name>.yaml in dir.
func Names(dir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "Pulumi.*.yaml"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "Pulumi."), ".yaml"))
	}
	sort.Strings(out)
	return out, nil
}

func readYAML(path string, out any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// flatten turns a config value into the string a Go program receives: scalars as written, objects and
// lists as JSON. {secure: ...} anywhere becomes the placeholder and marks the value secret.
func flatten(node *yaml.Node) (string, bool, error) {
	v, isSecret, err := toValue(node)
	if err != nil {
		return "", false, err
	}
	if s, ok := v.(string); ok {
		return s, isSecret, nil
	}
	if node.Kind == yaml.ScalarNode {
		return node.Value, isSecret, nil
	}
	b, err := json.Marshal(v)
	return string(b), isSecret, err
}

func toValue(node *yaml.Node) (any, bool, error) {
	switch node.Kind {
	case yaml.ScalarNode:
		var v any
		if err := node.Decode(&v); err != nil {
			return nil, false, err
		}
		return v, false, nil
	case yaml.SequenceNode:
		out := []any{}
		anySecret := false
		for _, n := range node.Content {
			v, s, err := toValue(n)
			if err != nil {
				return nil, false, err
			}
			out = append(out, v)
			anySecret = anySecret || s
		}
		return out, anySecret, nil
	case yaml.MappingNode:
		if len(node.Content) == 2 && node.Content[0].Value == "secure" {
			return Placeholder, true, nil
		}
		out := map[string]any{}
		anySecret := false
		for i := 0; i+1 < len(node.Content); i += 2 {
			v, s, err := toValue(node.Content[i+1])
			if err != nil {
				return nil, false, err
			}
			out[node.Content[i].Value] = v
			anySecret = anySecret || s
		}
		return out, anySecret, nil
	case yaml.AliasNode:
		return toValue(node.Alias)
	}
	return nil, false, fmt.Errorf("unsupported YAML node kind %d", node.Kind)
}

// Set changes one config value the way `pulumi config set --path` would: path is "namespace:key" or
// "namespace:key.a.b" inside an object; value is JSON (a number, true, a list...) or else a plain string.
// An empty value deletes the key.
func (s *Stack) Set(path, value string) error {
	key, rest, nested := strings.Cut(path, ".")
	if !strings.Contains(key, ":") {
		key = s.Project + ":" + key
	}
	var v any = value
	if value != "" && json.Valid([]byte(value)) {
		if err := json.Unmarshal([]byte(value), &v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if !nested {
		if str, ok := v.(string); ok && value != "" {
			s.Config[key] = str // plain strings are passed as they are, objects and lists as JSON
		} else if value == "" {
			delete(s.Config, key)
		} else {
			s.Config[key] = value
		}
		return nil
	}
	obj := map[string]any{}
	if raw, ok := s.Config[key]; ok {
		if err := json.Unmarshal([]byte(raw), &obj); err != nil {
			return fmt.Errorf("%s: %s is not an object", path, key)
		}
	}
	cur := obj
	parts := strings.Split(rest, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := cur[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[p] = next
		}
		cur = next
	}
	if value == "" {
		delete(cur, parts[len(parts)-1])
	} else {
		cur[parts[len(parts)-1]] = v
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	s.Config[key] = string(b)
	return nil
}
