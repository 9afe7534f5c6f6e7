package network

import (
	"encoding/json"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

// TestFlowLogsInOtherPartitions: in GovCloud and China the flow-log role trusts only flow logs of the
// stack's own account, named by ARNs of the region's partition (arn:aws:ec2:... would match no flow log
// there, and the flow log could not deliver), and the S3 gateway endpoint has the partition's service name.
func TestFlowLogsInOtherPartitions(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ region, sourceARN, s3Service string }{
		{"us-gov-west-1", "arn:aws-us-gov:ec2:us-gov-west-1:" + mock.Account + ":vpc-flow-log/*", "com.amazonaws.us-gov-west-1.s3"},
		{"cn-north-1", "arn:aws-cn:ec2:cn-north-1:" + mock.Account + ":vpc-flow-log/*", "cn.com.amazonaws.cn-north-1.s3"},
		{"ap-northeast-2", "arn:aws:ec2:ap-northeast-2:" + mock.Account + ":vpc-flow-log/*", "com.amazonaws.ap-northeast-2.s3"},
	} {
		t.Run(c.region, func(t *testing.T) {
			t.Parallel()
			s := Settings{Profile: "prod", Region: c.region, NAT: NATSingle}
			m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": c.region}}, func(ctx *pulumi.Context) error {
				_, err := NewNetwork(ctx, "net", &NetworkArgs{Settings: s})
				return err
			})
			require.NoError(t, err)
			var trust struct {
				Statement []struct {
					Principal map[string]string
					Condition map[string]map[string]string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(m.One(t, "aws:iam/role:Role").Str("assumeRolePolicy")), &trust))
			require.Len(t, trust.Statement, 1)
			assert.Equal(t, c.sourceARN, trust.Statement[0].Condition["ArnLike"]["aws:SourceArn"])
			assert.Equal(t, mock.Account, trust.Statement[0].Condition["StringEquals"]["aws:SourceAccount"])
			assert.Equal(t, c.s3Service, m.One(t, "aws:ec2/vpcEndpoint:VpcEndpoint").Str("serviceName"))
		})
	}
}
