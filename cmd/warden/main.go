// Command warden is the access plane for AWS IAM Identity Center: the server, the demo, and the
// command-line client of its API.
package main

import (
	"errors"
	"fmt"
	"os"

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
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print warden's version",
		Args:  cobra.NoArgs,
		Run:   func(cmd *cobra.Command, args []string) { fmt.Fprintln(cmd.OutOrStdout(), "warden", version) },
	}
}
