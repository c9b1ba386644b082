package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/wardenhq/warden/internal/resource"
	"github.com/wardenhq/warden/internal/store"
)

// Bench runs the store benchmarks: single writes per second, bulk writes, and listing 100,000 users.
func Bench(b *testing.B, newDB Factory) {
	b.Run("Create", func(b *testing.B) {
		s := newDB(b)()
		defer s.Close()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := s.Create(ctx, user(fmt.Sprintf("user%09d", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	})
	b.Run("Update", func(b *testing.B) {
		s := newDB(b)()
		defer s.Close()
		ctx := context.Background()
		u := user("hot")
		if err := s.Create(ctx, u); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			u.Spec.(*resource.UserSpec).DisplayName = fmt.Sprint(i)
			if err := s.Update(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
	})
	b.Run("CreateMany1000", func(b *testing.B) {
		s := newDB(b)()
		defer s.Close()
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			batch := make([]*resource.Object, 1000)
			for j := range batch {
				batch[j] = member(fmt.Sprintf("list%06d", i), fmt.Sprintf("user%04d", j))
			}
			if err := s.CreateMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "objects/s")
	})
	b.Run("List100kUsers", func(b *testing.B) {
		s := newDB(b)()
		defer s.Close()
		ctx := context.Background()
		for lo := 0; lo < 100_000; lo += 10_000 {
			batch := make([]*resource.Object, 0, 10_000)
			for i := lo; i < lo+10_000; i++ {
				batch = append(batch, user(fmt.Sprintf("user%06d", i)))
			}
			if err := s.CreateMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			all, err := s.List(ctx, resource.KindUser, store.ListOptions{})
			if err != nil || len(all) != 100_000 {
				b.Fatalf("listed %d: %v", len(all), err)
			}
		}
	})
}
