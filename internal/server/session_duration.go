package server

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wardenhq/warden/internal/policy"
	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// DefaultSessionDuration is a permission set's session duration when it sets none (AWS's default).
const DefaultSessionDuration = time.Hour

// sessionDurations are the permission sets' session durations by name and by ARN: how long role
// credentials fetched through the access portal stay valid, whatever happens to the assignment.
func (s *Server) sessionDurations(ctx context.Context) (map[string]time.Duration, error) {
	sets, err := s.store.List(ctx, resource.KindPermissionSet, store.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]time.Duration, 2*len(sets))
	for _, o := range sets {
		spec := o.Spec.(*resource.PermissionSetSpec)
		d := DefaultSessionDuration
		if spec.SessionDuration != "" {
			if v, err := resource.ParseISODuration(spec.SessionDuration); err == nil && v > 0 {
				d = v
			}
		}
		out[o.Metadata.Name] = d
		if spec.ARN != "" {
			out[spec.ARN] = d
		}
	}
	return out, nil
}

func durationOf(durations map[string]time.Duration, key string) time.Duration {
	if d, ok := durations[key]; ok {
		return d
	}
	return DefaultSessionDuration
}

// human prints a duration without trailing zero units (1h, 1h30m, 45m).
func humanDuration(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// credentialsAtCreate is the note a new request gets: credentials fetched during its window stay
// valid for the permission sets' session duration, which can outlive the window.
func credentialsAtCreate(items []policy.Item, durations map[string]time.Duration, window time.Duration) string {
	if len(items) == 0 {
		return ""
	}
	longest, which := time.Duration(0), ""
	for _, it := range items {
		if d := durationOf(durations, it.PermissionSetARN); d > longest {
			longest, which = d, it.PermissionSetName
		}
	}
	if window > 0 && longest > window {
		return fmt.Sprintf("AWS credentials fetched during the access stay valid for the permission set's session duration (%s for %s), longer than the %s asked for: fetched at its start, they work %s after it ends (ending access stops new credentials, not sessions already running)",
			humanDuration(longest), which, humanDuration(window), humanDuration(longest-window))
	}
	return fmt.Sprintf("AWS credentials fetched during the access stay valid for the permission set's session duration (up to %s, %s), also after the access ends: ending access stops new credentials, not sessions already running",
		humanDuration(longest), which)
}

// credentialsNow says, for each permission set a request in its window grants, until when
// credentials fetched now stay valid, against the window's end.
func credentialsNow(grants []GrantState, durations map[string]time.Duration, end, now time.Time) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range grants {
		if seen[g.PermissionSetARN] {
			continue
		}
		seen[g.PermissionSetARN] = true
		d := durationOf(durations, g.PermissionSetARN)
		until := now.Add(d)
		msg := fmt.Sprintf("credentials for %s fetched now stay valid until %s (its session duration, %s)", g.PermissionSet, until.UTC().Format(time.RFC3339), humanDuration(d))
		if until.After(end) {
			msg += fmt.Sprintf(", %s after the access ends at %s: the session outlives the window", humanDuration(until.Sub(end)), end.UTC().Format(time.RFC3339))
		} else {
			msg += fmt.Sprintf(", before the access ends at %s", end.UTC().Format(time.RFC3339))
		}
		out = append(out, msg)
	}
	slices.Sort(out)
	return out
}

// roleSessionWarnings are the warnings about roles whose request max_duration is shorter than the
// session duration of a permission set they let holders request (knownCatalog.sessionProblem), for
// the administration page.
func (s *Server) roleSessionWarnings(ctx context.Context) ([]Warning, error) {
	k, err := s.knownCatalog(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(k.roles))
	for n, o := range k.roles {
		if o.Spec.(*resource.RoleSpec).Allow.Request != nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var out []Warning
	for _, n := range names {
		o := k.roles[n]
		if w := k.sessionProblem(o, o.Spec.(*resource.RoleSpec)); w != nil {
			out = append(out, *w)
		}
	}
	return out, nil
}
