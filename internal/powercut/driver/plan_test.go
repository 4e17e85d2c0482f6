//go:build linux

package main

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestNewPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, cache := range []bool{false, true} {
		seen := map[string]int{}
		for range 2000 {
			p := newPlan(rng, 4*time.Second, cache)
			seen[p.name()]++
			if p.at == "boot" && (p.delay < 2*time.Second || p.delay > 5*time.Second) {
				t.Errorf("boot plan %v: not around the boot time", p)
			}
			if p.at == flushPlan && (p.after < 1 || p.writes < 1) {
				t.Errorf("flush plan %+v", p)
			}
		}
		for _, at := range []string{"boot", "run", "grow", "sync", "truncate", "published", "spilled", flushPlan, "flush:header", "flush:slot"} {
			if want := cache || !strings.HasPrefix(at, flushPlan); (seen[at] > 0) != want {
				t.Errorf("cache %v: %d plans at %s", cache, seen[at], at)
			}
		}
	}
}

func TestPlanTakes(t *testing.T) {
	for _, c := range []struct {
		p      plan
		writes int
		w      waiting
		want   bool
	}{
		{plan{at: flushPlan, writes: 2}, 1, waiting{}, false},
		{plan{at: flushPlan, writes: 2}, 2, waiting{}, true},
		{plan{at: flushPlan, writes: 1, hold: "slot"}, 3, waiting{header: true}, false},
		{plan{at: flushPlan, writes: 1, hold: "slot"}, 3, waiting{header: true, slot: true}, true},
		{plan{at: flushPlan, writes: 1, hold: "header"}, 3, waiting{header: true, slot: true}, false},
		{plan{at: flushPlan, writes: 1, hold: "header"}, 3, waiting{header: true, live: true}, true},
		{plan{at: "sync"}, 3, waiting{header: true}, false},
	} {
		if got := c.p.takes(c.writes, c.w); got != c.want {
			t.Errorf("%v takes a flush of %d writes holding %v: %v, want %v", c.p, c.writes, c.w, got, c.want)
		}
	}
}
