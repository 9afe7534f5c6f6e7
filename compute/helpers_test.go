package compute

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

const (
	testRegion  = "ap-northeast-2"
	ingressType = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	egressType  = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
	ltType      = "aws:ec2/launchTemplate:LaunchTemplate"
)

func runOptions() mock.Options {
	return mock.Options{Config: map[string]string{"aws:region": testRegion}}
}

// checkComponentInvariants asserts what holds for every component of this package: every custom
// resource is parented to the component and named "<name>-...", and every server (a launch template or
// an instance) boots the given image with IMDSv2 only and an encrypted root volume.
func checkComponentInvariants(t *testing.T, m *mock.Mocks, componentType, name string) {
	t.Helper()
	comp := m.One(t, componentType)
	require.Equal(t, name, comp.Name)
	for _, r := range m.Custom() {
		if strings.HasPrefix(r.Type, "pulumi:providers:") {
			continue // the default provider belongs to the stack
		}
		assert.Equal(t, comp.URN, r.Parent, "%s %s must be parented to the %s", r.Type, r.Name, componentType)
		assert.True(t, strings.HasPrefix(r.Name, name+"-"), "%s %q must be named %s-<role>", r.Type, r.Name, name)
	}
	for _, i := range m.ByType("aws:ec2/instance:Instance") {
		assert.Equal(t, "required", i.Str("metadataOptions.httpTokens"), "%s: IMDSv2 only", i.Name)
		hop, ok := i.Num("metadataOptions.httpPutResponseHopLimit")
		assert.True(t, ok && hop == 1, "%s: IMDS hop limit must be 1, got %v", i.Name, hop)
		encrypted, _ := i.Bool("rootBlockDevice.encrypted")
		assert.True(t, encrypted, "%s: root volume encrypted", i.Name)
		assert.Equal(t, testImageID, i.Str("ami"), i.Name)
		assert.NotEmpty(t, i.Str("iamInstanceProfile"), "%s: instance profile", i.Name)
		assert.Equal(t, name, i.Str("rootBlockDevice.tags.Name"), "%s: the root volume's Name tag", i.Name)
	}
	for _, lt := range m.ByType(ltType) {
		assert.Equal(t, "required", lt.Str("metadataOptions.httpTokens"), "%s: IMDSv2 only", lt.Name)
		hop, ok := lt.Num("metadataOptions.httpPutResponseHopLimit")
		assert.True(t, ok && hop == 1, "%s: IMDS hop limit must be 1, got %v", lt.Name, hop)
		assert.Equal(t, "enabled", lt.Str("metadataOptions.httpEndpoint"), lt.Name)
		assert.Equal(t, "/dev/sda1", lt.Str("blockDeviceMappings[0].deviceName"), "%s: Ubuntu's root device", lt.Name)
		assert.Equal(t, "true", lt.Str("blockDeviceMappings[0].ebs.encrypted"), "%s: root volume encrypted", lt.Name)
		assert.Equal(t, "gp3", lt.Str("blockDeviceMappings[0].ebs.volumeType"), lt.Name)
		assert.Equal(t, testImageID, lt.Str("imageId"), "%s: a pinned AMI ID (automatic rollback refuses resolve:ssm:)", lt.Name)
		assert.NotEmpty(t, lt.Str("iamInstanceProfile.arn"), "%s: instance profile", lt.Name)
		// Default tags never reach what a launch creates; the template tags all of it, Name included.
		specs := launchTags(t, lt)
		assert.ElementsMatch(t, []string{"instance", "volume", "network-interface"}, keys(specs), lt.Name)
		for typ, tags := range specs {
			assert.Equal(t, name, tags["Name"], "%s: %s Name tag", lt.Name, typ)
		}
	}
}

// launchTags returns a launch template's tagSpecifications as resource type -> tags.
func launchTags(t *testing.T, lt *mock.Resource) map[string]map[string]string {
	t.Helper()
	v, ok := lt.Input("tagSpecifications")
	require.True(t, ok && v.IsArray(), "%s has no tagSpecifications", lt.Name)
	out := map[string]map[string]string{}
	for _, spec := range v.ArrayValue() {
		typ, _ := mock.Lookup(spec, "resourceType")
		tags, _ := mock.Lookup(spec, "tags")
		require.True(t, tags.IsObject(), "%s: %s tags", lt.Name, typ.StringValue())
		m := map[string]string{}
		for k, tv := range tags.ObjectValue() {
			m[string(k)] = mock.Unwrap(tv).StringValue()
		}
		require.NotContains(t, out, typ.StringValue(), "%s: %s is tagged twice", lt.Name, typ.StringValue())
		out[typ.StringValue()] = m
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// policyDoc decodes an IAM policy document with one statement per entry.
type policyDoc struct {
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource []string
	}
}

func parsePolicy(t *testing.T, r *mock.Resource) policyDoc {
	t.Helper()
	var doc policyDoc
	require.NoError(t, json.Unmarshal([]byte(r.Str("policy")), &doc), "%s policy", r.Name)
	return doc
}

// worldIngress returns "<port>" for each ingress rule open to 0.0.0.0/0 or ::/0, with its family.
func worldIngress(m *mock.Mocks) []string {
	var out []string
	for _, r := range m.ByType(ingressType) {
		for _, k := range []string{"cidrIpv4", "cidrIpv6"} {
			if c := r.Str(k); c != "" && isWorld(c) {
				port, _ := r.Num("fromPort")
				out = append(out, c+":"+strconv.Itoa(int(port)))
			}
		}
	}
	return out
}

// rulesOf returns the ingress rules attached to a security group.
func rulesOf(m *mock.Mocks, typ, sgID string) []*mock.Resource {
	var out []*mock.Resource
	for _, r := range m.ByType(typ) {
		if r.Str("securityGroupId") == sgID {
			out = append(out, r)
		}
	}
	return out
}

// userData decodes a launch template's user data (the setup script) and returns it followed by the env
// file the script writes.
func userData(t *testing.T, lt *mock.Resource) string {
	t.Helper()
	raw := lt.Str("userData")
	require.NotEmpty(t, raw, "%s has no user data", lt.Name)
	b, err := base64.StdEncoding.DecodeString(raw)
	require.NoError(t, err, "%s: user data must be base64", lt.Name)
	require.LessOrEqual(t, len(b), maxUserData, "%s: EC2 takes at most 16 KB of user data", lt.Name)
	if bytes.HasPrefix(b, []byte{0x1f, 0x8b}) { // gzip, which cloud-init unpacks
		r, err := gzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err, lt.Name)
		b, err = io.ReadAll(r)
		require.NoError(t, err, lt.Name)
	}
	return string(b) + "\n" + decodeEnv(t, string(b))
}

// outputStr returns a string the mock answered for r.
func outputStr(t *testing.T, r *mock.Resource, path string) string {
	t.Helper()
	v, ok := r.Output(path)
	require.True(t, ok && v.IsString(), "%s %s has no output %s", r.Type, r.Name, path)
	return v.StringValue()
}

// policyNamed returns the inline role policy with the logical name.
func policyNamed(t *testing.T, m *mock.Mocks, name string) *mock.Resource {
	t.Helper()
	for _, r := range m.ByType("aws:iam/rolePolicy:RolePolicy") {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no role policy %s", name)
	return nil
}
