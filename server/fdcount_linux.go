package server

import (
	"encoding/binary"
	"syscall"
)

// openFiles counts the process's open descriptors, or returns -1 when it
// cannot. It is called when descriptors run out, perhaps for many clients
// in a row, so it reads /proc/self/fd into a buffer on the stack and
// allocates no name: a record of the directory (struct linux_dirent64) is
// 8 bytes of inode, 8 of offset, 2 of length and 1 of type, then the name.
func openFiles() int {
	fd, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	defer syscall.Close(fd)
	var buf [8 << 10]byte
	n := -1 // fd itself is listed
	for range 1 << 20 {
		k, err := syscall.ReadDirent(fd, buf[:])
		if err != nil {
			return -1
		}
		if k == 0 {
			return n
		}
		for b := buf[:k]; len(b) > 18; {
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			if reclen == 0 || reclen > len(b) {
				return -1
			}
			if b[18] != syscall.DT_DIR { // "." and ".." are the directories
				n++
			}
			b = b[reclen:]
		}
	}
	return -1
}
