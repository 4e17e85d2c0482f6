package boot

import "golang.org/x/sys/unix"

// bootText is the kernel's identity of this boot session.
func bootText() string {
	id, err := unix.Sysctl("kern.bootsessionuuid")
	if err != nil || id == "" {
		return ""
	}
	return "darwin " + id
}
