package awsfacts

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionOfEveryRegionFamily(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ region, partition, suffix string }{
		{"ap-northeast-2", "aws", "amazonaws.com"},
		{"us-east-1", "aws", "amazonaws.com"},
		{"eu-central-2", "aws", "amazonaws.com"},
		{"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
		{"us-gov-east-1", "aws-us-gov", "amazonaws.com"},
		{"cn-north-1", "aws-cn", "amazonaws.com.cn"},
		{"cn-northwest-1", "aws-cn", "amazonaws.com.cn"},
		{"us-iso-east-1", "aws-iso", "c2s.ic.gov"},
		{"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"},
		{"eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk"},
		{"us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov"},
	} {
		assert.Equal(t, c.partition, Partition(c.region), c.region)
		assert.Equal(t, c.suffix, DNSSuffix(Partition(c.region)), c.region)
	}
}

func TestARNForms(t *testing.T) {
	t.Parallel()
	const acct = "123456789012"
	cases := []struct {
		region                                  string
		flowLog, root, ssm, recover, s3Endpoint string
	}{
		{"ap-northeast-2",
			"arn:aws:ec2:ap-northeast-2:123456789012:vpc-flow-log/*", "arn:aws:iam::123456789012:root",
			"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws:automate:ap-northeast-2:ec2:recover",
			"com.amazonaws.ap-northeast-2.s3"},
		{"us-gov-west-1",
			"arn:aws-us-gov:ec2:us-gov-west-1:123456789012:vpc-flow-log/*", "arn:aws-us-gov:iam::123456789012:root",
			"arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws-us-gov:automate:us-gov-west-1:ec2:recover",
			"com.amazonaws.us-gov-west-1.s3"},
		{"cn-north-1",
			"arn:aws-cn:ec2:cn-north-1:123456789012:vpc-flow-log/*", "arn:aws-cn:iam::123456789012:root",
			"arn:aws-cn:iam::aws:policy/AmazonSSMManagedInstanceCore", "arn:aws-cn:automate:cn-north-1:ec2:recover",
			"cn.com.amazonaws.cn-north-1.s3"},
	}
	for _, c := range cases {
		assert.Equal(t, c.flowLog, ARN(c.region, "ec2", acct, "vpc-flow-log/*"), c.region)
		assert.Equal(t, c.root, AccountRoot(c.region, acct), c.region)
		assert.Equal(t, c.ssm, ManagedPolicy(c.region, "AmazonSSMManagedInstanceCore"), c.region)
		assert.Equal(t, c.recover, EC2AlarmAction(c.region, "recover"), c.region)
		assert.Equal(t, c.s3Endpoint, EndpointService(c.region, "s3"), c.region)
	}
}

func TestLogRetention(t *testing.T) {
	t.Parallel()
	for _, d := range []int{1, 7, 14, 90, 365, 3653} {
		assert.True(t, ValidLogRetention(d), d)
	}
	for _, d := range []int{0, 2, 10, 100, 366, 3650, -1} {
		assert.False(t, ValidLogRetention(d), d)
	}
	assert.IsIncreasing(t, LogRetentionDays)
}

func TestPolicy(t *testing.T) {
	t.Parallel()
	doc, err := Policy(map[string]any{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
	require.NoError(t, err)
	assert.Equal(t, `{"Statement":[{"Action":"s3:GetObject","Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}`, doc)
	var parsed struct {
		Version   string
		Statement []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(doc), &parsed))
	assert.Equal(t, "2012-10-17", parsed.Version)
	_, err = JSON(func() {})
	assert.Error(t, err, "a value JSON cannot hold is an error, not a panic")
}
