package compute

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"
)

// apiEnv is what an API server learns at boot, written to /etc/football/api.env. It holds where secrets
// are, never a secret: user data is readable by anyone allowed ec2:DescribeLaunchTemplateVersions.
type apiEnv struct {
	DBHost, DBName, DBSecretARN string
	DBPort                      int
	RedisHost                   string
	RedisPort                   int
	RedisTLS                    bool
	// RedisAuthSecretARN is the secret holding the Redis AUTH token; "" when Redis has no AUTH.
	RedisAuthSecretARN string
	Region             string
	AppPort            int
	HealthCheckPath    string
	// Image is the release by digest; "" runs the placeholder.
	Image string
	// LogGroup is the CloudWatch Logs group the server's agent ships to.
	LogGroup string
}

// chatEnv is what the chat server learns at boot, written to /etc/football/chat.env.
type chatEnv struct {
	RedisHost string
	RedisPort int
	RedisTLS  bool
	// RedisAuthSecretARN is the secret holding the Redis AUTH token; "" when Redis has no AUTH.
	RedisAuthSecretARN string
	APIBaseURL         string
	Region             string
	ChatPort           int
	// Image is the release by digest; "" runs the placeholder.
	Image string
	// LogGroup is the CloudWatch Logs group the server's agent ships to.
	LogGroup string
	// PingSeconds is how often a chat server behind the load balancer pings a quiet WebSocket
	// (CHAT_PING_SECONDS, half the load balancer's idle timeout); 0 writes no such line (a single server).
	PingSeconds int
}

// envVar is one line of an env file. An optional one is written even when empty ("KEY="), so the app
// always finds the variable and an empty value means "none".
type envVar struct {
	Key, Value string
	Optional   bool
}

// safeValue is what an env value may contain: host names, ARNs, URLs and numbers. Anything else (spaces,
// quotes, $, newlines) would need quoting rules that systemd, shells and YAML do not share.
var safeValue = regexp.MustCompile(`^[A-Za-z0-9._:/@+,=!?&%~#-]+$`)

func (e apiEnv) vars() []envVar {
	return []envVar{
		{Key: "DB_HOST", Value: e.DBHost}, {Key: "DB_PORT", Value: strconv.Itoa(e.DBPort)}, {Key: "DB_NAME", Value: e.DBName},
		{Key: "DB_SECRET_ARN", Value: e.DBSecretARN},
		{Key: "REDIS_HOST", Value: e.RedisHost}, {Key: "REDIS_PORT", Value: strconv.Itoa(e.RedisPort)},
		{Key: "REDIS_TLS", Value: strconv.FormatBool(e.RedisTLS)},
		{Key: "REDIS_AUTH_SECRET_ARN", Value: e.RedisAuthSecretARN, Optional: true},
		{Key: "AWS_REGION", Value: e.Region}, {Key: "APP_PORT", Value: strconv.Itoa(e.AppPort)},
		{Key: "FOOTBALL_IMAGE", Value: e.Image, Optional: true},
		{Key: "FOOTBALL_LOG_GROUP", Value: e.LogGroup},
	}
}

func (e chatEnv) vars() []envVar {
	vars := []envVar{
		{Key: "REDIS_HOST", Value: e.RedisHost}, {Key: "REDIS_PORT", Value: strconv.Itoa(e.RedisPort)},
		{Key: "REDIS_TLS", Value: strconv.FormatBool(e.RedisTLS)},
		{Key: "REDIS_AUTH_SECRET_ARN", Value: e.RedisAuthSecretARN, Optional: true},
		{Key: "API_BASE_URL", Value: e.APIBaseURL}, {Key: "AWS_REGION", Value: e.Region}, {Key: "CHAT_PORT", Value: strconv.Itoa(e.ChatPort)},
		{Key: "FOOTBALL_IMAGE", Value: e.Image, Optional: true},
		{Key: "FOOTBALL_LOG_GROUP", Value: e.LogGroup},
	}
	if e.PingSeconds > 0 {
		vars = append(vars, envVar{Key: "CHAT_PING_SECONDS", Value: strconv.Itoa(e.PingSeconds)})
	}
	return vars
}

func checkVars(vars []envVar) error {
	var errs []error
	for _, v := range vars {
		switch {
		case v.Value == "" && v.Optional:
		case v.Value == "" || (v.Value == "0" && strings.HasSuffix(v.Key, "_PORT")):
			errs = append(errs, fmt.Errorf("user data: %s is empty; the stack must wire a value", v.Key))
		case !safeValue.MatchString(v.Value):
			errs = append(errs, fmt.Errorf("user data: %s %q is not allowed; must be a host name, ARN, URL or number", v.Key, v.Value))
		}
	}
	return errors.Join(errs...)
}

// envFile renders an env file: one KEY=value line per variable, after checking every value.
func envFile(vars []envVar) (string, error) {
	if err := checkVars(vars); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(v.Key + "=" + v.Value + "\n")
	}
	return b.String(), nil
}

// renderAPIUserData returns the user data of an API server: the setup script with its settings inside. A
// change of settings is a new launch template version, which the Auto Scaling group rolls out.
func renderAPIUserData(e apiEnv) (string, error) {
	return fleetUserData(service{Name: "api", Port: "${APP_PORT}", HealthCheckPath: e.HealthCheckPath, LogGroup: e.LogGroup, Fleet: true}, e.vars())
}

// renderChatUserData returns the user data of a chat server of the fleet: the setup script with its settings
// inside, the CloudWatch agent publishing connections under the group's name, and the drain watcher. A
// released app gets drainSeconds (the target group's deregistration delay) to close its connections after
// SIGTERM.
func renderChatUserData(e chatEnv, drainSeconds int) (string, error) {
	return fleetUserData(service{Name: "chat", Port: "${CHAT_PORT}", HealthCheckPath: ChatHealthCheckPath, LogGroup: e.LogGroup,
		Fleet: true, Drain: true, StopSeconds: drainSeconds, Relay: relayScript}, e.vars())
}

// relayScript is the chat fleet's placeholder: the health path, and a WebSocket relay through the cache's
// pub/sub that shows the application contract across servers (relay.py).
//
//go:embed relay.py
var relayScript string

// encodeGzipUserData gzips user data, then base64-encodes it. EC2 takes at most 16 KB of user data before
// base64; cloud-init recognises gzip and unpacks it. The gzip header carries no time, so the same script
// is the same template version.
func encodeGzipUserData(s string) (string, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write([]byte(s)); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if b.Len() > maxUserData {
		return "", fmt.Errorf("user data: %d bytes gzipped; EC2 allows %d", b.Len(), maxUserData)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
}

// maxUserData is EC2's limit on user data, in bytes before base64.
const maxUserData = 16384

// chatEnvParameter is the chat server's env file, base64-encoded, as the value of the "env" parameter of
// the chat server's Systems Manager document.
func chatEnvParameter(e chatEnv) (string, error) {
	env, err := envFile(e.vars())
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString([]byte(env)), nil
}

// ChatHealthCheckPath is where the chat server answers 200 while it serves (the placeholder does too).
const ChatHealthCheckPath = "/health"

// base64Pattern is what the document's env parameter accepts: Systems Manager pastes a parameter's value
// into the script text, so it refuses anything but base64 before the script exists.
const base64Pattern = "^[A-Za-z0-9+/]*={0,2}$"

// chatDocument returns the content (JSON, schema 2.2) of the chat server's Command document: the setup
// script, taking the env file as the base64 parameter "env". logGroup is where its agent ships logs.
func chatDocument(logGroup string) (string, error) {
	script, err := setupScript(service{
		Name: "chat", Port: "${CHAT_PORT}", HealthCheckPath: ChatHealthCheckPath, EnvBase64: "{{ env }}", LogGroup: logGroup,
	})
	if err != nil {
		return "", err
	}
	doc := map[string]any{
		"schemaVersion": "2.2",
		"description":   "football chat server: write its settings and service unit, then (re)start it when they changed",
		"parameters": map[string]any{
			"env": map[string]any{
				"type":           "String",
				"description":    "/etc/football/chat.env, base64-encoded",
				"allowedPattern": base64Pattern,
			},
		},
		"mainSteps": []any{map[string]any{
			"action": "aws:runShellScript",
			"name":   "setup",
			"inputs": map[string]any{
				"timeoutSeconds": fmt.Sprint(chatSetupTimeout),
				"runCommand":     strings.Split(strings.TrimSuffix(script, "\n"), "\n"),
			},
		}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return string(b), err
}

// service is what a server's setup script is rendered from: the service it runs and where its logs go.
// A fleet of servers of one service (the API's Auto Scaling group) gets it as launch template user data
// (fleetUserData); a single long-lived server (the chat server) as a Systems Manager document (chatDocument).
type service struct {
	Name            string // api or chat
	Port            string // as systemd expands it from the env file
	HealthCheckPath string
	// StopSeconds is how long a released app has between SIGTERM and SIGKILL.
	StopSeconds int
	// Env is the env file, written as it is (checkVars keeps its values to one line without quotes or $,
	// and the here-document's delimiter is quoted, so the shell expands nothing). EnvBase64 instead names a
	// base64-encoded env file: the chat document's Systems Manager parameter reference.
	Env, EnvBase64 string
	// LogGroup is the CloudWatch Logs group the agent ships to; AgentConfig is set by setupScript.
	LogGroup, AgentConfig string
	// Fleet tells a server of an Auto Scaling group (the API's, the chat fleet's).
	Fleet bool
	// Relay, when set, is the placeholder the service runs instead of the plain one (the chat fleet's).
	Relay string
	// Drain installs football-drain.service: when Auto Scaling starts terminating the server (scale-in, an
	// instance refresh), it stops the service at once, so that the app's graceful stop (SIGTERM: tell
	// every client to reconnect) runs while the load balancer still drains the server, not after.
	Drain bool
}

// StopTimeout is systemd's limit for the whole stop, a little above StopSeconds.
func (s service) StopTimeout() int { return s.StopSeconds + 15 }

// The script's retry and wait bounds; bootBudget accounts for them.
func (service) AptLockSeconds() int      { return aptLockSeconds }
func (service) AptTries() int            { return aptTries }
func (service) AptRetrySeconds() int     { return aptRetrySeconds }
func (service) DownloadSeconds() int     { return downloadSeconds }
func (service) PullTries() int           { return pullTries }
func (service) PullRetrySeconds() int    { return pullRetrySeconds }
func (service) SettleSeconds() int       { return settleSeconds }
func (service) StartTimeoutSeconds() int { return startTimeoutSeconds }
func (service) JournalFile() string      { return journalFile }

// fleetUserData renders the setup script of a fleet server as launch template user data: the script with the
// env file inside. A change of settings is a new launch template version, which the group rolls out.
func fleetUserData(s service, vars []envVar) (string, error) {
	env, err := envFile(vars)
	if err != nil {
		return "", err
	}
	s.Env = env
	return setupScript(s)
}

func setupScript(s service) (string, error) {
	if s.StopSeconds <= 0 {
		s.StopSeconds = defaultStopSeconds
	}
	if s.LogGroup == "" {
		return "", fmt.Errorf("setup script of %s: no log group", s.Name)
	}
	cfg, err := agentConfig(s.Name, s.LogGroup, s.Fleet)
	if err != nil {
		return "", err
	}
	s.AgentConfig = cfg
	var b bytes.Buffer
	if err := setupTemplate.Execute(&b, s); err != nil {
		return "", fmt.Errorf("rendering the setup script: %w", err)
	}
	return b.String(), nil
}

// defaultStopSeconds is the grace a released app gets to stop: the API target group's deregistration delay.
const defaultStopSeconds = deregistrationDelay

// encodeUserData base64-encodes user data: a launch template's userData must be base64.
func encodeUserData(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// setupTemplate is the setup script of a server, in POSIX sh (shellcheck-clean; the boot tests run it in a
// sandbox, see internal/bootsim). It runs in three stages, in this order, so that a server whose release
// fails is still one whose logs arrive:
//
//  1. observability: the journal export and the CloudWatch agent. Their failures are logged, never fatal.
//  2. the runtime (a release only): Docker and ECR's credential helper from Ubuntu's archive, once.
//  3. the service: the release, pulled by digest before the service restarts, or the placeholder.
//
// Its exit status is documented in its header (exitStatus). It is idempotent: it restarts a unit only when
// a file that unit reads changed, so running it again with the same settings changes nothing and only
// asks systemd and Docker questions. apt-get waits for dpkg's lock and is retried with a bounded backoff,
// as are the agent's download and the image pull.
//
// Ubuntu's server image already has python3 (cloud-init runs on it), so the placeholder needs nothing
// installed and servers come up healthy even before their subnets' egress works. The env file is
// root-owned and 0640 because systemd (PID 1, root) reads it for the unit; the service itself never opens
// it. The placeholder runs as a throwaway DynamicUser and may bind a port below 1024 (the chat port may be
// 443).
var setupTemplate = template.Must(template.New("setup").Parse(`#!/bin/sh
# football {{.Name}} server setup. Settings: /etc/football/{{.Name}}.env (loaded by football-{{.Name}}.service).
# Stages, in order: 1. logs and metrics (the journal export and the CloudWatch agent; a failure there is
# logged and never stops the rest), 2. the runtime (Docker, for a release), 3. the service: the release
# named by FOOTBALL_IMAGE, or until there is one a placeholder answering 200 on {{.HealthCheckPath}}.
# Exit status: 0 the service was started; 1 the script could not write its files; 2 the runtime could
# not be installed; 3 the release could not be pulled; 4 the release did not start. After 2, 3 or 4 the
# server stays up and ships its logs, football-{{.Name}}.service (when there is one) keeps retrying, and
# the health check fails until the release runs.
set -u
# FOOTBALL_ROOT relocates every file the script touches (the tests run it in a sandbox).
root="${FOOTBALL_ROOT:-}"
agent=/opt/aws/amazon-cloudwatch-agent
say() { printf 'football-setup: %s\n' "$*" >&2; }
# put SRC DEST MODE: move SRC over DEST when their contents differ; put_changed tells whether it did.
put() {
  put_changed=0
  if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$1"; return 0; fi
  chown root:root "$1" && chmod "$3" "$1" && mv "$1" "$2" || return 1
  put_changed=1
}
# retry TRIES DELAY COMMAND...: run COMMAND up to TRIES times, waiting DELAY, then twice as long, between tries.
retry() {
  retry_left=$1 retry_delay=$2
  shift 2
  until "$@"; do
    retry_left=$((retry_left - 1))
    if [ "$retry_left" -le 0 ]; then say "giving up: $*"; return 1; fi
    say "failed, trying again in ${retry_delay}s: $*"
    sleep "$retry_delay"
    retry_delay=$((retry_delay * 2))
  done
}
# apt-get waits up to {{.AptLockSeconds}}s for dpkg's lock, which Ubuntu's apt-daily and unattended-upgrades
# timers often hold in the first minutes after boot; retry covers what it does not wait for.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout={{.AptLockSeconds}} -q "$@"; }
apt_install() { apt_get update && apt_get install -y --no-install-recommends "$@"; }
# enable_unit UNIT: enable a unit once.
enable_unit() { systemctl is-enabled --quiet "$1" || systemctl enable "$1"; }
# run_unit UNIT CHANGED: restart a unit whose files changed, start one that is not running, leave it
# otherwise; started tells whether it did either.
run_unit() {
  started=1
  if [ "$2" = 1 ]; then systemctl restart "$1"
  elif ! systemctl is-active --quiet "$1"; then systemctl start "$1"
  else started=0
  fi
}

mkdir -p "$root/etc/football" "$root/opt/football" "$root/etc/systemd/system" "$root/etc/logrotate.d" \
  "$root/var/log/football" "$root/var/lib/football" "$root$agent/etc" || exit 1
{{- if .EnvBase64}}
printf '%s' '{{.EnvBase64}}' | base64 -d >"$root/etc/football/.{{.Name}}.env.new" || exit 1
{{- else}}
cat >"$root/etc/football/.{{.Name}}.env.new" <<'FOOTBALL_EOF' || exit 1
{{.Env}}FOOTBALL_EOF
{{- end}}
put "$root/etc/football/.{{.Name}}.env.new" "$root/etc/football/{{.Name}}.env" 0640 || exit 1
env_changed=$put_changed

# 1. Logs and metrics. football-journal.service follows the journal of football-{{.Name}}, docker (the
# release's container) and cloud-init (the user data's output) into journal.log, which the CloudWatch agent
# ships to {{.LogGroup}}; the agent also publishes memory and disk use.
export_journal() {
  cat >"$root/etc/systemd/system/.football-journal.service.new" <<'FOOTBALL_EOF' || return 1
[Unit]
Description=football: export the journal of football-{{.Name}}, docker and cloud-init for the CloudWatch agent
After=systemd-journald.service

[Service]
# The cursor file makes a restart continue where the export stopped, without gaps or repeats.
ExecStart=/bin/sh -c 'exec /usr/bin/journalctl --follow --boot --lines=all --output=short-iso --cursor-file=/var/lib/football/journal.cursor --unit=football-{{.Name}}.service --unit=docker.service --unit=cloud-init.service --unit=cloud-final.service >>{{.JournalFile}}'
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
FOOTBALL_EOF
  put "$root/etc/systemd/system/.football-journal.service.new" "$root/etc/systemd/system/football-journal.service" 0644 || return 1
  journal_changed=$put_changed
  cat >"$root/etc/logrotate.d/.football.new" <<'FOOTBALL_EOF' || return 1
{{.JournalFile}} {
  daily
  maxsize 100M
  rotate 2
  missingok
  notifempty
  copytruncate
}
FOOTBALL_EOF
  put "$root/etc/logrotate.d/.football.new" "$root/etc/logrotate.d/football" 0644 || return 1
  if [ "$journal_changed" = 1 ]; then systemctl daemon-reload || return 1; fi
  enable_unit football-journal.service && run_unit football-journal.service "$journal_changed"
}
# install_agent: AWS's package from its bucket in this region, over HTTPS (the private subnets reach it
# through the S3 gateway endpoint, without NAT; it is not in Ubuntu's archive), installed with apt-get so
# that it waits for dpkg's lock too.
install_agent() {
  region=$(sed -n 's/^AWS_REGION=//p' "$root/etc/football/{{.Name}}.env")
  arch=$(dpkg --print-architecture) || return 1
  deb="$root/var/lib/football/amazon-cloudwatch-agent.deb"
  curl -fsS --retry 5 --retry-connrefused --connect-timeout 10 --retry-max-time {{.DownloadSeconds}} -o "$deb" \
    "https://amazoncloudwatch-agent-$region.s3.$region.amazonaws.com/ubuntu/$arch/latest/amazon-cloudwatch-agent.deb" &&
    retry {{.AptTries}} {{.AptRetrySeconds}} apt_get install -y "$deb"
  agent_installed=$?
  rm -f "$deb"
  return "$agent_installed"
}
run_agent() {
  cat >"$root$agent/etc/.football.json.new" <<'FOOTBALL_EOF' || return 1
{{.AgentConfig}}
FOOTBALL_EOF
  put "$root$agent/etc/.football.json.new" "$root$agent/etc/football.json" 0644 || return 1
  agent_changed=$put_changed
  if [ ! -x "$root$agent/bin/amazon-cloudwatch-agent-ctl" ]; then
    install_agent || return 1
    agent_changed=1
  fi
  if [ "$agent_changed" = 1 ] || ! systemctl is-active --quiet amazon-cloudwatch-agent; then
    "$root$agent/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$agent/etc/football.json"
  fi
}
export_journal || say "WARNING: the journal export could not be set up; the service's logs stay on this server (see above)"
run_agent || say "WARNING: the CloudWatch agent could not be set up; logs and memory/disk metrics are missing (see above)"
{{- if .Drain}}

# 2a. The drain watcher (a fleet's chat server): when Auto Scaling starts terminating this server (scale-in,
# an instance refresh), it stops football-{{.Name}} at once, so the app's graceful stop (SIGTERM: tell every
# client to reconnect, through the load balancer, to the servers that stay) runs while the load balancer
# still drains this server. A failure here is logged: the server still serves, and the deregistration
# delay still ends the connections.
drain_watcher() {
  cat >"$root/opt/football/.drain.sh.new" <<'FOOTBALL_EOF' || return 1
#!/bin/sh
# football drain watcher: Auto Scaling sets autoscaling/target-lifecycle-state in the instance metadata to
# Terminated when it starts taking this server out.
imds=http://169.254.169.254/latest
while :; do
  if token=$(curl -fsS -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' "$imds/api/token") &&
    state=$(curl -fsS -m 2 -H "X-aws-ec2-metadata-token: $token" "$imds/meta-data/autoscaling/target-lifecycle-state") &&
    [ "$state" = Terminated ]; then
    echo "football: Auto Scaling is terminating this server; stopping football-{{.Name}} so its clients reconnect elsewhere"
    systemctl stop football-{{.Name}}.service
    exit 0
  fi
  sleep 5
done
FOOTBALL_EOF
  put "$root/opt/football/.drain.sh.new" "$root/opt/football/drain.sh" 0755 || return 1
  drain_changed=$put_changed
  cat >"$root/etc/systemd/system/.football-drain.service.new" <<'FOOTBALL_EOF' || return 1
[Unit]
Description=football: stop football-{{.Name}} gracefully when Auto Scaling starts terminating this server
After=football-{{.Name}}.service

[Service]
ExecStart=/bin/sh /opt/football/drain.sh
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
FOOTBALL_EOF
  put "$root/etc/systemd/system/.football-drain.service.new" "$root/etc/systemd/system/football-drain.service" 0644 || return 1
  if [ "$put_changed" = 1 ]; then systemctl daemon-reload || return 1; fi
  drain_changed=$((drain_changed | put_changed))
  enable_unit football-drain.service && run_unit football-drain.service "$drain_changed"
}
drain_watcher || say "WARNING: the drain watcher could not be set up; a terminating server's clients wait for the deregistration delay (see above)"
{{- end}}

# 3. The service.
cat >"$root/opt/football/.placeholder.py.new" <<'FOOTBALL_EOF' || exit 1
#!/usr/bin/env python3
"""football placeholder: 200 on the health path, 503 elsewhere, until the app is released."""
import argparse
import http.server

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--health", default="/health")
parser.add_argument("--name", default="football")
args = parser.parse_args()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        healthy = self.path.split("?", 1)[0] == args.health
        if healthy:
            body = b"ok\n"
        else:
            body = ("football %s placeholder: the app is not released yet\n" % args.name).encode()
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("", args.port), Handler).serve_forever()
FOOTBALL_EOF
put "$root/opt/football/.placeholder.py.new" "$root/opt/football/placeholder.py" 0755 || exit 1
placeholder_changed=$put_changed
{{- if .Relay}}
cat >"$root/opt/football/.relay.py.new" <<'FOOTBALL_EOF' || exit 1
{{.Relay}}FOOTBALL_EOF
put "$root/opt/football/.relay.py.new" "$root/opt/football/relay.py" 0755 || exit 1
placeholder_changed=$((placeholder_changed | put_changed))
{{- end}}
image=$(sed -n 's/^FOOTBALL_IMAGE=//p' "$root/etc/football/{{.Name}}.env")
unit="$root/etc/systemd/system/football-{{.Name}}.service"
if [ -z "$image" ]; then
  cat >"$unit.new" <<'FOOTBALL_EOF' || exit 1
[Unit]
Description=football {{.Name}} (placeholder until the app is released)
Wants=network-online.target
After=network-online.target

[Service]
EnvironmentFile=/etc/football/{{.Name}}.env
ExecStart=/usr/bin/python3 /opt/football/{{if .Relay}}relay.py{{else}}placeholder.py --name {{.Name}}{{end}} --port {{.Port}} --health {{.HealthCheckPath}}
DynamicUser=yes
AmbientCapabilities=CAP_NET_BIND_SERVICE
Restart=always
RestartSec=2

[Install]
WantedBy=multi-user.target
FOOTBALL_EOF
  put "$unit.new" "$unit" 0644 || exit 1
  if [ "$put_changed" = 1 ]; then systemctl daemon-reload || exit 4; fi
  if [ "$put_changed" = 1 ] || [ "$env_changed" = 1 ] || [ "$placeholder_changed" = 1 ]; then changed=1; else changed=0; fi
  enable_unit football-{{.Name}}.service && run_unit football-{{.Name}}.service "$changed" || exit 4
  say "football-{{.Name}} runs the placeholder"
  exit 0
fi

# 2. The runtime, from Ubuntu's archive, once.
if ! command -v docker >/dev/null 2>&1 || ! command -v docker-credential-ecr-login >/dev/null 2>&1; then
  if ! retry {{.AptTries}} {{.AptRetrySeconds}} apt_install docker.io amazon-ecr-credential-helper; then
    say "FAILED: Docker could not be installed, so the release $image cannot run; this server stays up, ships its logs and fails its health check"
    exit 2
  fi
fi

# 3. The release. The unit pulls the image itself when it is missing, so it keeps trying after a failed
# pull; the script pulls first (by digest, signed in to the registry by the instance role through the
# credential helper) so that a restart takes seconds.
mkdir -p "$root/etc/football/docker" || exit 1
printf '{"credHelpers": {"%s": "ecr-login"}}\n' "${image%%/*}" >"$root/etc/football/docker/.config.json.new" || exit 1
put "$root/etc/football/docker/.config.json.new" "$root/etc/football/docker/config.json" 0600 || exit 1
changed=$((env_changed | put_changed))
cat >"$unit.new" <<'FOOTBALL_EOF' || exit 1
[Unit]
Description=football {{.Name}} (the release named by FOOTBALL_IMAGE in /etc/football/{{.Name}}.env)
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service

[Service]
EnvironmentFile=/etc/football/{{.Name}}.env
Environment=DOCKER_CONFIG=/etc/football/docker
ExecStartPre=-/usr/bin/docker rm --force football-{{.Name}}
ExecStartPre=/bin/sh -c '/usr/bin/docker image inspect ${FOOTBALL_IMAGE} >/dev/null 2>&1 || exec /usr/bin/docker pull ${FOOTBALL_IMAGE}'
# Host networking: the app listens on the host's port, and reaches the instance metadata service (its
# role's credentials, for its secrets) without the extra hop a bridge network adds, so IMDSv2 keeps a hop
# limit of 1. Logs go to journald.
ExecStart=/usr/bin/docker run --rm --name football-{{.Name}} --network host --env-file /etc/football/{{.Name}}.env --log-driver journald --log-opt tag=football-{{.Name}} ${FOOTBALL_IMAGE}
# SIGTERM first; the app has the load balancer's deregistration delay to finish its requests. -t: Docker 28
# deprecates --time for --timeout, which Docker before 28 does not know; -t names the timeout in both.
ExecStop=/usr/bin/docker stop -t {{.StopSeconds}} football-{{.Name}}
TimeoutStartSec={{.StartTimeoutSeconds}}
TimeoutStopSec={{.StopTimeout}}
Restart=on-failure
RestartSec=10

[Install]
WantedBy=multi-user.target
FOOTBALL_EOF
put "$unit.new" "$unit" 0644 || exit 1
changed=$((changed | put_changed))
if [ "$put_changed" = 1 ]; then systemctl daemon-reload || exit 4; fi
enable_unit football-{{.Name}}.service || exit 4
if ! docker image inspect "$image" >/dev/null 2>&1 &&
  ! retry {{.PullTries}} {{.PullRetrySeconds}} env DOCKER_CONFIG="$root/etc/football/docker" docker pull "$image"; then
  # A release that runs keeps running: a long-lived server does not trade a working release for one it
  # cannot pull. A new server starts the unit, which keeps trying to pull.
  if ! systemctl is-active --quiet football-{{.Name}}.service; then systemctl start --no-block football-{{.Name}}.service; fi
  say "FAILED: the release $image could not be pulled; this server stays up, ships its logs and fails its health check until it runs"
  exit 3
fi
if ! run_unit football-{{.Name}}.service "$changed"; then
  say "FAILED: football-{{.Name}} did not start the release $image (journalctl -u football-{{.Name}}); this server stays up, ships its logs and fails its health check"
  exit 4
fi
# A container that exits at once leaves the unit restarting, not active.
if [ "$started" = 1 ] && sleep {{.SettleSeconds}} && ! systemctl is-active --quiet football-{{.Name}}.service; then
  say "FAILED: the release $image stopped right after it started (journalctl -u football-{{.Name}}); this server stays up, ships its logs and fails its health check"
  exit 4
fi
say "football-{{.Name}} runs $image"
`))
