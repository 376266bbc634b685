package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// diskFullChild caps this (child) process's file size so bbolt's growth
// fails with EFBIG, the closest unprivileged stand-in for ENOSPC.
func diskFullChild(t *testing.T, dir string) {
	signal.Ignore(syscall.SIGXFSZ) // get EFBIG from write instead of dying
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 1 << 20
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Fatal(err)
	}
	o, err := Open(filepath.Join(dir, "outbox.db"), testKey(t), Options{UnitID: "desk-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	big := json.RawMessage(`"` + strings.Repeat("x", 16<<10) + `"`)
	stored := 0
	var ferr error
	for range 400 {
		if _, ferr = o.Enqueue(context.Background(), Item{Kind: "result", Priority: Hit, Payload: big}); ferr != nil {
			break
		}
		stored++
	}
	if !errors.Is(ferr, ErrDiskFull) || !o.Status().DiskFull {
		t.Fatalf("after %d items: err = %v, want ErrDiskFull", stored, ferr)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Enqueue(context.Background(), Item{Kind: "result", Priority: Hit, Payload: payload(1)}); err != nil {
		t.Fatalf("Enqueue after lifting the limit: %v", err)
	}
	recs, err := o.Peek(1000, 0)
	if err != nil || len(recs) != stored+1 || o.Status().DiskFull {
		t.Fatalf("Peek = %d, %v; want %d", len(recs), err, stored+1)
	}
	fmt.Println("DISKFULL-OK")
}

func keysOf(recs []Record) []string {
	var ks []string
	for _, r := range recs {
		ks = append(ks, r.Key)
	}
	return ks
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
