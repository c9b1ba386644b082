package config_test

import (
	"os"
	"regexp"
	"testing"

	"github.com/wardenhq/warden/internal/config"
	"github.com/wardenhq/warden/internal/idc"
	"github.com/wardenhq/warden/internal/notify"
)

// The durations table of docs/configuration.md is the configuration's: every duration setting,
// with its range and default, and nothing else.
func TestDocsDurationsTable(t *testing.T) {
	b, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([a-z_.]+)` \\| (\\S+) to (\\S+) \\| (\\S+) \\|$")
	documented := map[string][3]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		if _, twice := documented[m[1]]; twice {
			t.Errorf("docs/configuration.md lists %s twice", m[1])
		}
		documented[m[1]] = [3]string{m[2], m[3], m[4]}
	}
	c := config.Config{IdentityCenter: &idc.Config{}, Notifications: &notify.Config{}}
	for _, d := range c.Durations() {
		want := [3]string{config.FormatDuration(d.Min), config.FormatDuration(d.Max), config.FormatDuration(d.Default)}
		got, ok := documented[d.Key]
		switch {
		case !ok:
			t.Errorf("docs/configuration.md does not list %s (%s to %s, default %s)", d.Key, want[0], want[1], want[2])
		case got != want:
			t.Errorf("docs/configuration.md: %s is %s to %s, default %s; the code says %s to %s, default %s", d.Key, got[0], got[1], got[2], want[0], want[1], want[2])
		}
		delete(documented, d.Key)
	}
	for key := range documented {
		t.Errorf("docs/configuration.md lists %s, which is no duration setting", key)
	}
}
