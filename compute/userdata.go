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
	env, err := envFile(e.vars())
	if err != nil {
		return "", err
	}
	return setupScript(service{Name: "api", Port: "${APP_PORT}", HealthCheckPath: e.HealthCheckPath, Env: env, LogGroup: e.LogGroup, Fleet: true})
}

// renderChatUserData returns the user data of a chat server of the fleet: the setup script with its settings
// inside, the CloudWatch agent publishing connections under the group's name, and the drain watcher. A
// released app gets drainSeconds (the target group's deregistration delay) to close its connections after
// SIGTERM.
func renderChatUserData(e chatEnv, drainSeconds int) (string, error) {
	env, err := envFile(e.vars())
	if err != nil {
		return "", err
	}
	return setupScript(service{Name: "chat", Port: "${CHAT_PORT}", HealthCheckPath: ChatHealthCheckPath, Env: env, LogGroup: e.LogGroup,
		Fleet: true, Drain: true, StopSeconds: drainSeconds, Relay: relayScript})
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
				"timeoutSeconds": "600",
				"runCommand":     strings.Split(strings.TrimSuffix(script, "\n"), "\n"),
			},
		}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	return string(b), err
}

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

// setupTemplate is the setup script of a server, in POSIX sh. It installs nothing: Ubuntu's server image
// already has python3 (cloud-init runs on it), so servers come up healthy even before their subnets' egress
// works. It is idempotent and restarts the service only when a file it writes changed, so running it again
// with the same settings touches nothing.
//
// The env file is root-owned and 0640 because systemd (PID 1, root) reads it for the unit; the service
// itself never needs to open it. The placeholder runs as a throwaway DynamicUser and may bind a port below
// 1024 (the chat port may be 443).
var setupTemplate = template.Must(template.New("setup").Parse(`#!/bin/sh
# football {{.Name}} server setup. Settings: /etc/football/{{.Name}}.env (loaded by football-{{.Name}}.service).
# Until the app is released, football-{{.Name}}.service runs a placeholder answering 200 on {{.HealthCheckPath}}.
set -eu
# FOOTBALL_ROOT relocates every file the script writes (tests run it in a scratch directory).
root="${FOOTBALL_ROOT:-}"
changed=0
# put SRC DEST MODE: move SRC over DEST when their contents differ, and remember that something changed.
put() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then rm -f "$1"; return 0; fi
  chown root:root "$1"
  chmod "$3" "$1"
  mv "$1" "$2"
  changed=1
}
mkdir -p "$root/etc/football" "$root/opt/football" "$root/etc/systemd/system"
{{- if .EnvBase64}}
printf '%s' '{{.EnvBase64}}' | base64 -d >"$root/etc/football/.{{.Name}}.env.new"
{{- else}}
cat >"$root/etc/football/.{{.Name}}.env.new" <<'FOOTBALL_EOF'
{{.Env}}FOOTBALL_EOF
{{- end}}
put "$root/etc/football/.{{.Name}}.env.new" "$root/etc/football/{{.Name}}.env" 0640
cat >"$root/opt/football/.placeholder.py.new" <<'FOOTBALL_EOF'
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
put "$root/opt/football/.placeholder.py.new" "$root/opt/football/placeholder.py" 0755
{{- if .Relay}}
cat >"$root/opt/football/.relay.py.new" <<'FOOTBALL_EOF'
{{.Relay}}FOOTBALL_EOF
put "$root/opt/football/.relay.py.new" "$root/opt/football/relay.py" 0755
{{- end}}
image=$(sed -n 's/^FOOTBALL_IMAGE=//p' "$root/etc/football/{{.Name}}.env")
if [ -n "$image" ]; then
  # The release: Docker and ECR's credential helper from Ubuntu's archive (once), which signs in to the
  # registry with the instance role. The image is pulled by digest before the service restarts, so the
  # restart itself takes seconds.
  if ! command -v docker >/dev/null 2>&1 || ! command -v docker-credential-ecr-login >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends docker.io amazon-ecr-credential-helper
  fi
  mkdir -p "$root/etc/football/docker"
  printf '{"credHelpers": {"%s": "ecr-login"}}\n' "${image%%/*}" >"$root/etc/football/docker/.config.json.new"
  put "$root/etc/football/docker/.config.json.new" "$root/etc/football/docker/config.json" 0600
  DOCKER_CONFIG="$root/etc/football/docker" docker pull "$image"
  cat >"$root/etc/systemd/system/.football-{{.Name}}.service.new" <<'FOOTBALL_EOF'
[Unit]
Description=football {{.Name}} (the release named by FOOTBALL_IMAGE in /etc/football/{{.Name}}.env)
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service

[Service]
EnvironmentFile=/etc/football/{{.Name}}.env
Environment=DOCKER_CONFIG=/etc/football/docker
ExecStartPre=-/usr/bin/docker rm --force football-{{.Name}}
ExecStartPre=/usr/bin/docker pull ${FOOTBALL_IMAGE}
# Host networking: the app listens on the host's port, and reaches the instance metadata service (its
# role's credentials, for its secrets) without the extra hop a bridge network adds, so IMDSv2 keeps a hop
# limit of 1. Logs go to journald.
ExecStart=/usr/bin/docker run --rm --name football-{{.Name}} --network host --env-file /etc/football/{{.Name}}.env --log-driver journald --log-opt tag=football-{{.Name}} ${FOOTBALL_IMAGE}
# SIGTERM first; the app has the load balancer's deregistration delay to finish its requests.
ExecStop=/usr/bin/docker stop --time {{.StopSeconds}} football-{{.Name}}
TimeoutStartSec=600
TimeoutStopSec={{.StopTimeout}}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
FOOTBALL_EOF
else
  cat >"$root/etc/systemd/system/.football-{{.Name}}.service.new" <<'FOOTBALL_EOF'
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
fi
put "$root/etc/systemd/system/.football-{{.Name}}.service.new" "$root/etc/systemd/system/football-{{.Name}}.service" 0644
systemctl daemon-reload
systemctl enable football-{{.Name}}.service
if [ "$changed" = 1 ]; then
  systemctl restart football-{{.Name}}.service
else
  systemctl start football-{{.Name}}.service
fi
{{- if .Drain}}
cat >"$root/opt/football/.drain.sh.new" <<'FOOTBALL_EOF'
#!/bin/sh
# football drain watcher: Auto Scaling sets autoscaling/target-lifecycle-state in the instance metadata to
# Terminated when it starts taking this server out (scale-in, instance refresh). Stop football-{{.Name}} then:
# its graceful stop (SIGTERM) tells every client to reconnect, through the load balancer, to the servers
# that stay, while the load balancer drains this one.
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
put "$root/opt/football/.drain.sh.new" "$root/opt/football/drain.sh" 0755
cat >"$root/etc/systemd/system/.football-drain.service.new" <<'FOOTBALL_EOF'
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
put "$root/etc/systemd/system/.football-drain.service.new" "$root/etc/systemd/system/football-drain.service" 0644
systemctl daemon-reload
systemctl enable --now football-drain.service
{{- end}}
# Logs and metrics, set up after the service so that a failure here never keeps it from serving: its own
# script, run by a shell of its own (so that its set -e holds), reports and returns.
cat >"$root/opt/football/.cloudwatch-agent.sh.new" <<'FOOTBALL_EOF'
#!/bin/sh
# The CloudWatch agent ships journal.log (the journal of football-{{.Name}}, docker, i.e. the release's
# container, and cloud-init) and cloud-init's output to {{.LogGroup}}, and publishes memory and disk use.
set -eu
root="${FOOTBALL_ROOT:-}"
agent=/opt/aws/amazon-cloudwatch-agent
restart=0
mkdir -p "$root/var/log/football" "$root/var/lib/football" "$root/etc/logrotate.d" "$root$agent/etc"
cat >"$root/etc/systemd/system/.football-journal.service.new" <<'EOF_UNIT'
[Unit]
Description=football: export the journal of football-{{.Name}}, docker and cloud-init for the CloudWatch agent
After=systemd-journald.service

[Service]
# The cursor file makes a restart continue where the export stopped, without gaps or repeats.
ExecStart=/bin/sh -c 'exec /usr/bin/journalctl --follow --boot --lines=all --output=short-iso --cursor-file=/var/lib/football/journal.cursor --unit=football-{{.Name}}.service --unit=docker.service --unit=cloud-init.service --unit=cloud-final.service >>/var/log/football/journal.log'
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
EOF_UNIT
cat >"$root/etc/logrotate.d/.football.new" <<'EOF_ROTATE'
/var/log/football/journal.log {
  daily
  maxsize 100M
  rotate 2
  missingok
  notifempty
  copytruncate
}
EOF_ROTATE
cat >"$root$agent/etc/.football.json.new" <<'EOF_CONFIG'
{{.AgentConfig}}
EOF_CONFIG
for f in etc/systemd/system/football-journal.service etc/logrotate.d/football "${agent#/}/etc/football.json"; do
  dir=$(dirname "$root/$f")
  if [ -f "$root/$f" ] && cmp -s "$dir/.$(basename "$f").new" "$root/$f"; then
    rm -f "$dir/.$(basename "$f").new"
  else
    mv "$dir/.$(basename "$f").new" "$root/$f"
    restart=1
  fi
done
if [ -n "$root" ]; then exit 0; fi
systemctl daemon-reload
systemctl enable --now football-journal.service
if [ ! -x "$agent/bin/amazon-cloudwatch-agent-ctl" ]; then
  # AWS's package from its bucket in this region, over HTTPS: the private subnets reach it through the
  # S3 gateway endpoint, without NAT. It is not in Ubuntu's archive.
  region=$(sed -n 's/^AWS_REGION=//p' /etc/football/{{.Name}}.env)
  curl -fsS --retry 5 -o /tmp/amazon-cloudwatch-agent.deb \
    "https://amazoncloudwatch-agent-$region.s3.$region.amazonaws.com/ubuntu/$(dpkg --print-architecture)/latest/amazon-cloudwatch-agent.deb"
  dpkg -i -E /tmp/amazon-cloudwatch-agent.deb
  rm -f /tmp/amazon-cloudwatch-agent.deb
  restart=1
fi
if [ "$restart" = 1 ] || ! systemctl is-active --quiet amazon-cloudwatch-agent; then
  "$agent/bin/amazon-cloudwatch-agent-ctl" -a fetch-config -m ec2 -s -c "file:$agent/etc/football.json"
fi
FOOTBALL_EOF
put "$root/opt/football/.cloudwatch-agent.sh.new" "$root/opt/football/cloudwatch-agent.sh" 0755
if ! sh "$root/opt/football/cloudwatch-agent.sh"; then
  echo "football: the CloudWatch agent could not be set up; logs and memory/disk metrics are missing (see above)" >&2
fi
`))
