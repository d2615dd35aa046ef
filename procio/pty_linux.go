//go:build linux

package procio

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal for a program's stdout: master is ours,
// read like a pipe's read end; slave is the program's. The terminal is in
// raw mode (termios as cfmakeraw(3) leaves it), so that what the program
// writes arrives unchanged, and has the window size size.
//
// The ioctls go through golang.org/x/sys/unix rather than hand-written
// syscalls: it has them typed for every architecture.
func openPty(size WindowSize) (master, slave *os.File, err error) {
	// Non-blocking: os.NewFile then puts it in the runtime's poller, and it
	// is read, watched and given deadlines as a pipe is.
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/ptmx: %w", err)
	}
	sfd, name, err := openSlave(mfd, size)
	if err != nil {
		unix.Close(mfd)
		return nil, nil, err
	}
	// The slave stays blocking: it is the program's stdout, and a program
	// does not expect EAGAIN from it.
	return os.NewFile(uintptr(mfd), "/dev/ptmx"), os.NewFile(uintptr(sfd), name), nil
}

// openSlave unlocks and opens the terminal of the master mfd (what
// unlockpt(3) and ptsname(3) do), and sets it up.
func openSlave(mfd int, size WindowSize) (int, string, error) {
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		return -1, "", fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		return -1, "", fmt.Errorf("pty number: %w", err)
	}
	name := "/dev/pts/" + strconv.Itoa(n)
	// O_NOCTTY: the terminal is the program's stdout, never its
	// controlling terminal (the package documentation, "Terminal").
	sfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, "", fmt.Errorf("open %s: %w", name, err)
	}
	if err := setRaw(sfd, size); err != nil {
		unix.Close(sfd)
		return -1, "", err
	}
	return sfd, name, nil
}

// setRaw puts the terminal fd in raw mode and sets its window size. Raw
// mode matters for output: without output processing (OPOST) a '\n' stays
// a '\n' where a terminal would write "\r\n" (ONLCR). Echo and the input
// flags only act on what is written to the master, which procio never
// does; they are off all the same, so that nothing the program might
// write to its own terminal could come back as output.
func setRaw(fd int, size WindowSize) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return fmt.Errorf("pty termios: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST | unix.ONLCR
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		return fmt.Errorf("pty termios: %w", err)
	}
	ws := &unix.Winsize{Col: size.Columns, Row: size.Rows}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("pty window size: %w", err)
	}
	return nil
}
