// Package pgtest gives tests a PostgreSQL database of their own: a fresh schema in the database named
// by WARDEN_TEST_POSTGRES, dropped when the test ends. Without the variable the test is skipped
// locally and fails in CI (CI=true), where PostgreSQL must be tested.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/wardenhq/warden/internal/testenv"
)

// DSN returns a connection string whose search_path is a new, empty schema.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("WARDEN_TEST_POSTGRES")
	if base == "" {
		testenv.Need(t, errors.New("WARDEN_TEST_POSTGRES is not set (a PostgreSQL DSN)"))
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to WARDEN_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		if strings.Contains(base, "?") {
			return base + "&search_path=" + schema
		}
		return base + "?search_path=" + schema
	}
	return base + " search_path=" + schema
}
