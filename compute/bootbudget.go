package compute

import (
	"fmt"
	"strings"
)

// The setup script's bounds on waiting and retrying (setupTemplate). Each is a bound, not a typical
// duration: a healthy boot waits for none of them.
const (
	// aptLockSeconds is how long one apt-get waits for dpkg's lock (DPkg::Lock::Timeout).
	aptLockSeconds = 120
	// aptTries attempts of an apt-get step, aptRetrySeconds apart and doubling (10, 20, 40 s).
	aptTries        = 4
	aptRetrySeconds = 10
	// downloadSeconds bounds the CloudWatch agent's download with its retries (curl --retry-max-time).
	downloadSeconds = 120
	// pullTries attempts of the image pull, pullRetrySeconds apart and doubling (10, 20 s).
	pullTries        = 3
	pullRetrySeconds = 10
	// settleSeconds after a release starts, the script checks that its container still runs.
	settleSeconds = 10
	// startTimeoutSeconds is systemd's limit for a release's start, which may include a pull.
	startTimeoutSeconds = 300
)

// bootStep is one step of a server's boot with its time budget. Typical and Slow are estimates in
// seconds, not measurements: Typical is what a healthy boot usually takes, Slow a boot that is slow but
// will succeed (first-boot package timers holding dpkg's lock, a congested mirror). Source says where
// each number comes from.
type bootStep struct {
	Step          string
	Typical, Slow int
	// Release marks a step only a release runs (the placeholder needs no runtime and no pull).
	Release bool
	// Servers is which servers run the step: "api", "chat" or "" for both.
	Servers string
	Source  string
}

// bootSteps is the boot of an API server (launch template user data, run by cloud-init; then the load
// balancer's health check) and of the chat server (the Systems Manager document, run by the SSM agent), in
// the order they happen.
var bootSteps = []bootStep{
	{Step: "Ubuntu boots to cloud-init's user scripts", Typical: 30, Slow: 60, Servers: "api",
		Source: "estimate for a Nitro instance from its running state: kernel, systemd, cloud-init's init and config stages"},
	{Step: "Ubuntu boots; the SSM agent registers and runs the setup document", Typical: 60, Slow: 150, Servers: "chat",
		Source: "estimate: the boot above, then the agent's registration and the association's first run"},
	{Step: "journal export: write its unit, start it", Typical: 2, Slow: 5,
		Source: "estimate: three small files and one systemctl start"},
	{Step: "CloudWatch agent: download AWS's package", Typical: 5, Slow: 30,
		Source: "estimate: the .deb from the regional S3 bucket through the gateway endpoint; Slow is a t4g.micro at its baseline bandwidth; the script stops trying after " + fmt.Sprint(downloadSeconds) + " s"},
	{Step: "CloudWatch agent: install it (apt-get, after dpkg's lock)", Typical: 10, Slow: aptLockSeconds,
		Source: "estimate; Slow is one full wait for the lock that apt-daily and unattended-upgrades hold in the first minutes after boot (DPkg::Lock::Timeout)"},
	{Step: "runtime: apt-get update, install docker.io and the ECR credential helper", Typical: 45, Slow: 120, Release: true,
		Source: "estimate: Ubuntu's regional mirror through NAT, a few tens of MB of packages"},
	{Step: "release: pull the image by digest", Typical: 20, Slow: 60, Release: true,
		Source: "estimate for a typical image of about 200 MB compressed: layers from S3 through the gateway endpoint"},
	{Step: "app: start and answer 200 on the health path", Typical: 10, Slow: 30,
		Source: "assumption about the team's app (the placeholder takes about a second); measure yours"},
	{Step: "load balancer: two passing health checks 15 s apart", Typical: 30, Slow: 45,
		Source: "the target group's settings: interval 15 s, healthy threshold 2, plus up to one interval before the first check"},
	{Step: "app: warms up after its first healthy answer (connections, caches)", Typical: 30, Slow: 60,
		Source: "assumption about the team's app; only the warm-up counts it"},
}

// lastHealthStep is the step after which the server counts as healthy; later steps only warm it up.
const lastHealthStep = "load balancer: two passing health checks 15 s apart"

// bootSeconds adds up the boot budget of a server ("api" or "chat") with a release, until it is healthy
// (warm false) or warmed up (warm true), with the typical or the slow estimates.
func bootSeconds(server string, slow, warm bool) int {
	total := 0
	for _, s := range bootSteps {
		if s.Servers != "" && s.Servers != server {
			continue
		}
		if slow {
			total += s.Slow
		} else {
			total += s.Typical
		}
		if s.Step == lastHealthStep && !warm {
			break
		}
	}
	return total
}

// roundUp rounds seconds up to a multiple of step.
func roundUp(seconds, step int) int { return (seconds + step - 1) / step * step }

// healthCheckGracePeriod (seconds) is how long the Auto Scaling group ignores a new API server's failing
// load balancer health checks: the slow boot of a server with a release, so that a slow boot is not
// replaced in a loop, and no longer, so that a dead one is replaced within minutes (a release that fails
// also fails the instance refresh's alarms long before). 470 s of slow estimates make 480.
var healthCheckGracePeriod = roundUp(bootSeconds("api", true, false), 30)

// instanceWarmup (seconds) is how long a new API server counts as warming up after it enters service:
// the instance refresh waits at least this long (and for the load balancer's health checks) before the
// next step, and the scaling policy leaves its metrics out meanwhile, so the CPU an install and a pull
// burn does not scale the group out. The typical boot with a release and the app's warm-up: 182 s make 210.
var instanceWarmup = roundUp(bootSeconds("api", false, true), 30)

// chatSetupTimeout (seconds) is the chat server's setup document's limit: the script's own worst case
// (every wait and retry exhausted, scriptWorstSeconds), so Systems Manager never kills it in the middle of
// an install.
var chatSetupTimeout = roundUp(scriptWorstSeconds(), 300)

// scriptWorstSeconds bounds the setup script from its waits and retries: the agent's download, then its
// install, the runtime's install and the pull each tried to the end (an attempt taking its slow estimate
// plus a full lock wait where apt-get waits for one), and the start.
func scriptWorstSeconds() int {
	slow := map[string]int{}
	for _, s := range bootSteps {
		slow[s.Step] = s.Slow
	}
	backoff := func(tries, first int) int { // first + 2*first + ... between tries
		total := 0
		for i, d := 0, first; i < tries-1; i, d = i+1, d*2 {
			total += d
		}
		return total
	}
	agent := downloadSeconds + aptTries*(aptLockSeconds+slow["CloudWatch agent: install it (apt-get, after dpkg's lock)"]) + backoff(aptTries, aptRetrySeconds)
	runtime := aptTries*(2*aptLockSeconds+slow["runtime: apt-get update, install docker.io and the ECR credential helper"]) + backoff(aptTries, aptRetrySeconds)
	pull := pullTries*slow["release: pull the image by digest"] + backoff(pullTries, pullRetrySeconds)
	return slow["journal export: write its unit, start it"] + agent + runtime + pull + startTimeoutSeconds + settleSeconds
}

// bootBudgetMarkdown is the boot budget as the operations docs show it: every step with its estimates
// and their source, and what is derived from them.
func bootBudgetMarkdown() string {
	var b strings.Builder
	b.WriteString("| Step | Servers | Typical (s) | Slow (s) | Where the numbers come from |\n|---|---|---|---|---|\n")
	for _, s := range bootSteps {
		servers := map[string]string{"": "both", "api": "API", "chat": "chat"}[s.Servers]
		if s.Release {
			servers += ", release only"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %d | %s |\n", s.Step, servers, s.Typical, s.Slow, s.Source)
	}
	fmt.Fprintf(&b, "\nAPI server with a release: healthy after %d s typical, %d s slow; warmed up after %d s typical.\n",
		bootSeconds("api", false, false), bootSeconds("api", true, false), bootSeconds("api", false, true))
	fmt.Fprintf(&b, "Chat server with a release: healthy after %d s typical, %d s slow.\n",
		bootSeconds("chat", false, false), bootSeconds("chat", true, false))
	fmt.Fprintf(&b, "Derived: the API group's health check grace period %d s (the slow boot, rounded up to 30 s), its instance "+
		"warm-up %d s (the typical boot and warm-up, rounded up to 30 s), the chat setup document's timeout %d s "+
		"(the script's worst case with every wait and retry exhausted, %d s, rounded up to 5 minutes).\n",
		healthCheckGracePeriod, instanceWarmup, chatSetupTimeout, scriptWorstSeconds())
	return b.String()
}
