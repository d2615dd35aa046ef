package rawread

import (
	"errors"
	"io"
	"os"
	"syscall"
	"testing"
)

func TestRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fd := r.Fd() // Fd makes the file blocking: take it once, then make it not
	if err := syscall.SetNonblock(int(fd), true); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := Read(fd, buf); n != 0 || err != ErrWouldBlock {
		t.Fatalf("empty pipe: %d, %v; want ErrWouldBlock", n, err)
	}
	w.Write([]byte("hi"))
	if n, err := Read(fd, buf); n != 2 || err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read %q, %v; want \"hi\"", buf[:n], err)
	}
	w.Close()
	if n, err := Read(fd, buf); n != 0 || err != io.EOF {
		t.Fatalf("closed pipe: %d, %v; want EOF", n, err)
	}
	var se *os.SyscallError
	if _, err := Read(^uintptr(0), buf); !errors.As(err, &se) {
		t.Fatalf("bad fd: %v, want a *os.SyscallError", err)
	}
}
