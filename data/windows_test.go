package data

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultWindows(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		region                                       string
		dbBackup, dbMaint, redisSnapshot, redisMaint string
	}{
		// 03:00 KST backup, Tuesday 04:30 KST database maintenance, Wednesday 04:30 KST cache maintenance.
		{"ap-northeast-2", "18:00-19:00", "mon:19:30-mon:20:30", "17:00-18:00", "tue:19:30-tue:20:30"},
		{"us-west-2", "11:00-12:00", "tue:12:30-tue:13:30", "10:00-11:00", "wed:12:30-wed:13:30"},
		{"ap-south-1", "21:30-22:30", "mon:23:00-tue:00:00", "20:30-21:30", "tue:23:00-wed:00:00"},
		{"eu-central-1", "02:00-03:00", "tue:03:30-tue:04:30", "01:00-02:00", "wed:03:30-wed:04:30"},
		{"xx-unknown-9", "03:00-04:00", "tue:04:30-tue:05:30", "02:00-03:00", "wed:04:30-wed:05:30"},
		{"", "03:00-04:00", "tue:04:30-tue:05:30", "02:00-03:00", "wed:04:30-wed:05:30"},
	} {
		s := Settings{Profile: "prod", Region: tc.region}.WithDefaults()
		assert.Equal(t, tc.dbBackup, s.DB.BackupWindow, tc.region)
		assert.Equal(t, tc.dbMaint, s.DB.MaintenanceWindow, tc.region)
		assert.Equal(t, tc.redisSnapshot, s.Redis.SnapshotWindow, tc.region)
		assert.Equal(t, tc.redisMaint, s.Redis.MaintenanceWindow, tc.region)
	}
	// Every known region's defaults pass validation (formats, lengths, no overlap).
	for region := range utcOffsets {
		for _, profile := range []string{"dev", "prod"} {
			assert.NoError(t, Settings{Profile: profile, Region: region}.WithDefaults().Validate(), "%s %s", region, profile)
		}
	}
}

func TestWindowParsing(t *testing.T) {
	t.Parallel()
	d, ok := parseDaily("23:30-00:30")
	require.True(t, ok)
	assert.Equal(t, window{23*60 + 30, 60, minutesPerDay}, d)
	w, ok := parseWeekly("Sun:23:30-Mon:00:30")
	require.True(t, ok, "AWS accepts any case")
	assert.Equal(t, window{6*minutesPerDay + 23*60 + 30, 60, minutesPerWeek}, w)
	for _, bad := range []string{"24:00-01:00", "1:00-2:00", "01:00", "01:60-02:00"} {
		_, ok := parseDaily(bad)
		assert.False(t, ok, bad)
	}
	for _, bad := range []string{"mon:01:00", "mon:01:00-02:00", "xyz:01:00-xyz:02:00"} {
		_, ok := parseWeekly(bad)
		assert.False(t, ok, bad)
	}
}

func TestWindowOverlap(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		daily, weekly string
		overlap       bool
	}{
		{"18:00-19:00", "mon:19:30-mon:20:30", false},
		{"18:00-19:00", "mon:19:00-mon:20:00", false}, // touching is not overlapping
		{"18:00-19:00", "mon:18:59-mon:20:00", true},
		{"18:00-19:00", "wed:17:00-wed:18:01", true},
		{"23:30-00:30", "sun:00:00-sun:01:00", true},  // the daily window wraps midnight
		{"23:30-00:30", "sun:23:00-mon:00:00", true},  // the weekly window wraps the week
		{"02:00-03:00", "sun:23:00-mon:01:30", false}, // wraps the week, ends before 02:00
		{"02:00-03:00", "sun:23:00-mon:02:30", true},
	} {
		d, ok1 := parseDaily(tc.daily)
		w, ok2 := parseWeekly(tc.weekly)
		require.True(t, ok1 && ok2)
		assert.Equal(t, tc.overlap, overlapsWeekly(d, w), "%s vs %s", tc.daily, tc.weekly)
	}
}
