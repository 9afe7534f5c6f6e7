// Package strictconfig decodes a Pulumi program's config strictly, for every program in this repository:
// each object-valued key into a typed struct where an unknown field at any depth or a value of the wrong
// type is an error naming its full path, and the keys of a run checked against the ones the program knows,
// so a typo never goes unnoticed. Callers collect the errors of every key and report them together.
package strictconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Error is a configuration that failed validation; Err joins every problem. Nothing was registered.
type Error struct{ Err error }

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap gives the joined problems.
func (e *Error) Unwrap() error { return e.Err }

// UnknownKeys reports every key of keys ("namespace:key") in namespace that known (bare key names) does
// not list, each naming the allowed keys. Keys of other namespaces (aws:region) are not its business.
func UnknownKeys(namespace string, keys, known []string) []error {
	allowed := map[string]bool{}
	for _, k := range known {
		allowed[namespace+":"+k] = true
	}
	var errs []error
	for _, k := range keys {
		if strings.HasPrefix(k, namespace+":") && !allowed[k] {
			errs = append(errs, fmt.Errorf("%s: unknown key; allowed %s", k, strings.Join(slices.Sorted(maps.Keys(allowed)), ", ")))
		}
	}
	return errs
}

// DecodeSection fills out from the JSON object at <project>:<key>. An absent key leaves out untouched
// (defaults come later). Unknown fields, at any depth, and values of the wrong type are errors naming
// their full path.
func DecodeSection(ctx *pulumi.Context, project, key string, out any) error {
	full := project + ":" + key
	raw, ok := ctx.GetConfig(full)
	if !ok {
		return nil
	}
	var generic any
	if err := json.Unmarshal([]byte(raw), &generic); err != nil {
		return fmt.Errorf("%s: %q is not allowed; must be an object of settings", full, raw)
	}
	if _, isObject := generic.(map[string]any); !isObject {
		return fmt.Errorf("%s: %q is not allowed; must be an object of settings", full, raw)
	}
	if errs := unknownFields(full, generic, reflect.TypeOf(out).Elem()); len(errs) > 0 {
		return errors.Join(errs...)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("%s.%s: a %s is not allowed; must be a %s", full, typeErr.Field, typeErr.Value, typeName(typeErr.Type))
		}
		return fmt.Errorf("%s: %w", full, err)
	}
	return nil
}

// unknownFields walks a decoded JSON value beside the Go type it will fill and reports every key the
// type has no field for.
func unknownFields(path string, v any, t reflect.Type) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var errs []error
	switch val := v.(type) {
	case map[string]any:
		if t.Kind() == reflect.Map {
			for k, e := range val {
				errs = append(errs, unknownFields(path+"."+k, e, t.Elem())...)
			}
			return errs
		}
		if t.Kind() != reflect.Struct {
			return nil // a type error, reported by the decoder
		}
		fields := jsonFields(t)
		names := make([]string, 0, len(val))
		for k := range val {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, fmt.Errorf("%s.%s: unknown key; allowed %s", path, k, strings.Join(slices.Sorted(maps.Keys(fields)), ", ")))
				continue
			}
			errs = append(errs, unknownFields(path+"."+k, val[k], ft)...)
		}
	case []any:
		if t.Kind() == reflect.Slice {
			for i, e := range val {
				errs = append(errs, unknownFields(fmt.Sprintf("%s[%d]", path, i), e, t.Elem())...)
			}
		}
	}
	return errs
}

// jsonFields maps a struct's JSON names to field types, looking into embedded structs.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name := strings.Split(tag, ",")[0]
		if tag == "-" || !f.IsExported() {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range jsonFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.Slice:
		return "list of " + typeName(t.Elem())
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.Kind().String()
}

// EnvKeys lists the config keys of a real run: the Pulumi CLI hands a Go program its config as a
// JSON object in PULUMI_CONFIG, and the SDK offers no way to list keys.
func EnvKeys() ([]string, error) {
	raw := os.Getenv(pulumi.EnvConfig)
	if raw == "" {
		return nil, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("reading %s: %w", pulumi.EnvConfig, err)
	}
	return slices.Sorted(maps.Keys(m)), nil
}
