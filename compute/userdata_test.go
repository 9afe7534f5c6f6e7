package compute

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/football/football-infra/internal/bootsim"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func sampleAPIEnv() apiEnv {
	return apiEnv{
		DBHost: "football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com", DBPort: 3306, DBName: "football",
		DBSecretARN: "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-abcdef",
		RedisHost:   "master.football-redis.abc123.apn2.cache.amazonaws.com", RedisPort: 6379, RedisTLS: true,
		RedisAuthSecretARN: testAuthSecretARN,
		Region:             "ap-northeast-2", AppPort: 8080, HealthCheckPath: "/health", LogGroup: testLogGroup,
	}
}

// testLogGroup is where the sample servers ship their logs.
const testLogGroup = "/football/test/api"

// testAuthSecretARN has the shape of a secret made with a namePrefix: prefix, provider suffix, and the
// six characters Secrets Manager appends.
const testAuthSecretARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:football-prod-data-redis-auth-20260101000000000000000001-AbCdEf"

func sampleChatEnv() chatEnv {
	return chatEnv{
		RedisHost: "master.football-redis.abc123.apn2.cache.amazonaws.com", RedisPort: 6379, RedisTLS: true,
		RedisAuthSecretARN: testAuthSecretARN,
		APIBaseURL:         "https://football-api-1234567890.ap-northeast-2.elb.amazonaws.com", Region: "ap-northeast-2", ChatPort: 8080,
		LogGroup: "/football/test/chat",
	}
}

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./compute/ -run %s -update to create it", t.Name())
	assert.Equal(t, string(want), got, "user data changed; review, then rerun with -update")
}

// decodeEnv finds the env file inside a rendered setup script: a here-document, or base64.
func decodeEnv(t *testing.T, script string) string {
	t.Helper()
	if m := regexp.MustCompile(`(?s)\.env\.new" <<'FOOTBALL_EOF'[^\n]*\n(.*?)FOOTBALL_EOF\n`).FindStringSubmatch(script); m != nil {
		return m[1]
	}
	m := regexp.MustCompile(`printf '%s' '([A-Za-z0-9+/=]*)' \| base64 -d`).FindStringSubmatch(script)
	require.NotNil(t, m, "the script must write an env file")
	env, err := base64.StdEncoding.DecodeString(m[1])
	require.NoError(t, err)
	return string(env)
}

func TestRenderAPIUserData(t *testing.T) {
	t.Parallel()
	got, err := renderAPIUserData(sampleAPIEnv())
	require.NoError(t, err)
	golden(t, "api.user-data.golden", got)
	assert.True(t, strings.HasPrefix(got, "#!/bin/sh\n"), "cloud-init runs user data starting with #! as a script")
	assert.Equal(t, "DB_HOST=football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com\n"+
		"DB_PORT=3306\nDB_NAME=football\n"+
		"DB_SECRET_ARN=arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-abcdef\n"+
		"REDIS_HOST=master.football-redis.abc123.apn2.cache.amazonaws.com\n"+
		"REDIS_PORT=6379\nREDIS_TLS=true\nREDIS_AUTH_SECRET_ARN="+testAuthSecretARN+"\n"+
		"AWS_REGION=ap-northeast-2\nAPP_PORT=8080\nFOOTBALL_IMAGE=\nFOOTBALL_LOG_GROUP=/football/test/api\n", decodeEnv(t, got))
	for _, line := range []string{
		"EnvironmentFile=/etc/football/api.env",
		"--port ${APP_PORT} --health /health",
		`put "$root/etc/football/.api.env.new" "$root/etc/football/api.env" 0640 || exit 1` + "\n",
		"\nDB_HOST=football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com\n", // readable in the decoded user data
		"apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -q \"$@\"; }\n",
		"ExecStop=/usr/bin/docker stop -t 30 football-api\n",
	} {
		assert.Contains(t, got, line)
	}
}

func TestChatDocument(t *testing.T) {
	t.Parallel()
	content, err := chatDocument("/football/test/chat")
	require.NoError(t, err)
	golden(t, "chat.document.golden", content)
	var doc struct {
		SchemaVersion string `json:"schemaVersion"`
		Parameters    map[string]struct {
			Type, AllowedPattern string
		}
		MainSteps []struct {
			Action string
			Inputs struct {
				RunCommand []string
			}
		}
	}
	require.NoError(t, json.Unmarshal([]byte(content), &doc))
	assert.Equal(t, "2.2", doc.SchemaVersion)
	require.Contains(t, doc.Parameters, "env")
	assert.Equal(t, "String", doc.Parameters["env"].Type)
	require.Len(t, doc.MainSteps, 1)
	assert.Equal(t, "aws:runShellScript", doc.MainSteps[0].Action)
	script := strings.Join(doc.MainSteps[0].Inputs.RunCommand, "\n")
	assert.Contains(t, script, `printf '%s' '{{ env }}' | base64 -d >"$root/etc/football/.chat.env.new"`)
	assert.Contains(t, script, "--port ${CHAT_PORT} --health /health")

	// Systems Manager checks the value against allowedPattern before pasting it into the script text:
	// the pattern must admit the base64 of every env file and nothing that could end the quoted string.
	pattern := regexp.MustCompile(doc.Parameters["env"].AllowedPattern)
	env, err := chatEnvParameter(sampleChatEnv())
	require.NoError(t, err)
	assert.True(t, pattern.MatchString(env))
	for _, bad := range []string{"abc'; reboot; echo '", "a b", "$(id)", "YQ==\nZ"} {
		assert.False(t, pattern.MatchString(bad), "%q", bad)
	}
	decoded := decodeEnv(t, strings.Replace(script, "{{ env }}", env, 1))
	assert.Equal(t, "REDIS_HOST=master.football-redis.abc123.apn2.cache.amazonaws.com\nREDIS_PORT=6379\nREDIS_TLS=true\n"+
		"REDIS_AUTH_SECRET_ARN="+testAuthSecretARN+"\nAPI_BASE_URL=https://football-api-1234567890.ap-northeast-2.elb.amazonaws.com\n"+
		"AWS_REGION=ap-northeast-2\nCHAT_PORT=8080\nFOOTBALL_IMAGE=\nFOOTBALL_LOG_GROUP=/football/test/chat\n", decoded)
	assert.NotContains(t, decoded, "DB_", "chat needs no database settings")
}

func TestRenderUserDataRefusesUnsafeValues(t *testing.T) {
	t.Parallel()
	e := sampleAPIEnv()
	e.DBHost = "db.example.com\nEVIL=1"
	e.RedisHost = ""
	e.DBPort = 0
	_, err := renderAPIUserData(e)
	require.Error(t, err)
	for _, want := range []string{
		`user data: DB_HOST "db.example.com\nEVIL=1" is not allowed`,
		"user data: REDIS_HOST is empty", "user data: DB_PORT is empty",
	} {
		assert.ErrorContains(t, err, want)
	}
	c := sampleChatEnv()
	c.APIBaseURL = "http://x/$(reboot)"
	_, err = chatEnvParameter(c)
	assert.ErrorContains(t, err, "API_BASE_URL")
}

// TestUserDataWithoutRedisAuth: without Redis AUTH the variable is still written, empty, while an empty
// required value is still refused.
func TestUserDataWithoutRedisAuth(t *testing.T) {
	t.Parallel()
	e := sampleAPIEnv()
	e.RedisAuthSecretARN = ""
	got, err := renderAPIUserData(e)
	require.NoError(t, err)
	assert.Contains(t, decodeEnv(t, got), "REDIS_TLS=true\nREDIS_AUTH_SECRET_ARN=\nAWS_REGION=")
	c := sampleChatEnv()
	c.RedisAuthSecretARN = ""
	env, err := chatEnvParameter(c)
	require.NoError(t, err)
	raw, err := base64.StdEncoding.DecodeString(env)
	require.NoError(t, err)
	assert.Contains(t, string(raw), "REDIS_AUTH_SECRET_ARN=\n")

	e.DBSecretARN = ""
	_, err = renderAPIUserData(e)
	assert.ErrorContains(t, err, "user data: DB_SECRET_ARN is empty")
	c.RedisAuthSecretARN = "arn:aws:secretsmanager:x secret"
	_, err = chatEnvParameter(c)
	assert.ErrorContains(t, err, `user data: REDIS_AUTH_SECRET_ARN "arn:aws:secretsmanager:x secret" is not allowed`)
}

// TestSetupScriptRuns runs the rendered script in a sandbox (internal/bootsim): the first run writes every
// file and starts the service, a second run with the same settings changes nothing and restarts nothing,
// and new settings restart it again.
func TestSetupScriptRuns(t *testing.T) {
	t.Parallel()
	sb, err := bootsim.New(t.TempDir())
	require.NoError(t, err)
	run := func(e apiEnv) bootsim.Result {
		t.Helper()
		script, err := renderAPIUserData(e)
		require.NoError(t, err)
		res, err := sb.Run("sh", script, bootsim.Lock)
		require.NoError(t, err)
		require.Equal(t, 0, res.Exit, res.Output)
		return res
	}
	first := run(sampleAPIEnv())
	assert.True(t, first.Called("systemctl restart football-api.service"), first.Calls)
	assert.True(t, sb.Active("football-api.service") && sb.Enabled("football-api.service"))
	env, err := sb.Read("/etc/football/api.env")
	require.NoError(t, err)
	assert.Contains(t, env, "DB_HOST=football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com\n")
	info, err := os.Stat(filepath.Join(sb.Root, "etc/football/api.env"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm())
	unit, err := sb.Read("/etc/systemd/system/football-api.service")
	require.NoError(t, err)
	assert.Contains(t, unit, "EnvironmentFile=/etc/football/api.env\n", "the unit names the real path")
	assert.Contains(t, unit, "ExecStart=/usr/bin/python3 /opt/football/placeholder.py --name api --port ${APP_PORT} --health /health\n")
	assert.False(t, first.Called("apt-get update"), "the placeholder needs nothing from the archive")

	again := run(sampleAPIEnv())
	assert.Zero(t, again.Count("systemctl restart")+again.Count("systemctl start"), "the same settings start nothing: %v", again.Calls)
	entries, err := os.ReadDir(filepath.Join(sb.Root, "etc/football"))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no leftover temporary files")

	changed := sampleAPIEnv()
	changed.DBHost = "other.cabcdefghijk.ap-northeast-2.rds.amazonaws.com"
	assert.True(t, run(changed).Called("systemctl restart football-api.service"))
}

// TestSetupScriptRunsARelease runs the setup script with a release in a sandbox: the runtime is installed
// once, the image is pulled by digest before the restart, and the unit runs the container on the host's
// network with the env file and journald, pulling the image itself only when it is missing.
func TestSetupScriptRunsARelease(t *testing.T) {
	t.Parallel()
	sb, err := bootsim.New(t.TempDir())
	require.NoError(t, err)
	e := sampleAPIEnv()
	e.Image = testAPIImage
	script, err := renderAPIUserData(e)
	require.NoError(t, err)
	first, err := sb.Run("sh", script, bootsim.Lock)
	require.NoError(t, err)
	require.Equal(t, 0, first.Exit, first.Output)
	assert.True(t, first.Called("apt-get -o DPkg::Lock::Timeout=120 -q install -y --no-install-recommends docker.io amazon-ecr-credential-helper"), first.Calls)
	pull := first.Index("docker pull " + testAPIImage)
	require.GreaterOrEqual(t, pull, 0, first.Calls)
	assert.Less(t, pull, first.Index("systemctl restart football-api.service"), "pull before the restart")
	unit, err := sb.Read("/etc/systemd/system/football-api.service")
	require.NoError(t, err)
	for _, want := range []string{
		"EnvironmentFile=/etc/football/api.env\n",
		"ExecStart=/usr/bin/docker run --rm --name football-api --network host --env-file /etc/football/api.env --log-driver journald",
		" ${FOOTBALL_IMAGE}\n", "ExecStop=/usr/bin/docker stop -t 30 football-api\n", "Restart=on-failure\n",
		"Environment=DOCKER_CONFIG=/etc/football/docker\n",
		"ExecStartPre=/bin/sh -c '/usr/bin/docker image inspect ${FOOTBALL_IMAGE} >/dev/null 2>&1 || exec /usr/bin/docker pull ${FOOTBALL_IMAGE}'\n",
	} {
		assert.Contains(t, unit, want)
	}
	assert.NotContains(t, unit, "placeholder.py")
	assert.NotRegexp(t, `(?m)^ExecStop=.*--time`, unit, "docker stop --time is deprecated in Docker 28, --timeout unknown before; -t works in both")
	cfg, err := sb.Read("/etc/football/docker/config.json")
	require.NoError(t, err)
	assert.JSONEq(t, `{"credHelpers": {"`+testRegistry+`": "ecr-login"}}`, cfg)

	again, err := sb.Run("sh", script)
	require.NoError(t, err)
	require.Equal(t, 0, again.Exit, again.Output)
	assert.False(t, again.Called("apt-get"), "the runtime is installed once")
	assert.False(t, again.Called("docker pull"), "the image is there")
	assert.False(t, again.Called("systemctl restart"), "the same release restarts nothing")
}
