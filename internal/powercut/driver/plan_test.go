//go:build linux

package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestNewPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cache := range []bool{false, true} {
		seen := map[string]int{}
		for range 2000 {
			p := newPlan(rng, 4*time.Second, cache)
			seen[p.at]++
			if p.at == "boot" && (p.delay < 2*time.Second || p.delay > 5*time.Second) {
				t.Errorf("boot plan %v: not around the boot time", p)
			}
			if p.at == flushPlan && (p.after < 1 || p.writes < 1) {
				t.Errorf("flush plan %+v", p)
			}
		}
		for _, at := range []string{"boot", "run", "grow", "sync", "truncate", flushPlan} {
			if want := cache || at != flushPlan; (seen[at] > 0) != want {
				t.Errorf("cache %v: %d plans at %s", cache, seen[at], at)
			}
		}
	}
}
