package mock

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// SDKSchema is the input schema of a generated Pulumi Go SDK package, read from its source rather than
// compiled: for each struct type, its fields' property names (the pulumi tags) and Go types. It lets a
// test hold inputs a program registers by type token, without the typed package, to what the typed
// package would have sent.
type SDKSchema struct {
	structs map[string]*ast.StructType
}

// PackageDir is the source directory of an imported Go package of this module's build (`go list`).
func PackageDir(importPath string) (string, error) {
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", importPath).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return "", fmt.Errorf("go list %s: %v: %s", importPath, err, ee.Stderr)
		}
		return "", fmt.Errorf("go list %s: %w", importPath, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// LoadSDKSchema parses the Go files (tests excluded) of the package in dir and keeps its struct types.
func LoadSDKSchema(dir string) (*SDKSchema, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	s := &SDKSchema{structs: map[string]*ast.StructType{}}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.TYPE {
				continue
			}
			for _, spec := range gen.Specs {
				ts := spec.(*ast.TypeSpec)
				if st, ok := ts.Type.(*ast.StructType); ok {
					s.structs[ts.Name.Name] = st
				}
			}
		}
	}
	if len(s.structs) == 0 {
		return nil, fmt.Errorf("no struct types in the Go files of %s", dir)
	}
	return s, nil
}

// Check lists every way props differs from the struct type named typeName (for a resource, its plain
// args struct: webAclArgs for WebAcl): a property the struct does not declare, a value of the wrong kind
// (string, number, bool, list, object), and a required property (a field that is neither a pointer, a
// list nor a map) that is missing. Unknown values pass. Each problem is named by its path from the root.
func (s *SDKSchema) Check(typeName string, props resource.PropertyMap) []string {
	st, ok := s.structs[typeName]
	if !ok {
		return []string{fmt.Sprintf("the package declares no struct %s", typeName)}
	}
	var problems []string
	s.checkObject("", typeName, st, props, &problems)
	sort.Strings(problems)
	return problems
}

func (s *SDKSchema) checkObject(path, typeName string, st *ast.StructType, props resource.PropertyMap, problems *[]string) {
	declared := map[string]bool{}
	for _, field := range st.Fields.List {
		if field.Tag == nil {
			continue
		}
		tag, err := strconv.Unquote(field.Tag.Value)
		if err != nil {
			continue
		}
		name, _, _ := strings.Cut(reflect.StructTag(tag).Get("pulumi"), ",")
		if name == "" {
			continue
		}
		declared[name] = true
		v, present := props[resource.PropertyKey(name)]
		if !present || v.IsNull() {
			if required(field.Type) {
				*problems = append(*problems, fmt.Sprintf("%s: required by %s, missing", join(path, name), typeName))
			}
			continue
		}
		s.checkValue(join(path, name), field.Type, v, problems)
	}
	for key := range props {
		if !declared[string(key)] {
			*problems = append(*problems, fmt.Sprintf("%s: %s declares no such property", join(path, string(key)), typeName))
		}
	}
}

func (s *SDKSchema) checkValue(path string, typ ast.Expr, v resource.PropertyValue, problems *[]string) {
	for v.IsSecret() || v.IsOutput() {
		if v.IsOutput() && !v.OutputValue().Known {
			return
		}
		if v.IsSecret() {
			v = v.SecretValue().Element
		} else {
			v = v.OutputValue().Element
		}
	}
	if v.IsComputed() {
		return
	}
	bad := func(want string) {
		*problems = append(*problems, fmt.Sprintf("%s: %s where the SDK has %s", path, v.TypeString(), want))
	}
	switch t := typ.(type) {
	case *ast.StarExpr:
		s.checkValue(path, t.X, v, problems)
	case *ast.ArrayType:
		if !v.IsArray() {
			bad("a list")
			return
		}
		for i, e := range v.ArrayValue() {
			s.checkValue(fmt.Sprintf("%s[%d]", path, i), t.Elt, e, problems)
		}
	case *ast.MapType:
		if !v.IsObject() {
			bad("a map")
			return
		}
		for k, e := range v.ObjectValue() {
			s.checkValue(path+"."+string(k), t.Value, e, problems)
		}
	case *ast.InterfaceType:
		// any: the SDK takes whatever is given.
	case *ast.Ident:
		switch t.Name {
		case "string":
			if !v.IsString() {
				bad("a string")
			}
		case "int", "float64":
			if !v.IsNumber() {
				bad("a number")
			} else if t.Name == "int" && v.NumberValue() != float64(int64(v.NumberValue())) {
				bad("an integer")
			}
		case "bool":
			if !v.IsBool() {
				bad("a bool")
			}
		case "any":
		default:
			st, ok := s.structs[t.Name]
			if !ok {
				*problems = append(*problems, fmt.Sprintf("%s: the SDK's type %s is not a struct this check knows", path, t.Name))
				return
			}
			if !v.IsObject() {
				bad("an object (" + t.Name + ")")
				return
			}
			s.checkObject(path, t.Name, st, v.ObjectValue(), problems)
		}
	default:
		*problems = append(*problems, fmt.Sprintf("%s: the SDK's type %T is not one this check knows", path, typ))
	}
}

// required is true for a field the SDK's plain struct holds by value: a scalar or a nested struct, not a
// pointer, a list or a map.
func required(typ ast.Expr) bool {
	switch typ.(type) {
	case *ast.StarExpr, *ast.ArrayType, *ast.MapType, *ast.InterfaceType:
		return false
	}
	return true
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// awsSDK is the import path of pulumi-aws's Go packages.
const awsSDK = "github.com/pulumi/pulumi-aws/sdk/v6/go/aws/"

// AWSArgsStruct maps a pulumi-aws type token to its typed package and the plain args struct the
// package's constructor sends: "aws:wafv2/webAcl:WebAcl" is wafv2's webAclArgs.
func AWSArgsStruct(token string) (pkg, argsStruct string, err error) {
	rest, ok := strings.CutPrefix(token, "aws:")
	module, file, ok2 := strings.Cut(rest, "/")
	file, _, ok3 := strings.Cut(file, ":")
	if !ok || !ok2 || !ok3 || module == "" || file == "" {
		return "", "", fmt.Errorf("%q is not a pulumi-aws type token (aws:<module>/<resource>:<Resource>)", token)
	}
	return awsSDK + module, file + "Args", nil
}

// SDKProblems holds every registered resource of the given pulumi-aws types to its typed package's Go
// source (SDKSchema.Check) and to the provider version wantVersion; it returns each problem, prefixed by
// the resource, and fails the test only when a package cannot be read. A type the plan did not register
// is a problem too, so a check cannot pass for want of resources.
func (m *Mocks) SDKProblems(t testing.TB, wantVersion string, types ...string) []string {
	t.Helper()
	schemas := map[string]*SDKSchema{}
	var problems []string
	for _, typ := range types {
		pkg, args, err := AWSArgsStruct(typ)
		if err != nil {
			t.Fatal(err)
		}
		if schemas[pkg] == nil {
			dir, err := PackageDir(pkg)
			if err != nil {
				t.Fatal(err)
			}
			if schemas[pkg], err = LoadSDKSchema(dir); err != nil {
				t.Fatal(err)
			}
		}
		registered := m.ByType(typ)
		if len(registered) == 0 {
			problems = append(problems, typ+": none registered")
		}
		for _, r := range registered {
			for _, p := range schemas[pkg].Check(args, r.Inputs) {
				problems = append(problems, typ+" "+r.Name+": "+p)
			}
			if r.Version != wantVersion {
				problems = append(problems, fmt.Sprintf("%s %s: asks for aws provider %q, the typed resources for %q", typ, r.Name, r.Version, wantVersion))
			}
		}
	}
	return problems
}
