package mmap

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTimeOfAgreesWithNumpy converts datetime64 and timedelta64 values of
// every unit as numpy does, and back.
func TestTimeOfAgreesWithNumpy(t *testing.T) {
	values := []int64{0, 1, -1, 59, -61, 1_000_003, -86_400_001, 1_764_763_200_123, 40_000, -40_000, 1 << 40}
	names := []string{"Y", "M"}
	for u := range units {
		names = append(names, u)
	}
	var args []string
	for _, v := range values {
		args = append(args, strconv.FormatInt(v, 10))
	}
	out := python(t, `
units, values = sys.argv[1].split(','), [int(v) for v in sys.argv[2:]]
ns_per = {'W': 7 * 86400 * 10**9, 'D': 86400 * 10**9, 'h': 3600 * 10**9, 'm': 60 * 10**9, 's': 10**9, 'ms': 10**6, 'us': 10**3, 'ns': 1}
for u in units:
    for v in values:
        per = {'ps': 10**12, 'fs': 10**15, 'as': 10**18}.get(u)
        if per:  # numpy cannot subtract seconds from these: exact integers
            secs, ns = v // per, (v % per) * 10**9 // per
        else:
            d = np.datetime64(v, u)
            s = d.astype('M8[s]')
            secs, ns = int(s.astype(np.int64)), int((d - s).astype('m8[ns]').astype(np.int64))
        if u in 'YM' and abs(v) > 10**6:
            secs = 'over'  # numpy wraps what its seconds cannot count
        # numpy wraps a timedelta that overflows: the exact value says.
        exact = v * ns_per[u] if u in ns_per else None
        if u in 'YM':
            dur = 'none'
        elif exact is not None and not -2**63 < exact < 2**63:
            dur = 'over'
        else:
            dur = int(np.timedelta64(v, u).astype('m8[ns]').astype(np.int64))
        print(u, v, secs, ns, dur)
`, append([]string{strings.Join(names, ",")}, args...)...)
	checked := 0
	for line := range strings.Lines(out) {
		var unit, secs, dur string
		var v, ns int64
		if _, err := fmt.Sscan(line, &unit, &v, &secs, &ns, &dur); err != nil {
			t.Fatalf("numpy said %q: %v", line, err)
		}
		got, ok := TimeOf(v, unit)
		if secs != "over" {
			s, _ := strconv.ParseInt(secs, 10, 64)
			if want := time.Unix(s, ns).UTC(); !ok || !got.Equal(want) {
				t.Errorf("TimeOf(%d, %q) = %v, %v; numpy says %v", v, unit, got, ok, want)
			}
			back, ok := Datetime64(got, unit)
			if sub := unit == "ps" || unit == "fs" || unit == "as"; !ok || (!sub && back != v) {
				t.Errorf("Datetime64(TimeOf(%d, %q)) = %d, %v", v, unit, back, ok)
			}
			checked++
		}
		switch d, ok := DurationOf(v, unit); dur {
		case "none", "over":
			if ok && dur == "none" {
				t.Errorf("DurationOf(%d, %q) = %v; a %s has no fixed length", v, unit, d, unit)
			}
		default:
			want, _ := strconv.ParseInt(dur, 10, 64)
			if !ok || int64(d) != want {
				t.Errorf("DurationOf(%d, %q) = %v, %v; numpy says %dns", v, unit, d, ok, want)
			}
		}
	}
	if checked < 100 {
		t.Errorf("numpy converted %d values; want more than 100", checked)
	}
	for _, c := range []struct {
		v    int64
		unit string
	}{{NaT, "ns"}, {5, "fortnight"}, {math.MaxInt64, "s"}, {math.MinInt64 + 1, "W"}, {1 << 62, "Y"}, {1 << 62, "M"}} {
		if got, ok := TimeOf(c.v, c.unit); ok {
			t.Errorf("TimeOf(%d, %q) = %v; want false", c.v, c.unit, got)
		}
	}
	if d, ok := DurationOf(NaT, "s"); ok {
		t.Errorf("DurationOf(NaT) = %v; want false", d)
	}
	if d, ok := DurationOf(math.MaxInt64/1000+1, "us"); ok {
		t.Errorf("DurationOf of an overflow = %v; want false", d)
	}
	if v, ok := Datetime64(time.Now(), "fortnight"); ok {
		t.Errorf("Datetime64 in an unknown unit = %d; want false", v)
	}
	if v, ok := Datetime64(time.Date(2500, 1, 1, 0, 0, 0, 0, time.UTC), "ns"); ok {
		t.Errorf("Datetime64 of 2500 in ns = %d; want false: it overflows", v)
	}
	if v, ok := Datetime64(time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC), "ms"); !ok || v != -1 {
		t.Errorf("Datetime64 just before 1970 in ms = %d, %v; want -1", v, ok)
	}
}
