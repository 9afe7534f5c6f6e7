package compute

import (
	"bytes"
	"encoding/base64"
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
	}
}

func (e chatEnv) vars() []envVar {
	return []envVar{
		{Key: "REDIS_HOST", Value: e.RedisHost}, {Key: "REDIS_PORT", Value: strconv.Itoa(e.RedisPort)},
		{Key: "REDIS_TLS", Value: strconv.FormatBool(e.RedisTLS)},
		{Key: "REDIS_AUTH_SECRET_ARN", Value: e.RedisAuthSecretARN, Optional: true},
		{Key: "API_BASE_URL", Value: e.APIBaseURL}, {Key: "AWS_REGION", Value: e.Region}, {Key: "CHAT_PORT", Value: strconv.Itoa(e.ChatPort)},
	}
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

// renderAPIUserData returns the cloud-config of an API server.
func renderAPIUserData(e apiEnv) (string, error) {
	return renderUserData(service{
		Name: "api", Port: "${APP_PORT}", HealthCheckPath: e.HealthCheckPath, Vars: e.vars(),
	})
}

// renderChatUserData returns the cloud-config of the chat server.
func renderChatUserData(e chatEnv) (string, error) {
	return renderUserData(service{
		Name: "chat", Port: "${CHAT_PORT}", HealthCheckPath: "/health", Vars: e.vars(),
	})
}

type service struct {
	Name            string // api or chat
	Port            string // as systemd expands it from the env file
	HealthCheckPath string
	Vars            []envVar
}

func renderUserData(s service) (string, error) {
	if err := checkVars(s.Vars); err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := userDataTemplate.Execute(&b, s); err != nil {
		return "", fmt.Errorf("rendering user data: %w", err)
	}
	return b.String(), nil
}

// encodeUserData base64-encodes user data: a launch template's userData must be base64.
func encodeUserData(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// userDataTemplate is cloud-config. It installs nothing: Ubuntu's server image already has python3
// (cloud-init runs on it), so servers come up healthy even before their subnets' egress works. The env file is root-owned and 0640 because systemd (PID 1, root)
// reads it for the unit; the service itself never needs to open it. The placeholder runs as a
// throwaway DynamicUser and may bind a port below 1024 (the chat port may be 443).
//
// The team's app replaces the placeholder without touching this file: install the app, then add a
// drop-in /etc/systemd/system/football-<name>.service.d/app.conf with
//
//	[Service]
//	ExecStart=
//	ExecStart=/opt/football/app/<binary>
//
// and run `systemctl daemon-reload && systemctl restart football-<name>`. The unit keeps loading
// /etc/football/<name>.env, so the app reads its settings from its environment.
var userDataTemplate = template.Must(template.New("user-data").Parse(`#cloud-config
# football {{.Name}} server. Settings: /etc/football/{{.Name}}.env (loaded by football-{{.Name}}.service).
# Until the app is deployed, football-{{.Name}}.service runs a placeholder answering 200 on {{.HealthCheckPath}}.
# Deploy the app with a drop-in /etc/systemd/system/football-{{.Name}}.service.d/app.conf that resets
# ExecStart= and sets the app's command; the unit keeps loading the env file.
write_files:
  - path: /etc/football/{{.Name}}.env
    owner: root:root
    permissions: '0640'
    content: |
{{- range .Vars}}
      {{.Key}}={{.Value}}
{{- end}}
  - path: /opt/football/placeholder.py
    owner: root:root
    permissions: '0755'
    content: |
      #!/usr/bin/env python3
      """football placeholder: 200 on the health path, 503 elsewhere, until the app replaces it."""
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
                  body = ("football %s placeholder: the app is not deployed yet\n" % args.name).encode()
              self.send_response(200 if healthy else 503)
              self.send_header("Content-Type", "text/plain; charset=utf-8")
              self.send_header("Content-Length", str(len(body)))
              self.end_headers()
              self.wfile.write(body)


      http.server.ThreadingHTTPServer(("", args.port), Handler).serve_forever()
  - path: /etc/systemd/system/football-{{.Name}}.service
    owner: root:root
    permissions: '0644'
    content: |
      [Unit]
      Description=football {{.Name}} (placeholder until the app's drop-in replaces ExecStart)
      Wants=network-online.target
      After=network-online.target

      [Service]
      EnvironmentFile=/etc/football/{{.Name}}.env
      ExecStart=/usr/bin/python3 /opt/football/placeholder.py --name {{.Name}} --port {{.Port}} --health {{.HealthCheckPath}}
      DynamicUser=yes
      AmbientCapabilities=CAP_NET_BIND_SERVICE
      Restart=always
      RestartSec=2

      [Install]
      WantedBy=multi-user.target
runcmd:
  - [systemctl, daemon-reload]
  - [systemctl, enable, --now, football-{{.Name}}.service]
`))
