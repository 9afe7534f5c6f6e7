package compute

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/bootsim"
	"github.com/football/football-infra/internal/mock"
)

// agentConfigOf finds the CloudWatch agent's configuration inside a rendered setup script and decodes it.
func agentConfigOf(t *testing.T, script string) map[string]any {
	t.Helper()
	m := regexp.MustCompile(`(?s)football\.json\.new" <<'FOOTBALL_EOF'[^\n]*\n(.*?)\nFOOTBALL_EOF\n`).FindStringSubmatch(script)
	require.NotNil(t, m, "no agent configuration in the script")
	var cfg map[string]any
	require.NoError(t, json.Unmarshal([]byte(m[1]), &cfg), "the agent configuration is not JSON")
	return cfg
}

// TestServersShipLogsToTheirGroup: each tier creates its log group with the given retention and key, its
// role may write to that group's streams and publish CWAgent metrics and nothing else, and the agent
// configuration in its setup script ships to that group with the dimension the alarms use.
func TestServersShipLogsToTheirGroup(t *testing.T) {
	t.Parallel()
	const key = "arn:aws:kms:ap-northeast-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		api := validAPIArgs("prod")
		api.Logs = LogShipping{Group: "/football/prod/api", RetentionDays: 90, KMSKeyARN: key}
		api.RollbackAlarms = []string{"football-prod-api-target-5xx", "football-prod-api-unhealthy-hosts"}
		if _, err := NewApiTier(ctx, "api", api); err != nil {
			return err
		}
		chat := validChatArgs("prod")
		chat.Logs = LogShipping{Group: "/football/prod/chat", RetentionDays: 90}
		_, err := NewChatBastion(ctx, "chat", chat)
		return err
	})
	require.NoError(t, err)

	groups := map[string]*mock.Resource{}
	for _, g := range m.ByType("aws:cloudwatch/logGroup:LogGroup") {
		groups[g.Str("name")] = g
		retention, _ := g.Num("retentionInDays")
		assert.Equal(t, float64(90), retention, g.Name)
	}
	require.Contains(t, groups, "/football/prod/api")
	require.Contains(t, groups, "/football/prod/chat")
	assert.Equal(t, key, groups["/football/prod/api"].Str("kmsKeyId"))
	assert.Empty(t, groups["/football/prod/chat"].Str("kmsKeyId"))

	for tier, wantDescribeTags := range map[string]bool{"api": true, "chat": false} {
		arnValue, ok := groups["/football/prod/"+tier].Output("arn")
		require.True(t, ok)
		arn := arnValue.StringValue()
		require.Contains(t, arn, ":log-group:/football/prod/"+tier)
		doc := parsePolicy(t, policyNamed(t, m, tier+"-cloudwatch-agent"))
		var actions []string
		for _, s := range doc.Statement {
			actions = append(actions, s.Action...)
			if s.Sid == "ShipLogs" {
				assert.Equal(t, []string{arn, arn + ":log-stream:*"}, s.Resource, "exactly the tier's own group")
			}
		}
		want := []string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "cloudwatch:PutMetricData"}
		if wantDescribeTags {
			want = append(want, "ec2:DescribeTags")
		}
		assert.ElementsMatch(t, want, actions, "%s: no logs:CreateLogGroup (the stack owns the group), nothing else", tier)
	}
	var raw struct {
		Statement []struct {
			Condition map[string]map[string]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(policyNamed(t, m, "api-cloudwatch-agent").Str("policy")), &raw))
	assert.Equal(t, "CWAgent", raw.Statement[1].Condition["StringEquals"]["cloudwatch:namespace"])

	apiCfg := agentConfigOf(t, userData(t, m.One(t, "aws:ec2/launchTemplate:LaunchTemplate")))
	assert.Equal(t, map[string]any{"AutoScalingGroupName": "${aws:AutoScalingGroupName}"}, lookup(apiCfg, "metrics", "append_dimensions"))
	assert.Equal(t, "CWAgent", lookup(apiCfg, "metrics", "namespace"))
	for _, entry := range lookup(apiCfg, "logs", "logs_collected", "files", "collect_list").([]any) {
		assert.Equal(t, "/football/prod/api", entry.(map[string]any)["log_group_name"], "every file goes to the group the tier created")
	}
	var doc struct {
		MainSteps []struct{ Inputs struct{ RunCommand []string } }
	}
	require.NoError(t, json.Unmarshal([]byte(m.One(t, "aws:ssm/document:Document").Str("content")), &doc))
	chatCfg := agentConfigOf(t, joinLines(doc.MainSteps[0].Inputs.RunCommand))
	assert.Equal(t, map[string]any{"InstanceId": "${aws:InstanceId}"}, lookup(chatCfg, "metrics", "append_dimensions"))
	for _, entry := range lookup(chatCfg, "logs", "logs_collected", "files", "collect_list").([]any) {
		assert.Equal(t, "/football/prod/chat", entry.(map[string]any)["log_group_name"])
	}
	assert.Equal(t, true, lookup(chatCfg, "metrics", "metrics_collected", "disk", "drop_device"),
		"the disk metric's dimensions are path and fstype, as the alarms name them")

	asg := m.One(t, "aws:autoscaling/group:Group")
	assert.Subset(t, asg.Strs("enabledMetrics"), []string{"GroupDesiredCapacity", "GroupInServiceInstances"})
	assert.Equal(t, []string{"football-prod-api-target-5xx", "football-prod-api-unhealthy-hosts"},
		asg.Strs("instanceRefresh.preferences.alarmSpecification.alarms"))
}

// TestNoRollbackAlarmsNoSpecification: without alarms the refresh has no alarm specification (an empty
// one is refused by AWS).
func TestNoRollbackAlarmsNoSpecification(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		_, err := NewApiTier(ctx, "api", validAPIArgs("dev"))
		return err
	})
	require.NoError(t, err)
	_, ok := m.One(t, "aws:autoscaling/group:Group").Input("instanceRefresh.preferences.alarmSpecification")
	assert.False(t, ok)
}

// TestLogShippingIsRequired: a tier wired without a log group registers nothing.
func TestLogShippingIsRequired(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(runOptions(), func(ctx *pulumi.Context) error {
		args := validChatArgs("dev")
		args.Logs = LogShipping{Group: "logs with spaces", RetentionDays: 13}
		_, err := NewChatBastion(ctx, "chat", args)
		return err
	})
	require.Error(t, err)
	assert.ErrorContains(t, err, `wiring: Logs.Group "logs with spaces" is not allowed`)
	assert.ErrorContains(t, err, "wiring: Logs.RetentionDays 13 is not allowed")
	assert.Empty(t, m.All(), "nothing registered")
}

// TestAgentSetupRuns runs the setup script in a sandbox: it writes the agent's configuration (valid JSON
// naming the group, shipping the journal export only), the journal export unit and the log rotation,
// installs and starts the agent, and a second run changes nothing. A changed journal export unit is
// restarted, not only enabled, so a long-lived server does not keep the old command line until a reboot.
func TestAgentSetupRuns(t *testing.T) {
	t.Parallel()
	sb, err := bootsim.New(t.TempDir())
	require.NoError(t, err)
	script, err := renderAPIUserData(sampleAPIEnv())
	require.NoError(t, err)
	first, err := sb.Run("sh", script, bootsim.Lock)
	require.NoError(t, err)
	require.Equal(t, 0, first.Exit, first.Output)
	assert.NotContains(t, first.Output, "could not be set up")
	assert.True(t, first.Called("curl -fsS --retry 5 --retry-connrefused --connect-timeout 10 --retry-max-time 120 -o "), first.Calls)
	assert.True(t, first.Called("amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/football.json"))
	assert.True(t, sb.Active("football-journal.service") && sb.Enabled("football-journal.service"))
	assert.True(t, sb.Active("amazon-cloudwatch-agent"))
	files, err := sb.Files()
	require.NoError(t, err)
	again, err := sb.Run("sh", script)
	require.NoError(t, err)
	require.Equal(t, 0, again.Exit, again.Output)
	assert.False(t, again.Called("amazon-cloudwatch-agent-ctl") || again.Called("curl") || again.Called("systemctl restart"), again.Calls)
	filesAgain, err := sb.Files()
	require.NoError(t, err)
	assert.Equal(t, files, filesAgain, "a second run changes no file")

	raw, err := sb.Read("/opt/aws/amazon-cloudwatch-agent/etc/football.json")
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &cfg))
	collect := lookup(cfg, "logs", "logs_collected", "files", "collect_list").([]any)
	require.Len(t, collect, 1, "only the journal export: cloud-init's output is in it already, and shipping its file too sent it twice")
	assert.Equal(t, journalFile, collect[0].(map[string]any)["file_path"])
	assert.Equal(t, testLogGroup, collect[0].(map[string]any)["log_group_name"])
	unit, err := sb.Read("/etc/systemd/system/football-journal.service")
	require.NoError(t, err)
	assert.Contains(t, unit, "--unit=football-api.service --unit=docker.service --unit=cloud-init.service --unit=cloud-final.service")
	assert.Contains(t, unit, ">>"+journalFile)
	_, err = sb.Read("/etc/logrotate.d/football")
	require.NoError(t, err)
	for path := range filesAgain {
		assert.NotContains(t, path, ".new", "no leftover temporary files")
	}

	// An older journal export unit on disk (a long-lived chat server set up by an earlier version): the
	// script replaces it and restarts the export.
	old := strings.Replace(unit, "--unit=cloud-final.service", "", 1)
	require.NoError(t, os.WriteFile(filepath.Join(sb.Root, "etc/systemd/system/football-journal.service"), []byte(old), 0o644))
	upgrade, err := sb.Run("sh", script)
	require.NoError(t, err)
	require.Equal(t, 0, upgrade.Exit, upgrade.Output)
	reload, restart := upgrade.Index("systemctl daemon-reload"), upgrade.Index("systemctl restart football-journal.service")
	assert.True(t, reload >= 0 && restart > reload, "a changed export unit is reloaded and restarted: %v", upgrade.Calls)
}

// lookup walks nested JSON objects.
func lookup(v any, path ...string) any {
	for _, k := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = obj[k]
	}
	return v
}

func joinLines(lines []string) string {
	out := ""
	for _, l := range lines {
		out += l + "\n"
	}
	return out
}
