package compute

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // the WebSocket handshake's accept key is SHA-1 by RFC 6455
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeCache is a Redis stand-in speaking just enough RESP for the relay: AUTH (required first), PUBLISH
// and SUBSCRIBE, over TLS.
type fakeCache struct {
	password string
	ln       net.Listener
	mu       sync.Mutex
	subs     map[string][]net.Conn
	authed   int
}

func newFakeCache(t *testing.T, cert tls.Certificate, password string) *fakeCache {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	c := &fakeCache{password: password, ln: ln, subs: map[string][]net.Conn{}}
	t.Cleanup(func() { _ = ln.Close() }) // closing unblocks Accept; its error means nothing then
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go c.serve(conn)
		}
	}()
	return c
}

func (c *fakeCache) serve(conn net.Conn) {
	defer func() { _ = conn.Close() }() // the test's end; nothing to report
	r := bufio.NewReader(conn)
	authed := false
	for {
		words, err := readCommand(r)
		if err != nil {
			return
		}
		reply := ""
		switch cmd := strings.ToUpper(words[0]); {
		case cmd == "AUTH" && len(words) == 2 && words[1] == c.password:
			authed = true
			c.mu.Lock()
			c.authed++
			c.mu.Unlock()
			reply = "+OK\r\n"
		case cmd == "AUTH":
			reply = "-WRONGPASS invalid password\r\n"
		case !authed:
			reply = "-NOAUTH Authentication required.\r\n"
		case cmd == "SUBSCRIBE" && len(words) == 2:
			c.mu.Lock()
			c.subs[words[1]] = append(c.subs[words[1]], conn)
			c.mu.Unlock()
			reply = fmt.Sprintf("*3\r\n$9\r\nsubscribe\r\n%s:1\r\n", bulk(words[1]))
		case cmd == "PUBLISH" && len(words) == 3:
			c.mu.Lock()
			subs := append([]net.Conn(nil), c.subs[words[1]]...)
			c.mu.Unlock()
			for _, s := range subs {
				_, _ = fmt.Fprintf(s, "*3\r\n$7\r\nmessage\r\n%s%s", bulk(words[1]), bulk(words[2])) // a gone subscriber is not this test's concern
			}
			reply = fmt.Sprintf(":%d\r\n", len(subs))
		default:
			reply = "-ERR unknown command\r\n"
		}
		if _, err := io.WriteString(conn, reply); err != nil {
			return
		}
	}
}

func (c *fakeCache) subscribers(channel string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.subs[channel])
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil || line[0] != '*' {
		return nil, fmt.Errorf("not a command: %q", line)
	}
	var words []string
	for range n {
		head, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(head[1:]))
		if err != nil {
			return nil, err
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		words = append(words, string(buf[:size]))
	}
	return words, nil
}

// fakeAWS answers the instance metadata service (IMDSv2: a token first) and Secrets Manager's
// GetSecretValue, which it serves only to a request signed with SigV4 by the role's credentials.
func fakeAWS(t *testing.T, secretARN, secret string) *httptest.Server {
	t.Helper()
	const access, key, session = "ASIATESTACCESSKEY000", "test/secret/access/key", "session-token"
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "imds-token")
	})
	creds := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-aws-ec2-metadata-token") != "imds-token" {
			http.Error(w, "IMDSv2 needs a token", http.StatusUnauthorized)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/", func(w http.ResponseWriter, r *http.Request) {
		if creds(w, r) {
			_, _ = io.WriteString(w, "chat-role-0123\n")
		}
	})
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/chat-role-0123", func(w http.ResponseWriter, r *http.Request) {
		if creds(w, r) {
			_ = json.NewEncoder(w).Encode(map[string]string{"AccessKeyId": access, "SecretAccessKey": key, "Token": session})
		}
	})
	mux.HandleFunc("POST /", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := checkSigV4(r, body, access, key, session); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		var req struct{ SecretId string }
		if r.Header.Get("X-Amz-Target") != "secretsmanager.GetSecretValue" || json.Unmarshal(body, &req) != nil || req.SecretId != secretARN {
			http.Error(w, "not GetSecretValue of "+secretARN, http.StatusBadRequest)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"ARN": secretARN, "SecretString": secret})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// checkSigV4 recomputes the request's AWS Signature Version 4 (secretsmanager, ap-northeast-2) from the
// signed headers it names and compares it with the one sent.
func checkSigV4(r *http.Request, body []byte, access, key, session string) error {
	auth := r.Header.Get("Authorization")
	var cred, signed, sig string
	for _, part := range strings.Split(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 "), ", ") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	date := r.Header.Get("X-Amz-Date")
	scope := date[:min(8, len(date))] + "/ap-northeast-2/secretsmanager/aws4_request"
	if cred != access+"/"+scope {
		return fmt.Errorf("credential %q; want %s/%s", cred, access, scope)
	}
	if r.Header.Get("X-Amz-Security-Token") != session || !strings.Contains(signed, "x-amz-security-token") {
		return fmt.Errorf("the session token must be sent and signed")
	}
	var canon strings.Builder
	for _, h := range strings.Split(signed, ";") {
		v := r.Header.Get(h)
		if h == "host" {
			v = r.Host
		}
		canon.WriteString(h + ":" + v + "\n")
	}
	sum := sha256.Sum256(body)
	request := strings.Join([]string{r.Method, "/", "", canon.String(), signed, hex.EncodeToString(sum[:])}, "\n")
	reqSum := sha256.Sum256([]byte(request))
	toSign := "AWS4-HMAC-SHA256\n" + date + "\n" + scope + "\n" + hex.EncodeToString(reqSum[:])
	k := []byte("AWS4" + key)
	for _, part := range strings.Split(scope, "/") {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(part))
		k = m.Sum(nil)
	}
	m := hmac.New(sha256.New, k)
	m.Write([]byte(toSign))
	if want := hex.EncodeToString(m.Sum(nil)); sig != want {
		return fmt.Errorf("signature %s; want %s", sig, want)
	}
	return nil
}

// wsClient is a minimal WebSocket client (RFC 6455): it masks what it sends, as clients must.
type wsClient struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialWS(t *testing.T, port int) *wsClient {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() }) // a test's connection; a second close only errors
	nonce := make([]byte, 16)
	_, err = rand.Read(nonce)
	require.NoError(t, err)
	key := base64.StdEncoding.EncodeToString(nonce)
	_, err = fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: chat\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", key)
	require.NoError(t, err)
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	require.Equal(t, "HTTP/1.1", resp.Proto, "RFC 6455 answers an upgrade with HTTP/1.1 101")
	accept := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) //nolint:gosec // RFC 6455
	require.Equal(t, base64.StdEncoding.EncodeToString(accept[:]), resp.Header.Get("Sec-WebSocket-Accept"))
	return &wsClient{conn: conn, r: r}
}

func (c *wsClient) sendText(t *testing.T, text string) {
	t.Helper()
	mask := []byte{1, 2, 3, 4}
	payload := []byte(text)
	frame := append([]byte{0x81, 0x80 | byte(len(payload))}, mask...)
	for i, b := range payload {
		frame = append(frame, b^mask[i%4])
	}
	_, err := c.conn.Write(frame)
	require.NoError(t, err)
}

// next reads frames until one of opcode arrives (within the deadline) and returns its payload.
func (c *wsClient) next(t *testing.T, opcode byte, within time.Duration) []byte {
	t.Helper()
	require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(within)))
	for {
		head := make([]byte, 2)
		_, err := io.ReadFull(c.r, head)
		require.NoError(t, err, "waiting for opcode %d", opcode)
		n := int(head[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			_, err = io.ReadFull(c.r, ext[:])
			n = int(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			_, err = io.ReadFull(c.r, ext[:])
			n = int(binary.BigEndian.Uint64(ext[:]))
		}
		require.NoError(t, err)
		require.Zero(t, head[1]&0x80, "a server's frames are not masked")
		payload := make([]byte, n)
		_, err = io.ReadFull(c.r, payload)
		require.NoError(t, err)
		if head[0]&0x0f == opcode {
			return payload
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }() // only the port number was wanted
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRelayAcrossServers runs the chat fleet's placeholder as two servers against one cache: a message
// a client sends to one server reaches the clients of the other through the cache's pub/sub, the
// servers read the AUTH token from Secrets Manager with the instance role (IMDSv2, SigV4) and speak TLS
// to the cache, ping their clients, and a server that stops tells its clients to reconnect (1012).
func TestRelayAcrossServers(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	require.NoError(t, err, "the servers run python3 (Ubuntu's image has it); the test needs it too")

	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.StartTLS() // only for its certificate: 127.0.0.1, signed by a test CA
	defer tlsSrv.Close()
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}), 0o600))
	const token = "Relay-Test-Token-0123456789"
	cache := newFakeCache(t, tlsSrv.TLS.Certificates[0], token)
	aws := fakeAWS(t, testAuthSecretARN, token)

	script := filepath.Join(dir, "relay.py")
	require.NoError(t, os.WriteFile(script, []byte(relayScript), 0o755))
	env := chatEnv{RedisHost: "127.0.0.1", RedisPort: cache.ln.Addr().(*net.TCPAddr).Port, RedisTLS: true,
		RedisAuthSecretARN: testAuthSecretARN, APIBaseURL: testAPIURL, Region: "ap-northeast-2", ChatPort: 8443,
		LogGroup: "/football/test/chat", PingSeconds: 1}
	var vars []string
	for _, v := range env.vars() {
		vars = append(vars, v.Key+"="+v.Value)
	}
	vars = append(vars, "AWS_EC2_METADATA_SERVICE_ENDPOINT="+aws.URL, "AWS_ENDPOINT_URL_SECRETS_MANAGER="+aws.URL,
		"SSL_CERT_FILE="+ca, "PATH="+os.Getenv("PATH"))
	ports := []int{freePort(t), freePort(t)}
	var servers []*exec.Cmd
	var logs []*lockedBuffer
	for _, port := range ports {
		cmd := exec.Command(python, script, "--port", strconv.Itoa(port), "--health", ChatHealthCheckPath)
		cmd.Env = vars
		out := &lockedBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		require.NoError(t, cmd.Start())
		servers, logs = append(servers, cmd), append(logs, out)
		t.Cleanup(func() { _ = cmd.Process.Kill() }) // already gone when the test stopped it
	}
	dump := func() string {
		var b strings.Builder
		for i, l := range logs {
			fmt.Fprintf(&b, "server %d:\n%s\n", i+1, l.String())
		}
		return b.String()
	}

	deadline := time.Now().Add(20 * time.Second)
	for _, port := range ports {
		for {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d%s", port, ChatHealthCheckPath))
			if err == nil {
				_ = resp.Body.Close() // only the status matters
				require.Equal(t, http.StatusOK, resp.StatusCode)
				break
			}
			require.True(t, time.Now().Before(deadline), "server on %d never answered: %v\n%s", port, err, dump())
			time.Sleep(100 * time.Millisecond)
		}
	}
	for cache.subscribers("football:chat") < 2 {
		require.True(t, time.Now().Before(deadline), "both servers must subscribe\n%s", dump())
		time.Sleep(100 * time.Millisecond)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports[0]))
	require.NoError(t, err)
	_ = resp.Body.Close() // only the status matters
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the placeholder serves nothing but the health path and WebSockets")

	alice, bob := dialWS(t, ports[0]), dialWS(t, ports[1])
	alice.sendText(t, "hello from server 1")
	host, err := os.Hostname()
	require.NoError(t, err)
	want := host + ": hello from server 1"
	assert.Equal(t, want, string(bob.next(t, 0x1, 10*time.Second)), "a client of the other server gets it\n%s", dump())
	assert.Equal(t, want, string(alice.next(t, 0x1, 10*time.Second)), "and so does the sender's own server")
	bob.next(t, 0x9, 5*time.Second) // a ping within CHAT_PING_SECONDS (1 here)
	cache.mu.Lock()
	authed := cache.authed
	cache.mu.Unlock()
	assert.GreaterOrEqual(t, authed, 3, "every connection to the cache signed in with the token from Secrets Manager (2 subscribers, 1 publisher)")

	// Graceful stop: SIGTERM, the way systemd (and the drain watcher) stops the service.
	require.NoError(t, servers[1].Process.Signal(syscall.SIGTERM))
	closing := bob.next(t, 0x8, 10*time.Second)
	require.GreaterOrEqual(t, len(closing), 2)
	assert.Equal(t, uint16(1012), binary.BigEndian.Uint16(closing), "1012: service restart, reconnect")
	require.NoError(t, servers[1].Wait(), dump())
}

// TestDrainWatcherStopsTheService runs the chat fleet's drain watcher with the instance metadata saying
// that Auto Scaling is terminating the server: it stops the chat service (its graceful stop) and exits.
func TestDrainWatcherStopsTheService(t *testing.T) {
	t.Parallel()
	ud, err := renderChatUserData(sampleChatEnv(), 120)
	require.NoError(t, err)
	start := strings.Index(ud, ".drain.sh.new\" <<'FOOTBALL_EOF' || return 1\n")
	require.GreaterOrEqual(t, start, 0, "the fleet's user data installs the drain watcher")
	body := ud[start+len(".drain.sh.new\" <<'FOOTBALL_EOF' || return 1\n"):]
	body = body[:strings.Index(body, "FOOTBALL_EOF\n")]
	bin := t.TempDir()
	calls := filepath.Join(bin, "calls")
	shims := map[string]string{
		// IMDSv2: a PUT for the token, then the target lifecycle state with it.
		"curl":      `case "$*" in *"-X PUT"*api/token*) echo tok ;; *"X-aws-ec2-metadata-token: tok"*target-lifecycle-state*) echo Terminated ;; *) exit 22 ;; esac`,
		"systemctl": `echo "systemctl $*" >>` + calls,
	}
	for name, script := range shims {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+script+"\n"), 0o755))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", body) // a watcher that never sees Terminated polls forever
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	got, err := os.ReadFile(calls)
	require.NoError(t, err, string(out))
	assert.Equal(t, "systemctl stop football-chat.service\n", string(got))
	assert.Contains(t, string(out), "Auto Scaling is terminating this server")
}

// lockedBuffer collects a process's output while the test reads it (os/exec copies into it from a
// goroutine of its own).
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
