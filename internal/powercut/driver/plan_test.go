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
	for _, log := range []bool{false, true} {
		for _, cache := range []bool{false, true} {
			seen := map[string]int{}
			for range 2000 {
				p := newPlan(rng, 4*time.Second, cache, log)
				seen[p.name()]++
				if p.at == "boot" && (p.delay < 2*time.Second || p.delay > 5*time.Second) {
					t.Errorf("boot plan %v: not around the boot time", p)
				}
				if p.at == flushPlan && (p.after < 1 || p.writes < 1) {
					t.Errorf("flush plan %+v", p)
				}
				if p.at != "boot" && p.at != "run" && p.after < 1 {
					t.Errorf("plan %+v waits for no line", p)
				}
			}
			for _, at := range []string{"boot", "run", "grow", "sync", "truncate", "published", "spilled", "rolling", "dropping", flushPlan, "flush:header", "flush:slot"} {
				want := cache || !strings.HasPrefix(at, flushPlan)
				switch at {
				case "grow", "truncate", "spilled":
					want = want && !log
				case "rolling", "dropping":
					want = want && log
				}
				if (seen[at] > 0) != want {
					t.Errorf("log %v, cache %v: %d plans at %s", log, cache, seen[at], at)
				}
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
