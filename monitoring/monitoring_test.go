package monitoring

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/mock"
)

func TestSettingsDefaultsByProfile(t *testing.T) {
	t.Parallel()
	dev := Settings{Profile: "dev", Region: "ap-northeast-2"}.WithDefaults()
	assert.Equal(t, SetEssential, dev.Alarms)
	assert.False(t, *dev.Dashboard)
	assert.Equal(t, 14, dev.LogRetentionDays)
	require.NoError(t, dev.Validate())
	prod := Settings{Profile: "prod", Region: "ap-northeast-2"}.WithDefaults()
	assert.Equal(t, SetFull, prod.Alarms)
	assert.True(t, *prod.Dashboard)
	assert.Equal(t, 90, prod.LogRetentionDays)
	assert.Equal(t, 85.0, prod.Thresholds.DiskUsedPercent)
	require.NoError(t, prod.Validate())
}

func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	s := Settings{Profile: "prod", Region: "ap-northeast-2", Alarms: SetNone, Email: []string{"oncall@example.com"},
		LogKMSKeyARN: "arn:aws:kms:us-east-1:123456789012:key/abcd-1234"}.WithDefaults()
	err := s.Validate()
	require.Error(t, err)
	assert.ErrorContains(t, err, `football:monitoring.alarms: "none" is not allowed; nothing would notify the listed email/webhook`)
	assert.ErrorContains(t, err, `football:monitoring.logKmsKeyArn: "arn:aws:kms:us-east-1:123456789012:key/abcd-1234" is not allowed; the key is in us-east-1`)

	ok := Settings{Profile: "dev", Region: "ap-northeast-2", Webhook: "https://hooks.example.com/services/T0/B0/x"}.WithDefaults()
	assert.NoError(t, ok.Validate())
	bad := Settings{Profile: "dev", Region: "ap-northeast-2", Webhook: "https://user:pw@hooks.example.com/x"}.WithDefaults()
	assert.ErrorContains(t, bad.Validate(), "must be an https:// URL without credentials in it")
}

// TestDatabaseThresholdsFollowTheClass: memory and connection thresholds come from the class's memory and
// RDS's max_connections formula, so a bigger class moves them.
func TestDatabaseThresholdsFollowTheClass(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 4.0, classMemoryGiB("db.t4g.medium"))
	assert.Equal(t, 16.0, classMemoryGiB("db.r6g.large"))
	assert.Equal(t, 0.0, classMemoryGiB("db.x2g.large"), "unknown families get no memory-based alarm")
	assert.InDelta(t, 341, maxConnections("mysql", 4), 1)
	assert.InDelta(t, 450, maxConnections("postgres", 4), 1)
	assert.Equal(t, 5000.0, maxConnections("postgres", 128), "PostgreSQL's formula is capped")

	alarms := databaseAlarms(DatabaseWatch{Identifier: pulumi.String("db"), Engine: "mysql", InstanceClass: "db.t4g.medium", AllocatedGiB: 20},
		Settings{Profile: "prod"}.WithDefaults().Thresholds)
	byRole := map[string]alarm{}
	for _, a := range alarms {
		byRole[a.role] = a
	}
	assert.Equal(t, float64(2<<30), byRole["data-db-free-storage"].threshold, "10% of 20 GiB in bytes")
	assert.Equal(t, 273.0, byRole["data-db-connections"].threshold, "80% of ~341")
}

// TestBadWiringRegistersNothing: the stack must hand every watched component.
func TestBadWiringRegistersNothing(t *testing.T) {
	t.Parallel()
	m, err := mock.Run(mock.Options{Config: map[string]string{"aws:region": "ap-northeast-2"}}, func(ctx *pulumi.Context) error {
		_, err := NewMonitoring(ctx, "monitoring", &MonitoringArgs{Settings: Settings{Profile: "dev", Region: "ap-northeast-2"}, Project: "football", Stack: "dev"})
		return err
	})
	require.Error(t, err)
	assert.ErrorContains(t, err, "wiring: API, Database and Cache are required")
	assert.ErrorContains(t, err, "wiring: exactly one of Chat (a single server) and ChatFleet is required")
	assert.Empty(t, m.All())
}
