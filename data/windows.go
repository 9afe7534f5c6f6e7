package data

import (
	"fmt"
	"regexp"
	"strings"
)

// RDS and ElastiCache take their backup, snapshot and maintenance windows in UTC. The defaults are chosen
// in the region's local time and converted, so that a Seoul stack backs up at 03:00 KST, not at 03:00 UTC
// (noon in Seoul). Early weekday mornings are the quietest hours for a football app: weekend nights carry
// the European match broadcasts. Each service gets a different maintenance night, so a bad patch never
// takes the database and the cache down together.

const (
	minutesPerDay  = 24 * 60
	minutesPerWeek = 7 * minutesPerDay
)

// localWindow is a window in local time: day (0 = Monday; ignored for daily windows), start and length
// in minutes.
type localWindow struct{ day, start, length int }

var (
	redisSnapshotLocal    = localWindow{start: 2 * 60, length: 60}            // 02:00-03:00 daily
	dbBackupLocal         = localWindow{start: 3 * 60, length: 60}            // 03:00-04:00 daily
	dbMaintenanceLocal    = localWindow{day: 1, start: 4*60 + 30, length: 60} // Tuesday 04:30-05:30
	redisMaintenanceLocal = localWindow{day: 2, start: 4*60 + 30, length: 60} // Wednesday 04:30-05:30
)

// utcOffsets are the regions' standard-time offsets from UTC in minutes. Daylight saving is ignored: in
// summer the windows move an hour later in local time, still inside the night.
var utcOffsets = map[string]int{
	"ap-northeast-1": 9 * 60, "ap-northeast-2": 9 * 60, "ap-northeast-3": 9 * 60,
	"ap-east-1": 8 * 60, "ap-southeast-1": 8 * 60, "ap-southeast-2": 10 * 60, "ap-south-1": 5*60 + 30,
	"eu-west-1": 0, "eu-west-2": 0, "eu-central-1": 60, "eu-north-1": 60,
	"us-east-1": -5 * 60, "us-east-2": -5 * 60, "us-west-1": -8 * 60, "us-west-2": -8 * 60,
	"ca-central-1": -5 * 60, "sa-east-1": -3 * 60,
}

// utcOffset is the region's offset, 0 (UTC) for a region not in the table.
func utcOffset(region string) int { return utcOffsets[region] }

var weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// dailyWindow renders a local daily window in UTC as "hh:mm-hh:mm".
func dailyWindow(w localWindow, offset int) string {
	start := mod(w.start-offset, minutesPerDay)
	return clock(start) + "-" + clock(mod(start+w.length, minutesPerDay))
}

// weeklyWindow renders a local weekly window in UTC as "ddd:hh:mm-ddd:hh:mm".
func weeklyWindow(w localWindow, offset int) string {
	start := mod(w.day*minutesPerDay+w.start-offset, minutesPerWeek)
	return weekClock(start) + "-" + weekClock(mod(start+w.length, minutesPerWeek))
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func weekClock(m int) string { return weekdays[m/minutesPerDay] + ":" + clock(m%minutesPerDay) }

func mod(a, n int) int { return ((a % n) + n) % n }

// window is a parsed window: start and length in minutes, repeating every period minutes.
type window struct{ start, length, period int }

var (
	dailyFormat  = regexp.MustCompile(`^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$`)
	weeklyFormat = regexp.MustCompile(`^(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)-(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):([0-5]\d)$`)
)

func parseDaily(s string) (window, bool) {
	m := dailyFormat.FindStringSubmatch(s)
	if m == nil {
		return window{}, false
	}
	start, end := hm(m[1], m[2]), hm(m[3], m[4])
	return window{start, mod(end-start, minutesPerDay), minutesPerDay}, true
}

// parseWeekly accepts any case, as AWS does (the provider stores it lowercased).
func parseWeekly(s string) (window, bool) {
	m := weeklyFormat.FindStringSubmatch(strings.ToLower(s))
	if m == nil {
		return window{}, false
	}
	start := dayIndex(m[1])*minutesPerDay + hm(m[2], m[3])
	end := dayIndex(m[4])*minutesPerDay + hm(m[5], m[6])
	return window{start, mod(end-start, minutesPerWeek), minutesPerWeek}, true
}

// hm converts two-digit hour and minute strings, already checked by the regexp, to minutes.
func hm(h, m string) int { return twoDigits(h)*60 + twoDigits(m) }

func twoDigits(s string) int { return int(s[0]-'0')*10 + int(s[1]-'0') }

func dayIndex(d string) int {
	for i, w := range weekdays {
		if w == d {
			return i
		}
	}
	return 0
}

// overlapsWeekly reports whether a daily window d, repeated on each day, meets the weekly window w.
func overlapsWeekly(d, w window) bool {
	for day := 0; day < 7; day++ {
		if circularOverlap(day*minutesPerDay+d.start, d.length, w.start, w.length, minutesPerWeek) {
			return true
		}
	}
	return false
}

// circularOverlap reports whether [a, a+alen) and [b, b+blen) intersect on a circle of n minutes.
func circularOverlap(a, alen, b, blen, n int) bool {
	return mod(b-a, n) < alen || mod(a-b, n) < blen
}

// checkWindows validates a daily window and a weekly window of one service: formats, minimum lengths and
// no overlap (both RDS and ElastiCache refuse overlapping windows).
func checkWindows(p *problems, dailyPath, daily, weeklyPath, weekly string, minMinutes int) {
	d, okDaily := parseDaily(daily)
	w, okWeekly := parseWeekly(weekly)
	if !okDaily {
		p.fail(dailyPath, daily, `must be "hh:mm-hh:mm" in UTC, such as 18:00-19:00`)
	} else if d.length < minMinutes {
		p.fail(dailyPath, daily, fmt.Sprintf("must last at least %d minutes", minMinutes))
	}
	if !okWeekly {
		p.fail(weeklyPath, weekly, `must be "ddd:hh:mm-ddd:hh:mm" in UTC, such as mon:19:30-mon:20:30`)
	} else if w.length < minMinutes || w.length > minutesPerDay {
		p.fail(weeklyPath, weekly, fmt.Sprintf("must last %d minutes to 24 hours", minMinutes))
	}
	if okDaily && okWeekly && overlapsWeekly(d, w) {
		p.fail(weeklyPath, weekly, fmt.Sprintf("overlaps %s.%s (%s); the windows must not overlap", configKey, dailyPath, daily))
	}
}
