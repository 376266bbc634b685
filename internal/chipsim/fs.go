package chipsim

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The eMRTD file system (Doc 9303 Part 10 §3): EF.CardAccess in the master
// file, the LDS files inside the eMRTD application.

// AID is the eMRTD LDS1 application identifier.
var AID = []byte{0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01}

// File names accepted in Config.Files.
const (
	FileCardAccess = "CardAccess" // FID 011C, SFI 1C, master file, read without access control
	FileCOM        = "COM"        // FID 011E, SFI 1E
	FileSOD        = "SOD"        // FID 011D, SFI 1D
	// DG1 … DG16: FID 0101 … 0110, SFI 01 … 10.
)

// fileInfo places a named file.
type fileInfo struct {
	name string
	fid  uint16
	sfi  byte
	inMF bool // master file, not the application
	free bool // readable before BAC/PACE
}

// lookupName returns where a named file lives.
func lookupName(name string) (fileInfo, bool) {
	switch name {
	case FileCardAccess:
		return fileInfo{name, 0x011C, 0x1C, true, true}, true
	case FileCOM:
		return fileInfo{name, 0x011E, 0x1E, false, false}, true
	case FileSOD:
		return fileInfo{name, 0x011D, 0x1D, false, false}, true
	}
	if n, ok := DGNumber(name); ok {
		return fileInfo{name, 0x0100 + uint16(n), byte(n), false, false}, true
	}
	return fileInfo{}, false
}

// DGNumber parses "DG1" … "DG16".
func DGNumber(name string) (int, bool) {
	if !strings.HasPrefix(name, "DG") {
		return 0, false
	}
	n, err := strconv.Atoi(name[2:])
	if err != nil || n < 1 || n > 16 || name[2:] != strconv.Itoa(n) {
		return 0, false
	}
	return n, true
}

type file struct {
	fileInfo
	data []byte
}

// fileSystem holds the files of one card.
type fileSystem struct {
	files []*file
}

func newFileSystem(named map[string][]byte) (*fileSystem, error) {
	fs := &fileSystem{}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		info, ok := lookupName(n)
		if !ok {
			return nil, fmt.Errorf("%w: unknown file %q (want CardAccess, COM, SOD or DG1…DG16)", ErrConfig, n)
		}
		fs.files = append(fs.files, &file{fileInfo: info, data: append([]byte(nil), named[n]...)})
	}
	return fs, nil
}

func (fs *fileSystem) byFID(fid uint16, inMF bool) *file {
	for _, f := range fs.files {
		if f.fid == fid && f.inMF == inMF {
			return f
		}
	}
	return nil
}

func (fs *fileSystem) bySFI(sfi byte, inMF bool) *file {
	for _, f := range fs.files {
		if f.sfi == sfi && f.inMF == inMF {
			return f
		}
	}
	return nil
}

func (fs *fileSystem) byName(name string) *file {
	for _, f := range fs.files {
		if f.name == name {
			return f
		}
	}
	return nil
}
