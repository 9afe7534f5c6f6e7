#!/usr/bin/env python3
"""Measures the day-2 table of docs/operations.md ("Day-2 operations") with the real Pulumi engine harness.

For each routine operation: from the state a plain `up` of the committed stack left, preview the edited
stack, apply it, and preview again expecting no changes; then restore the state for the next operation.
Prints one Markdown row per operation (what the preview showed, what up did, whether the second preview
was clean) and writes every preview's JSON under the work directory. A change the program refuses shows
as refused, with the first line of its error. Destroy rows run `pulumi destroy --preview-only`, then
`pulumi destroy --skip-preview` in place of up; the teardown row unprotects everything first (README,
"Tearing down prod"). Resources Pulumi drops from the stack but leaves in AWS (retainOnDelete) are listed
as kept.

    REALENGINE=/path/to/realengine python3 scripts/day2.py [--only NAME,...] [--workdir DIR] [--project DIR]

The harness is optional and not part of this repository: it runs the real Pulumi CLI, Go language host and
awsx provider against stub AWS providers (its up.sh and preview.sh take a project directory and a stack).
Without it this script says so and exits 2; nothing else in the project needs it, and nothing here needs
AWS. The release rows need a harness whose aws stub answers aws:ecr/getImage. A stub provider replaces a
resource only for the properties its force-new table lists, so a clean row here is evidence about the
program and the engine, not about AWS itself. Needs PyYAML.
"""
import argparse
import copy
import json
import os
import shutil
import subprocess
import sys
import hashlib

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.dirname(HERE)

CERT = "arn:aws:acm:ap-northeast-2:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"

# name, stack, edits: (config key, path inside its object, value; None deletes), secrets, downtime (AWS's
# behaviour for that kind of update: not measured by the harness), and optionally the edits of the
# starting point (applied and `up`ed first; the row then measures going from there to the edits, which
# are applied to the committed stack file, so [] means "back to the committed stack")
CHAT_TO_FLEET = ("every chat connection closes once: `ws://<chat server>:8080` stops with the old server, clients reconnect to "
                 "`ws://<load balancer>:8443/` (no domain) or the same `wss://chat.<zone>/` (domain) once the new servers pass health checks (minutes)")
CHAT_TO_SINGLE = ("every chat connection closes once: the fleet drains (fleet.drainSeconds), clients reconnect to the new server's "
                  "`ws://<Elastic IP>:8080` (a new address) or the same `wss://chat.<zone>/` once it passes health checks (minutes)")

OPERATIONS = [
    ("add an AZ", "dev", [("football:network", "availabilityZones", ["ap-northeast-2a", "ap-northeast-2c", "ap-northeast-2d"])], {},
     "none"),
    ("add an AZ", "prod", [("football:network", "availabilityZones", ["ap-northeast-2a", "ap-northeast-2c", "ap-northeast-2d"])], {},
     "none"),
    ("API instance type", "dev", [("football:api", "instanceType", "t4g.small")], {},
     "none: the instance refresh starts new servers before it stops old ones"),
    ("chat instance type", "dev", [("football:chat", "instanceType", "t4g.small")], {},
     "the chat server stops and starts (about 1-2 min); same instance, address and disk; clients reconnect"),
    ("NAT instance type", "dev", [("football:network", "natInstanceType", "t4g.micro")], {},
     "dev's private subnets lose egress while the NAT instance stops and starts (about 1-2 min)"),
    ("set a certificate", "prod", [("football:api", "certificateArn", CERT), ("football:api", "allowHttpOnly", None)], {},
     "none for the API (port 80 starts redirecting); prod's chat fleet rolls onto the new API URL by instance refresh "
     "(new servers first; each old server's clients reconnect once)"),
    ("rotate the Redis AUTH token", "dev", [], {"football:redisAuthToken": "Rotated-Token-0123456789abcdef"},
     "none: ROTATE keeps the old token valid beside the new one until authTokenUpdateStrategy SET"),
    ("DB class and storage", "prod", [("football:data", "db", {"instanceClass": "db.t4g.large", "allocatedStorage": 40})], {},
     "class: a Multi-AZ failover (about 1-2 min) in the maintenance window; storage: none"),
    ("flow logs on", "dev", [("football:network", "flowLogs", {"enabled": True})], {}, "none"),
    ("access logs on", "dev", [("football:api", "accessLogs", {"enabled": True})], {}, "none"),
    ("add an SSH CIDR", "prod", [("football:chat", "sshCidrs", ["203.0.113.0/24"])], {},
     "none: prod's chat runs as a fleet, so the first SSH CIDR adds the jump host (its instance, address, group, role, alarms)"),
    ("change the app port", "dev", [("football:api", "appPort", 9000)], {},
     "503s from the target group switch until the refreshed servers pass health checks (minutes): plan a window"),
    ("change the chat port", "dev", [("football:chat", "chatPort", 443)], {},
     "the chat service restarts on the new port (seconds); clients must use the new chatUrl"),
    ("take a new Ubuntu image", "dev", [("football:images", "arm64", "ami-0fedcba9876543210")], {},
     "API: none (refresh); chat: a new server, the Elastic IP moves to it (minutes); dev NAT: egress down until the new instance runs"),
    # Releases need a harness whose aws stub answers ECR image lookups.
    ("release the API", "dev", [("football:api", "release", "v1.4.2")], {},
     "none: refresh with 100% kept healthy, automatic rollback on failure"),
    ("release the chat server", "dev", [("football:chat", "release", "v0.9.0")], {},
     "the chat service restarts on the new image (pulled first; seconds, one reconnect)"),
    # Issue 22: what prod refuses, what it keeps, and that routine removals and replacements still work there.
    ("move the cache back to Redis OSS", "prod", [("football:data", "redis", {"engine": "redis", "engineVersion": None})], {},
     "none: refused before anything is planned"),
    ("replace the cache deliberately", "prod",
     [("football:data", "redis", {"engine": "redis", "engineVersion": None, "protect": False})], {},
     "the cache is down from the old group's deletion until the new, empty one is available (minutes)"),
    ("WAF off", "prod", [("football:waf", "enabled", False)], {}, "none"),
    ("take a new Ubuntu image", "prod", [("football:images", "arm64", "ami-0fedcba9876543210")], {},
     "none: the API and the chat fleet each roll onto it by instance refresh (new servers first)"),
    ("pulumi destroy", "prod", [], {}, "none", "destroy"),
    ("pulumi destroy", "dev", [], {}, "everything", "destroy"),
    ("tear down (unlocked)", "prod", [], {}, "everything", "teardown"),
    # The chat rows name both ends explicitly, so they measure the same move whatever the committed stack runs.
    ("chat: single to fleet", "dev", [("football:chat", "mode", "fleet")], {}, CHAT_TO_FLEET, [("football:chat", "mode", "single")]),
    ("chat: fleet to single", "dev", [("football:chat", "mode", "single")], {}, CHAT_TO_SINGLE, [("football:chat", "mode", "fleet")]),
    ("chat: single to fleet", "prod", [("football:chat", "mode", "fleet")], {}, CHAT_TO_FLEET, [("football:chat", "mode", "single")]),
    ("chat: fleet to single", "prod", [("football:chat", "mode", "single")], {}, CHAT_TO_SINGLE, [("football:chat", "mode", "fleet")]),
    ("chat: single to fleet with a domain", "prod",
     [("football:chat", "mode", "fleet"), ("football:domain", "zone", "example.com"), ("football:api", "allowHttpOnly", None)], {},
     "every chat connection closes once and reconnects to the same `wss://chat.<zone>/` (the host rule moves to the fleet's target group)",
     [("football:chat", "mode", "single"), ("football:domain", "zone", "example.com"), ("football:api", "allowHttpOnly", None)]),
    ("chat fleet: SSH jump host on", "dev", [("football:chat", "mode", "fleet"), ("football:chat", "sshCidrs", ["203.0.113.0/24"])], {},
     "none: SSH reaches the private servers through the new host; Session Manager as before", [("football:chat", "mode", "fleet")]),
]

def run(cmd, env=None, check=True, **kw):
    p = subprocess.run(cmd, env={**os.environ, **(env or {})}, text=True, capture_output=True, **kw)
    if check and p.returncode != 0:
        sys.stderr.write(p.stdout[-4000:] + p.stderr[-4000:])
        raise SystemExit(f"failed ({p.returncode}): {' '.join(cmd)}")
    return p


def copy_project(dst):
    shutil.rmtree(dst, ignore_errors=True)
    files = run(["git", "ls-files", "-co", "--exclude-standard"], cwd=PROJECT).stdout.split()
    for f in files:
        src = os.path.join(PROJECT, f)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, f))


def state_dir(home, base):
    return os.path.join(home, "state", hashlib.sha256(os.path.abspath(base).encode()).hexdigest()[:16])


def edit(stack_file, edits):
    import yaml  # checked in main
    with open(stack_file) as f:
        doc = yaml.safe_load(f)
    cfg = doc.setdefault("config", {})
    for key, path, value in edits:
        obj = cfg.setdefault(key, {})
        if value is None:
            obj.pop(path, None)
        elif isinstance(value, dict) and isinstance(obj.get(path), dict):
            for k, v in value.items():
                if v is None:
                    obj[path].pop(k, None)
                else:
                    obj[path][k] = copy.deepcopy(v)
        else:
            obj[path] = copy.deepcopy(value)
    with open(stack_file, "w") as f:
        yaml.safe_dump(doc, f, sort_keys=False)


def set_secrets(re_dir, home, base, workdir, stack, secrets):
    """Encrypts secrets into the copy's stack file with the harness passphrase and the base's salt."""
    backend = state_dir(home, base)
    salt = open(os.path.join(backend, f".salt.{stack}")).read()
    stack_file = os.path.join(workdir, f"Pulumi.{stack}.yaml")
    body = open(stack_file).read()
    if "encryptionsalt:" not in body:
        open(stack_file, "w").write(salt + body)
    env = {"PULUMI_HOME": os.path.join(home, "home"), "PULUMI_CONFIG_PASSPHRASE": "test",
           "PULUMI_BACKEND_URL": "file://" + backend, "PULUMI_SKIP_UPDATE_CHECK": "true",
           "PATH": os.path.join(home, "bin") + ":" + os.environ["PATH"]}
    for key, value in secrets.items():
        run(["pulumi", "config", "set", "--secret", "--stack", stack, key, value], env=env, cwd=workdir)


def summarize(preview_json):
    doc = json.loads(preview_json)
    counts = {k: v for k, v in doc.get("changeSummary", {}).items() if k != "same"}
    replaced, updated = [], []
    for s in doc.get("steps", []):
        name = s["urn"].split("::")[-1]
        if s["op"] in ("replace", "create-replacement"):
            if s["op"] == "replace":
                replaced.append(f"{name} ({','.join(s.get('replaceReasons') or [])})")
        elif s["op"] == "update":
            updated.append(f"{name} ({','.join(s.get('diffReasons') or [])})")
    warnings = [d["message"].strip().removeprefix("warning: ") for d in doc.get("diagnostics", [])
                if d.get("severity") == "warning" and "REPLACES" in d.get("message", "")]
    return counts, replaced, updated, warnings


def resources_summary(out):
    """The change lines of a pulumi run's "Resources:" summary, e.g. ["- 5 deleted"]."""
    tail = out.split("Resources:")[-1].splitlines()
    return [line.strip() for line in tail if line.strip()[:2] in ("+ ", "~ ", "+-", "- ")]


def kept(out):
    """Resources a run dropped from the stack but left in AWS (retainOnDelete), by logical name."""
    return sorted({line.split()[2] for line in out.splitlines() if "[retain]" in line and " deleted" in line})


def first_error(text):
    """Why a run failed, in one line: a refusal of the program's, or a protected resource's name and the
    unprotect command the engine's message gives."""
    lines = [line.strip().lstrip("* ").strip() for line in text.splitlines()]
    for line in lines:
        if " is refused while " in line:
            return line.split(": it REPLACES")[0]
    for line in lines:
        if "cannot be deleted" in line:
            name = line.split('"')[1].split("::")[-1] if '"' in line else "?"
            hint = next((x.strip("`") for x in lines if x.startswith("`pulumi state unprotect")), "")
            return f"{name} cannot be deleted: it is protected" + (f"; the message says `{hint}`" if hint else "")
    for line in lines:
        if line.startswith("error:"):
            return line[len("error:"):].strip()
    return ""


def pulumi(re_dir, workdir, stack, args, env):
    """Runs any pulumi command on the harness's backend for workdir (the harness's environment)."""
    script = 'source "$1" "$2" "$3" && shift 3 && pulumi "$@"'
    return run(["bash", "-c", script, "pulumi", os.path.join(re_dir, "_env.sh"), workdir, stack] + args + ["--stack", stack],
               env=env, check=False)


def destroy_row(re_dir, work, stack, env, teardown):
    """Runs a destroy as the README describes it and returns the Preview, up and second-preview cells."""
    if teardown:
        pulumi(re_dir, work, stack, ["state", "unprotect", "--all", "--yes"], env)
    pre = pulumi(re_dir, work, stack, ["destroy", "--preview-only", "--non-interactive"], env)
    pre_cell = (f"would delete: {', '.join(resources_summary(pre.stdout)) or 'nothing'}" if pre.returncode == 0
                else f"refused (rc {pre.returncode}): {first_error(pre.stdout + pre.stderr)}")
    d = pulumi(re_dir, work, stack, ["destroy", "--yes", "--skip-preview", "--non-interactive"], env)
    changes = resources_summary(d.stdout)
    cell = f"{'ok' if d.returncode == 0 else 'refused (rc ' + str(d.returncode) + ')'}: {', '.join(changes) or '0 deleted'}"
    if d.returncode != 0:
        cell += f"; {first_error(d.stdout + d.stderr)}"
    if kept(d.stdout):
        cell += f"; kept in AWS (retainOnDelete): {', '.join(kept(d.stdout))}"
    again = run([os.path.join(re_dir, "preview.sh"), work, stack, "--json"], env=env, check=False)
    counts = {k: v for k, v in json.loads(again.stdout or "{}").get("changeSummary", {}).items() if k != "same"}
    second = "no changes" if not counts or counts == {"read": 1} else f"the stack is gone: {json.dumps(counts)}"
    return pre_cell, cell, second


def main():
    global PROJECT
    ap = argparse.ArgumentParser(
        description="Measures the day-2 table with the optional real Pulumi engine harness (set REALENGINE to its "
                    "directory; it is not part of this repository). Exits 2 when the harness or PyYAML is missing.")
    ap.add_argument("--only", default="", help="comma-separated operation names (default: all)")
    ap.add_argument("--stack", default="", help="only the operations of this stack (default: every stack)")
    ap.add_argument("--workdir", default="/tmp/football-day2")
    ap.add_argument("--project", default=PROJECT, help="the checkout to measure (default: this one)")
    args = ap.parse_args()
    PROJECT = os.path.abspath(args.project)
    re_dir = os.environ.get("REALENGINE", "")
    if not re_dir or not all(os.access(os.path.join(re_dir, s), os.X_OK) for s in ("up.sh", "preview.sh")):
        sys.stderr.write("day2.py: needs the real-engine harness, which is not part of this repository: set REALENGINE "
                         "to its directory (with up.sh and preview.sh)" + (f"; {re_dir} has neither" if re_dir else "") + "\n")
        return 2
    try:
        import yaml  # noqa: F401  (edit uses it)
    except ImportError:
        sys.stderr.write("day2.py: needs PyYAML: pip install pyyaml\n")
        return 2
    known = {op[0] for op in OPERATIONS}
    unknown = [o for o in args.only.split(",") if o and o not in known]
    if unknown:
        sys.stderr.write(f"day2.py: --only {','.join(unknown)}: no such operation; known: {', '.join(sorted(known))}\n")
        return 2
    home = os.environ.get("REALENGINE_HOME", os.path.expanduser("~/.cache/football-realengine"))
    only = [o for o in args.only.split(",") if o]
    os.makedirs(args.workdir, exist_ok=True)
    base = os.path.join(args.workdir, "base")
    copy_project(base)
    stacks = sorted({op[1] for op in OPERATIONS if (not only or op[0] in only) and (not args.stack or op[1] == args.stack)})
    shutil.rmtree(state_dir(home, base), ignore_errors=True)
    for stack in stacks:
        run([os.path.join(re_dir, "up.sh"), base, stack])
    snapshot = os.path.join(args.workdir, "state-snapshot")
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(state_dir(home, base), snapshot)

    print("| Operation | Stack | Preview | Replaced (why) | Updated (why) | up | Second preview | Downtime |")
    print("|---|---|---|---|---|---|---|---|")
    for i, (name, stack, edits, secrets, downtime, *extra) in enumerate(OPERATIONS):
        # A row may add the edits it starts from (a list) and what it runs instead of up ("destroy", "teardown").
        start = [e for e in extra if isinstance(e, list)]
        kind = [e for e in extra if isinstance(e, str)]
        if only and name not in only or args.stack and stack != args.stack:
            continue
        shutil.rmtree(state_dir(home, base))
        shutil.copytree(snapshot, state_dir(home, base))
        if start:
            origin = os.path.join(args.workdir, f"op{i:02d}-start")
            copy_project(origin)
            edit(os.path.join(origin, f"Pulumi.{stack}.yaml"), start[0])
            run([os.path.join(re_dir, "up.sh"), origin, stack], env={"STATE_OF": base})
        work = os.path.join(args.workdir, f"op{i:02d}")
        copy_project(work)
        edit(os.path.join(work, f"Pulumi.{stack}.yaml"), edits)
        if secrets:
            set_secrets(re_dir, home, base, work, stack, secrets)
        env = {"STATE_OF": base}
        if kind:
            pre, result, second = destroy_row(re_dir, work, stack, env, kind[0] == "teardown")
            print(f"| {name} | {stack} | {pre} | none | none | {result} | {second} | {downtime} |")
            sys.stdout.flush()
            continue
        p = run([os.path.join(re_dir, "preview.sh"), work, stack, "--json"], env=env, check=False)
        open(os.path.join(args.workdir, f"op{i:02d}-{stack}.json"), "w").write(p.stdout)
        warnings = []
        if p.returncode != 0:
            try:  # --json: the reason is in the diagnostics
                text = "\n".join(d.get("message", "") for d in json.loads(p.stdout).get("diagnostics", []))
            except ValueError:
                text = p.stdout + p.stderr
            preview_cell, replaced, updated = f"refused (rc {p.returncode}): {first_error(text)}", [], []
        else:
            counts, replaced, updated, warnings = summarize(p.stdout)
            preview_cell = json.dumps(counts)
        up = run([os.path.join(re_dir, "up.sh"), work, stack], env=env, check=False)
        result = resources_summary(up.stdout)
        failed = "refused" if p.returncode != 0 else "failed"
        up_summary = ("ok: " if up.returncode == 0 else f"{failed} (rc {up.returncode}): ") + (", ".join(result) or "no changes")
        if kept(up.stdout):
            up_summary += f"; kept in AWS (retainOnDelete): {', '.join(kept(up.stdout))}"
        again = run([os.path.join(re_dir, "preview.sh"), work, stack, "--expect-no-changes"], env=env, check=False)
        if up.returncode != 0 and p.returncode != 0:
            # Refused: nothing was applied, so the committed stack must preview clean against the state.
            again = run([os.path.join(re_dir, "preview.sh"), base, stack, "--expect-no-changes"], env=env, check=False)
        print(f"| {name} | {stack} | {preview_cell} | {'; '.join(replaced) or 'none'} | {'; '.join(updated) or 'none'} "
              f"| {up_summary} | {'no changes' if again.returncode == 0 else 'CHANGES (' + str(again.returncode) + ')'} | {downtime} |")
        for w in warnings:
            print(f"|  | | warning: {w} | | | | | |")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
