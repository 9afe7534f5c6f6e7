package compute

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func sampleAPIEnv() apiEnv {
	return apiEnv{
		DBHost: "football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com", DBPort: 3306, DBName: "football",
		DBSecretARN: "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-abcdef",
		RedisHost:   "master.football-redis.abc123.apn2.cache.amazonaws.com", RedisPort: 6379, RedisTLS: true,
		RedisAuthSecretARN: testAuthSecretARN,
		Region:             "ap-northeast-2", AppPort: 8080, HealthCheckPath: "/health",
	}
}

// testAuthSecretARN has the shape of a secret made with a namePrefix: prefix, provider suffix, and the
// six characters Secrets Manager appends.
const testAuthSecretARN = "arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:football-prod-data-redis-auth-20260101000000000000000001-AbCdEf"

func sampleChatEnv() chatEnv {
	return chatEnv{
		RedisHost: "master.football-redis.abc123.apn2.cache.amazonaws.com", RedisPort: 6379, RedisTLS: true,
		RedisAuthSecretARN: testAuthSecretARN,
		APIBaseURL:         "https://football-api-1234567890.ap-northeast-2.elb.amazonaws.com", Region: "ap-northeast-2", ChatPort: 8080,
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

func TestRenderAPIUserData(t *testing.T) {
	t.Parallel()
	got, err := renderAPIUserData(sampleAPIEnv())
	require.NoError(t, err)
	golden(t, "api.user-data.golden", got)
	for _, line := range []string{
		"#cloud-config",
		"      DB_HOST=football-db.cabcdefghijk.ap-northeast-2.rds.amazonaws.com\n",
		"      DB_PORT=3306\n", "      DB_NAME=football\n",
		"      DB_SECRET_ARN=arn:aws:secretsmanager:ap-northeast-2:123456789012:secret:rds!db-1234-abcdef\n",
		"      REDIS_HOST=master.football-redis.abc123.apn2.cache.amazonaws.com\n",
		"      REDIS_PORT=6379\n", "      REDIS_TLS=true\n", "      AWS_REGION=ap-northeast-2\n", "      APP_PORT=8080\n",
		"      REDIS_AUTH_SECRET_ARN=" + testAuthSecretARN + "\n",
		"  - path: /etc/football/api.env\n    owner: root:root\n    permissions: '0640'\n",
		"EnvironmentFile=/etc/football/api.env",
		"--port ${APP_PORT} --health /health",
		"[systemctl, enable, --now, football-api.service]",
	} {
		assert.Contains(t, got, line)
	}
}

func TestRenderChatUserData(t *testing.T) {
	t.Parallel()
	got, err := renderChatUserData(sampleChatEnv())
	require.NoError(t, err)
	golden(t, "chat.user-data.golden", got)
	for _, line := range []string{
		"      REDIS_HOST=master.football-redis.abc123.apn2.cache.amazonaws.com\n", "      REDIS_PORT=6379\n",
		"      REDIS_TLS=true\n", "      API_BASE_URL=https://football-api-1234567890.ap-northeast-2.elb.amazonaws.com\n",
		"      CHAT_PORT=8080\n", "      REDIS_AUTH_SECRET_ARN=" + testAuthSecretARN + "\n",
		"  - path: /etc/football/chat.env\n    owner: root:root\n    permissions: '0640'\n",
		"--port ${CHAT_PORT}", "football-chat.service",
	} {
		assert.Contains(t, got, line)
	}
	assert.NotContains(t, got, "DB_", "chat needs no database settings")
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
	_, err = renderChatUserData(c)
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
	assert.Contains(t, got, "      REDIS_TLS=true\n      REDIS_AUTH_SECRET_ARN=\n      AWS_REGION=")
	c := sampleChatEnv()
	c.RedisAuthSecretARN = ""
	got, err = renderChatUserData(c)
	require.NoError(t, err)
	assert.Contains(t, got, "      REDIS_AUTH_SECRET_ARN=\n")

	e.DBSecretARN = ""
	_, err = renderAPIUserData(e)
	assert.ErrorContains(t, err, "user data: DB_SECRET_ARN is empty")
	c.RedisAuthSecretARN = "arn:aws:secretsmanager:x secret"
	_, err = renderChatUserData(c)
	assert.ErrorContains(t, err, `user data: REDIS_AUTH_SECRET_ARN "arn:aws:secretsmanager:x secret" is not allowed`)
}

// TestUserDataParses reads the user data as cloud-init would (YAML) and checks the files it writes, so
// an indentation slip in the template cannot leave an env line outside its file.
func TestUserDataParses(t *testing.T) {
	t.Parallel()
	for name, render := range map[string]func() (string, error){
		"api":  func() (string, error) { return renderAPIUserData(sampleAPIEnv()) },
		"chat": func() (string, error) { return renderChatUserData(sampleChatEnv()) },
	} {
		got, err := render()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(got, "#cloud-config\n"), name)
		var doc struct {
			WriteFiles []struct {
				Path, Owner, Permissions, Content string
			} `yaml:"write_files"`
			Runcmd [][]string `yaml:"runcmd"`
		}
		require.NoError(t, yaml.Unmarshal([]byte(got), &doc), name)
		require.Len(t, doc.WriteFiles, 3, name)
		env := doc.WriteFiles[0]
		assert.Equal(t, "/etc/football/"+name+".env", env.Path)
		assert.Equal(t, "0640", env.Permissions)
		var vars []envVar
		if name == "api" {
			vars = sampleAPIEnv().vars()
		} else {
			vars = sampleChatEnv().vars()
		}
		var want strings.Builder
		for _, v := range vars {
			want.WriteString(v.Key + "=" + v.Value + "\n")
		}
		assert.Equal(t, want.String(), env.Content, name)
		assert.Contains(t, doc.WriteFiles[2].Content, "EnvironmentFile=/etc/football/"+name+".env")
		assert.Equal(t, []string{"systemctl", "enable", "--now", "football-" + name + ".service"}, doc.Runcmd[1])
	}
}
