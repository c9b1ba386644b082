//go:build race

package reconcile_test

func init() { raceBuild = true }
