package main

import "testing"

// The local admin token is only ever sent to a server on this machine.
func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8420": true, "http://127.0.0.1:8420": true, "http://localhost:1": true,
		"http://[::1]:8420": true, "127.5.0.1:80": true, "https://warden.example.com": false,
		"10.0.0.1:8420": false, "http://192.168.1.2": false, "": false, "http://localhost.evil.com": false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
