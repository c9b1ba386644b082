package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/wardenhq/warden/internal/awsconfig"
	"github.com/wardenhq/warden/internal/server"
)

// demoAWSServices names the services section of the demo's AWS configs: the simulator as the
// sso_oidc, sso and sts endpoints (for AWS CLIs from 2.13 and the SDKs, which read it).
const demoAWSServices = awsconfig.EndpointsSection

// demoAWSConfigs writes, for each sample person, <dataDir>/aws/<user>.config: warden's block with
// what they hold and may request, pointed at the simulator. A file of an earlier run keeps what
// was added to it outside the block. It returns the directory and dan's file.
func demoAWSConfigs(ctx context.Context, srv *server.Server, dataDir, simURL string, people []demoPerson) (string, error) {
	o, err := srv.AWSOptions(ctx)
	if err != nil {
		return "", err
	}
	o.Services = demoAWSServices
	o.Endpoints = awsconfig.DemoEndpoints(simURL)
	dir := filepath.Join(dataDir, "aws")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, p := range people {
		entries, err := srv.AWSEntries(ctx, p.User, true)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, p.User+".config")
		old, mode, err := readConfigFile(path)
		if err != nil {
			return "", err
		}
		merged, _, err := awsconfig.Merge(old, o, entries)
		if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		if err := writeConfigFile(path, merged, mode); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// printAWSConfigs says where the people's AWS configs are and how to use one.
func printAWSConfigs(w io.Writer, dir string) {
	fmt.Fprintf(w, "\nAWS CLI profiles for each sample person (what they hold and may request) are in %s; e.g.\n", dir)
	fmt.Fprintf(w, "AWS_CONFIG_FILE=%s aws sso login --profile %s (AWS CLI 2.13 or later).\n",
		shellQuote(filepath.Join(dir, demoRequester+".config")), demoTarget)
}
