package insight

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/football/football-infra/internal/mock"
)

// AlarmRow is one alarm of a plan as an on-call engineer reads it.
type AlarmRow struct {
	// Component is the component whose resource the alarm watches (ApiTier, ChatBastion, ...).
	Component string
	// Name is the alarm's name in CloudWatch.
	Name string
	// Metric is "namespace metric statistic", or the metric-math expression over its metrics.
	Metric string
	// Condition is "> 5 for 3 × 60s".
	Condition string
	// Missing is the missing-data treatment.
	Missing string
	// Actions are what happens on ALARM: notify, and recover or reboot.
	Actions string
}

// Alarms lists every planned alarm, ordered by component and name.
func Alarms(p *Plan) []AlarmRow {
	var rows []AlarmRow
	for _, r := range p.ofType(typeMetricAlarm) {
		comp := component(r)
		if i := strings.LastIndex(comp, ":"); i >= 0 {
			comp = comp[i+1:]
		}
		rows = append(rows, AlarmRow{
			Component: comp, Name: r.Str("name"), Metric: alarmMetric(r), Condition: alarmCondition(r),
			Missing: r.Str("treatMissingData"), Actions: alarmActions(r),
		})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Component != rows[j].Component {
			return rows[i].Component < rows[j].Component
		}
		return rows[i].Name < rows[j].Name
	})
	return rows
}

func alarmMetric(r *mock.Resource) string {
	queries, ok := r.Input("metricQueries")
	if !ok || !queries.IsArray() {
		stat := r.Str("statistic")
		if stat == "" {
			stat = r.Str("extendedStatistic")
		}
		return fmt.Sprintf("%s %s %s", r.Str("namespace"), r.Str("metricName"), stat)
	}
	var metrics []string
	expr := ""
	for _, q := range queries.ArrayValue() {
		id, _ := mock.Lookup(q, "id")
		if e, ok := mock.Lookup(q, "expression"); ok && e.IsString() {
			expr = e.StringValue()
			continue
		}
		ns, _ := mock.Lookup(q, "metric.namespace")
		name, _ := mock.Lookup(q, "metric.metricName")
		stat, _ := mock.Lookup(q, "metric.stat")
		metrics = append(metrics, fmt.Sprintf("%s=%s %s %s", id.StringValue(), ns.StringValue(), name.StringValue(), stat.StringValue()))
	}
	return expr + " where " + strings.Join(metrics, ", ")
}

func alarmCondition(r *mock.Resource) string {
	op := map[string]string{
		"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=", "LessThanThreshold": "<",
		"LessThanOrEqualToThreshold": "<=",
	}[r.Str("comparisonOperator")]
	threshold, _ := r.Num("threshold")
	periods, _ := r.Num("evaluationPeriods")
	datapoints, _ := r.Num("datapointsToAlarm")
	period, ok := r.Num("period")
	if !ok {
		if queries, qok := r.Input("metricQueries"); qok && queries.IsArray() {
			for _, q := range queries.ArrayValue() {
				if v, ok := mock.Lookup(q, "metric.period"); ok && v.IsNumber() {
					period = v.NumberValue()
				}
			}
		}
	}
	window := fmt.Sprintf("%g × %gs", periods, period)
	if datapoints > 0 && datapoints != periods {
		window = fmt.Sprintf("%g of %g × %gs", datapoints, periods, period)
	}
	return fmt.Sprintf("%s %s for %s", op, trimFloat(threshold), window)
}

func alarmActions(r *mock.Resource) string {
	var out []string
	for _, a := range r.Strs("alarmActions") {
		switch {
		case strings.Contains(a, ":sns:"):
			out = append(out, "notify")
		case strings.HasSuffix(a, ":ec2:recover"):
			out = append(out, "recover")
		case strings.HasSuffix(a, ":ec2:reboot"):
			out = append(out, "reboot")
		default:
			out = append(out, a)
		}
	}
	if len(r.Strs("okActions")) > 0 {
		out = append(out, "notify on OK")
	}
	return strings.Join(out, ", ")
}

// WriteAlarms prints the plan's alarms as a table, or says there are none.
func WriteAlarms(w io.Writer, p *Plan) error {
	rows := Alarms(p)
	if len(rows) == 0 {
		_, err := fmt.Fprintf(w, "stack %s plans no alarm (football:monitoring.alarms is none)\n", p.Stack)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "Alarms of stack %s (%s): %d\n\n", p.Stack, p.Region, len(rows))
	fmt.Fprintln(tw, "COMPONENT\tALARM\tMETRIC\tALARM WHEN\tMISSING DATA\tACTIONS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Component, r.Name, r.Metric, r.Condition, r.Missing, r.Actions)
	}
	return tw.Flush()
}

// writeAlarmsMarkdown renders alarm rows as a Markdown table.
func writeAlarmsMarkdown(w io.Writer, rows []AlarmRow) {
	fmt.Fprintln(w, "| Component | Alarm | Metric | Alarm when | Missing data | Actions |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s |\n", r.Component, r.Name, strings.ReplaceAll(r.Metric, "|", "\\|"), r.Condition, r.Missing, r.Actions)
	}
}
