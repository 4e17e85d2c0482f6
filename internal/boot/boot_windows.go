package boot

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// timeOfDay is the SYSTEM_TIMEOFDAY_INFORMATION that
// NtQuerySystemInformation returns.
type timeOfDay struct {
	BootTime      int64
	CurrentTime   int64
	TimeZoneBias  int64
	TimeZoneID    uint32
	_             uint32
	BootTimeBias  uint64
	SleepTimeBias uint64
}

// bootText is the time this boot began: the boot time less the amount by
// which setting the clock has moved it since, which is the same for the
// whole boot.
func bootText() string {
	var t timeOfDay
	var n uint32
	if err := windows.NtQuerySystemInformation(windows.SystemTimeOfDayInformation, unsafe.Pointer(&t), uint32(unsafe.Sizeof(t)), &n); err != nil {
		return ""
	}
	return fmt.Sprintf("windows %d", t.BootTime-int64(t.BootTimeBias))
}
