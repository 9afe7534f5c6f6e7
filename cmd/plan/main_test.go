package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args       []string
		code       int
		out, error string
	}{
		{[]string{"-dir", "../..", "-stack", "dev"}, 0, "net-vpc (awsx:ec2:Vpc)", ""},
		{[]string{"-dir", "../..", "-stack", "prod", "-format", "json"}, 0, `"steps"`, ""},
		{[]string{"-dir", "../..", "-stack", "missing"}, 2, "", `stack "missing"`},
		{[]string{"-dir", "../..", "-format", "yaml"}, 2, "", `-format "yaml" is not allowed`},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		code := run(c.args, &out, &errOut)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errOut.String())
		assert.Contains(t, out.String(), c.out)
		assert.Contains(t, errOut.String(), c.error)
		if c.code == 2 {
			assert.Empty(t, out.String(), "nothing planned on a refusal")
		}
	}
	var out bytes.Buffer
	run([]string{"-dir", "../..", "-stack", "dev", "-format", "json"}, &out, &bytes.Buffer{})
	assert.True(t, json.Valid(out.Bytes()))
}
