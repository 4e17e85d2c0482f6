package boot

import (
	"os"
	"strings"
)

// bootText is the kernel's random identity of this boot.
func bootText() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return "linux " + strings.TrimSpace(string(b))
}
