// Command warden is the access plane for AWS IAM Identity Center: the server, the demo, and the
// command-line client of its API.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// version and commit may be set at build time with -ldflags "-X main.version=... -X main.commit=...";
// otherwise they come from the build information Go records (the module's version, and the commit
// of a build in a git checkout).
var (
	version = ""
	commit  = ""
)

// exitError carries a specific exit status (warden sync plan exits 2 when changes are pending).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func main() {
	root := newRoot()
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "warden",
		Short:         "warden governs who may use which AWS permission set in which account, through IAM Identity Center",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       "-", // --version prints what warden version does
	}
	root.SetVersionTemplate(versionText())
	root.AddCommand(newServeCmd(), newDemoCmd(), newCreateCmd(), newApplyCmd(), newGetCmd(), newDeleteCmd(),
		newTokenCmd(), newSimCmd(), newSyncCmd(), newIntegrationCmd(), newRequestCmd(), newListCmd(), newAuditCmd(), newVersionCmd(),
		newWhoamiCmd(), newLoginCmd(), newLogoutCmd(), newUserCmd(), newSessionCmd(), newSAMLCmd(), newAppsCmd(), newAWSCmd(), newSCIMCmd())
	root.SuggestionsMinimumDistance = 2
	for _, c := range root.Commands() {
		strictParents(c)
	}
	return root
}

// strictParents makes every command that only groups others (warden request, warden sync, warden
// list members...) refuse what is not one of them, with suggestions, as the top level does:
// "warden request craete" is an error, not the help and exit 0. Given nothing, such a command
// shows its help.
func strictParents(c *cobra.Command) {
	if !c.HasSubCommands() {
		return
	}
	for _, sub := range c.Commands() {
		strictParents(sub)
	}
	if c.Runnable() {
		return
	}
	c.SuggestionsMinimumDistance = 2
	c.DisableFlagsInUseLine = true
	// Flags meant for the subcommand (warden request craete --roles x) must not hide its misspelling.
	c.FParseErrWhitelist.UnknownFlags = true
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return errors.New(msg + "\n\nRun '" + cmd.CommandPath() + " --help' for its commands.")
	}
	c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print warden's version: the module version, the commit it was built from, the Go release",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, args []string) { fmt.Fprint(cmd.OutOrStdout(), versionText()) },
	}
}

func versionText() string {
	info, _ := debug.ReadBuildInfo()
	return formatVersion(version, commit, info)
}

// formatVersion says which warden this is: its version (set at build time, else the module's
// version as Go recorded it), its module, the commit it was built from (set at build time, else the
// one Go recorded when it built in a git checkout) and the Go release and platform.
func formatVersion(version, commit string, info *debug.BuildInfo) string {
	module, goVersion := "github.com/wardenhq/warden", runtime.Version()
	var at string
	modified := false
	if info != nil {
		if info.Main.Path != "" {
			module = info.Main.Path
		}
		if version == "" && info.Main.Version != "" {
			version = info.Main.Version
		}
		goVersion = info.GoVersion
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.time":
				at = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" || version == "(devel)" {
		version = "(devel): built from source without a version"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "warden %s\nmodule %s\n", version, module)
	switch {
	case commit == "":
		b.WriteString("commit unknown: built without version control information (go run, or -buildvcs=false)\n")
	default:
		fmt.Fprintf(&b, "commit %s", commit)
		var notes []string
		if at != "" {
			notes = append(notes, at)
		}
		if modified {
			notes = append(notes, "with uncommitted changes")
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "%s %s/%s\n", goVersion, runtime.GOOS, runtime.GOARCH)
	return b.String()
}
