package stack

import "github.com/football/football-infra/compute"

// Releases are the images the configuration names, by the ECR repository each service takes its releases
// from: what a plan without AWS (internal/offline) takes the registry to hold. A repository named in the
// config is listed even without a release (the servers pull from it), the stack's own one only with one.
func (c *Config) Releases() map[string][]string {
	out := map[string][]string{}
	for service, s := range map[string]compute.ReleaseSettings{"api": c.API.ReleaseSettings, "chat": c.Chat.ReleaseSettings} {
		if s.Repository == "" && s.Release == "" {
			continue
		}
		repo := c.repository(s, service)
		if _, listed := out[repo]; !listed {
			out[repo] = []string{}
		}
		if s.Release != "" {
			out[repo] = append(out[repo], s.Release)
		}
	}
	return out
}
