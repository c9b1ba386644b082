package reconcile_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"testing"

	"github.com/wardenhq/warden/internal/idc"
)

// raceBuild: built with -race (race_test.go). The SCIM pass is then left to a run of its own
// (.ci/run runs it without -race beside the race run): the driver changes the engine's calls, not
// its concurrency, and under -race the pass doubled the longest part of CI.
var raceBuild bool

func flagSet(name string) bool {
	f := flag.Lookup(name)
	return f != nil && f.Value.String() != ""
}

// TestMain runs the suite over both directory drivers: as it is (identitystore, unless
// WARDEN_TEST_DIRECTORY says otherwise), then, when that passed, no driver was named and the
// build is not -race's, once more
// in a child process with WARDEN_TEST_DIRECTORY=scim, the same flags and the same tests, so that
// `go test ./...` proves the engine works the same through either.
func TestMain(m *testing.M) {
	code := m.Run()
	if code != 0 || raceBuild || os.Getenv("WARDEN_TEST_DIRECTORY") != "" || flagSet("test.bench") || flagSet("test.fuzz") || flagSet("test.list") {
		os.Exit(code) // benchmarks and fuzzing run once, over identitystore
	}
	fmt.Println("--- the suite again, writing through Identity Center's SCIM endpoint (WARDEN_TEST_DIRECTORY=scim)")
	cmd := exec.Command(os.Args[0], os.Args[1:]...)
	cmd.Env = append(os.Environ(), "WARDEN_TEST_DIRECTORY="+idc.DirectorySCIM)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "the suite over the SCIM driver failed: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}
