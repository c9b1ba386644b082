package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wardenhq/warden/internal/awsconfig"
)

func newAWSCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "aws",
		Short: "The AWS CLI through warden: profiles for what you hold",
	}
	var cf clientFlags
	var file, session, template, region, output, endpoint string
	var dryRun, requestable bool
	config := &cobra.Command{
		Use:   "config [--file FILE] [--dry-run] [--requestable] [--session-name NAME] [--name-template T] [--region R] [--output O]",
		Short: "Write your AWS CLI profiles (an sso-session and a profile per account × permission set you hold) into ~/.aws/config",
		Long: "Writes, into warden's marked block of the AWS CLI's config file (--file, else AWS_CONFIG_FILE, else ~/.aws/config),\n" +
			"an [sso-session] and one profile per account × permission set you hold now (with --requestable, also\n" +
			"those you may request, marked with the command that requests each). The rest of the file is kept byte\n" +
			"for byte; a profile of yours with the name warden would use keeps it, and warden's is renamed.\n" +
			"--dry-run prints what would change instead.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := awsconfig.Options{Session: session, Template: template, Region: region, Output: output}
			if endpoint != "" {
				u, err := url.Parse(endpoint)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || strings.ContainsAny(endpoint, " \t\r\n") {
					return fmt.Errorf("--endpoint-url: %q is not an http(s) URL such as http://127.0.0.1:8421", endpoint)
				}
				o.Services, o.Endpoints = awsconfig.EndpointsSection, awsconfig.DemoEndpoints(strings.TrimSuffix(endpoint, "/"))
			}
			// Checked here too, so a mistake is named before the server is asked.
			if template != "" {
				if _, err := awsconfig.NewNamer(template); err != nil {
					return fmt.Errorf("--name-template: %w", err)
				}
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"session_name": session, "name_template": template, "region": region, "output": output} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if requestable {
				q.Set("requestable", "true")
			}
			got, err := c.AWSConfig(cmd.Context(), q)
			if err != nil {
				return err
			}
			o.Session, o.StartURL, o.SSORegion = got.Session.Name, got.Session.StartURL, got.Session.Region
			entries := make([]awsconfig.Entry, len(got.Profiles))
			for i, p := range got.Profiles {
				entries[i] = p.Entry
			}
			path := file
			if path == "" {
				path = os.Getenv("AWS_CONFIG_FILE")
			}
			if path == "" {
				home, err := os.UserHomeDir()
				if err != nil {
					return fmt.Errorf("no home directory for ~/.aws/config (give --file): %w", err)
				}
				path = filepath.Join(home, ".aws", "config")
			}
			old, mode, err := readConfigFile(path)
			if err != nil {
				return err
			}
			merged, cfg, err := awsconfig.Merge(old, o, entries)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			for _, w := range cfg.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s\n", w)
			}
			out := cmd.OutOrStdout()
			held, req := 0, 0
			for _, p := range cfg.Profiles {
				if p.Requestable {
					req++
				} else {
					held++
				}
			}
			summary := fmt.Sprintf("%d profile(s) you hold", held)
			if requestable {
				summary += fmt.Sprintf(", %d you may request", req)
			}
			if dryRun {
				if d := awsconfig.Diff(old, merged, path); d != "" {
					fmt.Fprint(out, d)
				} else {
					fmt.Fprintf(out, "%s: no change (%s)\n", path, summary)
				}
				return nil
			}
			if bytes.Equal(old, merged) {
				fmt.Fprintf(out, "%s: up to date (%s, sso-session %s)\n", path, summary, cfg.Session.Name)
				return nil
			}
			if err := writeConfigFile(path, merged, mode); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: wrote %s in sso-session %s\n", path, summary, cfg.Session.Name)
			fmt.Fprintf(out, "sign in with: aws sso login --sso-session %s\n", cfg.Session.Name)
			for _, p := range cfg.Profiles {
				if !p.Requestable {
					fmt.Fprintf(out, "then, e.g.:   aws sts get-caller-identity --profile %s\n", p.Name)
					break
				}
			}
			return nil
		},
	}
	config.Flags().StringVar(&file, "file", "", "the AWS CLI config file (default: AWS_CONFIG_FILE, else ~/.aws/config)")
	config.Flags().BoolVar(&dryRun, "dry-run", false, "print what would change; write nothing")
	config.Flags().BoolVar(&requestable, "requestable", false, "also profiles for what you may request, marked as such")
	config.Flags().StringVar(&session, "session-name", "", "the sso-session's name (default "+awsconfig.DefaultSession+")")
	config.Flags().StringVar(&template, "name-template", "", "profile names, a Go template over .PermissionSet, .Account (the account's name lowercased, other than [a-z0-9-] as -), .AccountName, .AccountID (default "+awsconfig.DefaultTemplate+")")
	config.Flags().StringVar(&region, "region", "", "the profiles' region (default: Identity Center's)")
	config.Flags().StringVar(&output, "output", "", "the profiles' output format (default "+awsconfig.DefaultOutput+")")
	config.Flags().StringVar(&endpoint, "endpoint-url", "", "send the sign-in's AWS clients (SSO OIDC, the portal, STS) to this URL through a [services] section: for a simulator such as warden demo's (read by AWS CLI 2.13 and later and the SDKs)")
	cf.register(config)
	cmd.AddCommand(config)
	return cmd
}

// readConfigFile reads an AWS config file, bounded; a file that does not exist is empty (mode 0600).
func readConfigFile(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0o600, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, awsconfig.MaxFile+1))
	if err != nil {
		return nil, 0, err
	}
	if len(b) > awsconfig.MaxFile {
		return nil, 0, fmt.Errorf("%s is larger than %d bytes: not an AWS config file warden will rewrite", path, awsconfig.MaxFile)
	}
	return b, st.Mode().Perm(), nil
}

// writeConfigFile replaces path with data at once (a temporary file renamed over it), keeping its
// mode; through a symbolic link, the file it points to.
func writeConfigFile(path string, data []byte, mode fs.FileMode) error {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".config-warden-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
