package monitoring

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
)

// TestPartitionsOfActionsAndKeys: the recover and reboot actions name the region's partition, and a log
// key must be in it.
func TestPartitionsOfActionsAndKeys(t *testing.T) {
	t.Parallel()
	th := Settings{Profile: "prod"}.WithDefaults().Thresholds
	for region, want := range map[string][]string{
		"us-gov-west-1": {"arn:aws-us-gov:automate:us-gov-west-1:ec2:recover", "arn:aws-us-gov:automate:us-gov-west-1:ec2:reboot"},
		"cn-north-1":    {"arn:aws-cn:automate:cn-north-1:ec2:recover", "arn:aws-cn:automate:cn-north-1:ec2:reboot"},
	} {
		var got []string
		for _, a := range instanceAlarms(InstanceWatch{Role: "chat", InstanceID: pulumi.String("i-1")}, region, th) {
			got = append(got, a.actions...)
		}
		assert.Equal(t, want, got, region)
	}
	gov := Settings{Profile: "prod", Region: "us-gov-west-1", LogKMSKeyARN: "arn:aws:kms:us-gov-west-1:123456789012:key/abcd-1234"}.WithDefaults()
	assert.ErrorContains(t, gov.Validate(), "the ARN's partition is aws; us-gov-west-1 is in partition aws-us-gov")
	gov.LogKMSKeyARN = "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abcd-1234"
	assert.NoError(t, gov.Validate())
}
