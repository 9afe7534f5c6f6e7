#!/usr/bin/env python3
"""football chat placeholder for a fleet: 200 on the health path, and a WebSocket relay through the cache.

A text message a client sends to any server is published on the cache's channel football:chat; every
server subscribes to it and sends each message to all of its own clients, as "<server>: <text>". That is
the contract the released app keeps. Python's standard library only (the image has nothing else).
"""
import argparse, base64, datetime, hashlib, hmac, json, os, signal, socket, ssl
import struct, sys, threading, urllib.request
import http.server

CHANNEL = b"football:chat"
env = os.environ.get
parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--health", default="/health")
args = parser.parse_args()
me = socket.gethostname()
clients, lock = set(), threading.Lock()


def log(*a):
    print("relay:", *a, file=sys.stderr, flush=True)


def imds(path, token=None):
    base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254").rstrip("/")
    if token is None:
        req = urllib.request.Request(base + "/latest/api/token", method="PUT",
                                     headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"})
    else:
        req = urllib.request.Request(base + path, headers={"X-aws-ec2-metadata-token": token})
    return urllib.request.urlopen(req, timeout=5).read().decode()


def auth_token():
    """The Redis AUTH token from Secrets Manager, signed (SigV4) with the instance role's credentials."""
    arn, region = env("REDIS_AUTH_SECRET_ARN", ""), env("AWS_REGION", "")
    if not arn:
        return None
    token = imds(None)
    role = imds("/latest/meta-data/iam/security-credentials/", token).split()[0]
    cred = json.loads(imds("/latest/meta-data/iam/security-credentials/" + role, token))
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    url = env("AWS_ENDPOINT_URL_SECRETS_MANAGER", "https://secretsmanager.%s.%s" % (region, suffix)).rstrip("/")
    host = url.split("://", 1)[1]
    body = json.dumps({"SecretId": arn}).encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"content-type": "application/x-amz-json-1.1", "host": host, "x-amz-date": amz,
               "x-amz-security-token": cred["Token"], "x-amz-target": "secretsmanager.GetSecretValue"}
    names = ";".join(sorted(headers))
    canonical = "POST\n/\n\n%s\n%s\n%s" % ("".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)),
                                          names, hashlib.sha256(body).hexdigest())
    scope = "%s/%s/secretsmanager/aws4_request" % (day, region)
    to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (amz, scope, hashlib.sha256(canonical.encode()).hexdigest())
    key = ("AWS4" + cred["SecretAccessKey"]).encode()
    for part in (day, region, "secretsmanager", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        cred["AccessKeyId"], scope, names, hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest())
    req = urllib.request.Request(url + "/", data=body, headers=headers, method="POST")
    return json.loads(urllib.request.urlopen(req, timeout=10).read())["SecretString"]


class Redis:
    """One connection speaking RESP: enough for AUTH, PUBLISH and SUBSCRIBE."""

    def __init__(self, password):
        sock = socket.create_connection((env("REDIS_HOST"), int(env("REDIS_PORT", "6379"))), timeout=10)
        if env("REDIS_TLS") == "true":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=env("REDIS_HOST"))
        sock.settimeout(None)
        self.sock, self.file = sock, sock.makefile("rb")
        if password:
            self.call(b"AUTH", password.encode())

    def send(self, *words):
        self.sock.sendall(b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words))

    def read(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError("the cache closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"-":
            raise ConnectionError(rest.decode())
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        return rest

    def call(self, *words):
        self.send(*words)
        return self.read()


publisher, publish_lock = None, threading.Lock()


def publish(text):
    global publisher
    message = json.dumps({"from": me, "text": text}).encode()
    with publish_lock:
        for _ in range(2):
            try:
                publisher = publisher or Redis(auth_token())
                publisher.call(b"PUBLISH", CHANNEL, message)
                return
            except (OSError, ConnectionError) as e:
                log("publish failed:", e)
                publisher = None


def subscribe():
    """Relays every message of the channel to this server's clients, reconnecting after a failure."""
    while True:
        try:
            sub = Redis(auth_token())
            sub.call(b"SUBSCRIBE", CHANNEL)
            log("subscribed to", CHANNEL.decode())
            while True:
                kind, _, data = sub.read()
                if kind == b"message":
                    m = json.loads(data)
                    broadcast(("%s: %s" % (m["from"], m["text"])).encode())
        except Exception as e:  # keep relaying whatever went wrong
            log("subscription lost:", e)
            threading.Event().wait(2)


def frame(opcode, payload):
    n = len(payload)
    head = bytes([0x80 | opcode]) + (bytes([n]) if n < 126 else
                                     struct.pack("!BH", 126, n) if n < 65536 else struct.pack("!BQ", 127, n))
    return head + payload


def broadcast(payload, opcode=1):
    with lock:
        for c in list(clients):
            try:
                c.sendall(frame(opcode, payload))
            except OSError:
                clients.discard(c)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # RFC 6455: the upgrade answers "HTTP/1.1 101"

    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        healthy = self.path.split("?", 1)[0] == args.health
        body = b"ok\n" if healthy else b"football chat placeholder: the app is not released yet; a WebSocket relays\n"
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
        self.end_headers()
        self.wfile.flush()
        conn, read = self.connection, self.rfile.read
        with lock:
            clients.add(conn)
        try:
            while True:
                b1, b2 = read(2)
                n = b2 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", read(8))[0]
                mask = read(4) if b2 & 0x80 else b"\0\0\0\0"
                data = bytes(x ^ mask[i % 4] for i, x in enumerate(read(n)))
                opcode = b1 & 0x0F
                if opcode == 8:
                    break
                if opcode == 9:
                    with lock:
                        conn.sendall(frame(10, data))
                elif opcode == 1:
                    publish(data.decode("utf-8", "replace"))
        except (OSError, ValueError):
            pass
        finally:
            with lock:
                clients.discard(conn)
        self.close_connection = True


def stop(*_):
    # 1012 "service restart": clients reconnect, through the load balancer, to a server that stays.
    broadcast(struct.pack("!H", 1012) + b"server leaving", opcode=8)
    log("stopping: told %d client(s) to reconnect" % len(clients))
    threading.Event().wait(1)  # let the close frames leave before the sockets do
    os._exit(0)


def keepalive():
    """Pings every client more often than the load balancer's idle timeout closes a quiet connection."""
    while True:
        threading.Event().wait(int(env("CHAT_PING_SECONDS", "30")))
        broadcast(b"", opcode=9)


signal.signal(signal.SIGTERM, stop)
threading.Thread(target=subscribe, daemon=True).start()
threading.Thread(target=keepalive, daemon=True).start()
http.server.ThreadingHTTPServer(("", args.port), Handler).serve_forever()
