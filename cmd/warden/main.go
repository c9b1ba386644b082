// Command warden is the access plane for AWS IAM Identity Center: the server, the demo, and the
// command-line client of its API.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

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
	}
	root.AddCommand(newServeCmd(), newDemoCmd(), newCreateCmd(), newApplyCmd(), newGetCmd(), newDeleteCmd(),
		newTokenCmd(), newSimCmd(), newSyncCmd(), newIntegrationCmd(), newRequestCmd(), newListCmd(), newAuditCmd(), newVersionCmd())
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
		Short: "Print warden's version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, args []string) { fmt.Fprintln(cmd.OutOrStdout(), "warden", version) },
	}
}
