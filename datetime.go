package mmap

import (
	"math"
	"time"
)

// Numpy's datetime64 and timedelta64, as a field of an Array's record holds
// them: an int64 whose tag asks for the numpy type and names the unit,
// `npy:"time,M8[ns]"` or `npy:",m8[us]"` (see [Descr]). These convert such
// a value to and from Go's time types, one value at a time, so that a
// reader converts the records it reads without copying the array.

// NaT is numpy's "not a time": the value of a datetime64 or timedelta64
// that holds no time.
const NaT = math.MinInt64

// maxUnix bounds the seconds since 1970 of a time.Time, which counts from
// the year 1 in an int64.
const maxUnix = math.MaxInt64 - 1<<40

// units are the datetime64 units of a fixed length, as the seconds and the
// fraction of a second they hold: per units of a second, or times seconds.
var units = map[string]struct {
	seconds int64 // a unit of a second or longer: its seconds
	perSec  int64 // a unit shorter than a second: how many make one
}{
	"W": {seconds: 7 * 86400}, "D": {seconds: 86400}, "h": {seconds: 3600}, "m": {seconds: 60}, "s": {seconds: 1},
	"ms": {perSec: 1e3}, "us": {perSec: 1e6}, "ns": {perSec: 1e9},
	"ps": {perSec: 1e12}, "fs": {perSec: 1e15}, "as": {perSec: 1e18},
}

// TimeOf returns the time, in UTC, that v stands for as a numpy
// datetime64 of unit ("ns", "us", "ms", "s", "m", "h", "D", "W", "M", "Y",
// "ps", "fs", "as": what the field's tag names in M8[unit]). It is false
// for NaT, for a unit numpy does not have, and for a time that time.Time
// cannot hold.
func TimeOf(v int64, unit string) (time.Time, bool) {
	if v == NaT {
		return time.Time{}, false
	}
	switch unit {
	case "Y":
		if v < -1e9 || v > 1e9 {
			return time.Time{}, false
		}
		return time.Date(1970+int(v), time.January, 1, 0, 0, 0, 0, time.UTC), true
	case "M":
		if v < -1e10 || v > 1e10 {
			return time.Time{}, false
		}
		return time.Date(1970, time.January+time.Month(v), 1, 0, 0, 0, 0, time.UTC), true
	}
	u, ok := units[unit]
	switch {
	case !ok:
		return time.Time{}, false
	case u.seconds > 0:
		if v > maxUnix/u.seconds || v < -maxUnix/u.seconds {
			return time.Time{}, false
		}
		return time.Unix(v*u.seconds, 0).UTC(), true
	}
	sec, frac := floorDiv(v, u.perSec)
	if u.perSec <= 1e9 {
		return time.Unix(sec, frac*(1e9/u.perSec)).UTC(), true
	}
	return time.Unix(sec, frac/(u.perSec/1e9)).UTC(), true
}

// Datetime64 returns t as a numpy datetime64 of unit (as TimeOf), the
// last value of that unit at or before t. It is false for a unit numpy
// does not have, and for a time that the unit cannot count in an int64.
func Datetime64(t time.Time, unit string) (int64, bool) {
	t = t.UTC()
	switch unit {
	case "Y":
		return int64(t.Year() - 1970), true
	case "M":
		return int64(t.Year()-1970)*12 + int64(t.Month()-time.January), true
	}
	u, ok := units[unit]
	if !ok {
		return 0, false
	}
	sec, nsec := t.Unix(), int64(t.Nanosecond())
	if u.seconds > 0 {
		q, _ := floorDiv(sec, u.seconds)
		return q, true
	}
	if sec > (math.MaxInt64-u.perSec)/u.perSec || sec < math.MinInt64/u.perSec+1 {
		return 0, false
	}
	if u.perSec <= 1e9 {
		return sec*u.perSec + nsec/(1e9/u.perSec), true
	}
	return sec*u.perSec + nsec*(u.perSec/1e9), true
}

// DurationOf returns the duration that v stands for as a numpy
// timedelta64 of unit (as TimeOf, but for "M" and "Y", which have no fixed
// length). It is false for NaT, for a unit it does not have, and for a
// duration that time.Duration cannot hold.
func DurationOf(v int64, unit string) (time.Duration, bool) {
	u, ok := units[unit]
	switch {
	case v == NaT || !ok:
		return 0, false
	case u.seconds > 0:
		if v > math.MaxInt64/(u.seconds*1e9) || v < math.MinInt64/(u.seconds*1e9) {
			return 0, false
		}
		return time.Duration(v * u.seconds * 1e9), true
	case u.perSec <= 1e9:
		per := 1e9 / u.perSec
		if v > math.MaxInt64/per || v < math.MinInt64/per {
			return 0, false
		}
		return time.Duration(v * per), true
	}
	q, _ := floorDiv(v, u.perSec/1e9)
	return time.Duration(q), true
}

// floorDiv divides a by b > 0, rounding down: q*b + r == a, 0 <= r < b.
func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}
