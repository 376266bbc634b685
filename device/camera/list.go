package camera

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DeviceInfo describes one V4L2 video node found in sysfs.
type DeviceInfo struct {
	// Path is the device node, e.g. /dev/video0 (under List's devRoot).
	Path string `json:"path"`
	// Index is N of videoN: what Config.Device accepts as "N".
	Index int `json:"index"`
	// Name is the driver's name for the camera (sysfs "name").
	Name string `json:"name"`
	// NodeIndex is the node's rank within its camera (sysfs "index"): UVC
	// cameras expose a capture node (0) and a metadata node (1).
	NodeIndex int `json:"node_index"`
	// Capture is true for the node to open for pictures (NodeIndex 0).
	Capture bool `json:"capture"`
	// VendorID, ProductID and Serial identify a USB camera, so that a
	// configuration can survive renumbering; empty for other buses.
	VendorID  string `json:"vendor_id,omitempty"`
	ProductID string `json:"product_id,omitempty"`
	Serial    string `json:"serial,omitempty"`
	// Present is false when sysfs lists the node but devRoot lacks it.
	Present bool `json:"present"`
}

// List returns the V4L2 nodes under sysfsRoot/class/video4linux (sysfsRoot
// is normally /sys), ordered by index, with device paths under devRoot
// (normally /dev). No video4linux class — no camera driver loaded — is an
// empty list, not an error.
func List(sysfsRoot, devRoot string) ([]DeviceInfo, error) {
	dir := filepath.Join(sysfsRoot, "class", "video4linux")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("camera: list %s: %w", dir, err)
	}
	var out []DeviceInfo
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "video") {
			continue
		}
		n, err := strconv.Atoi(strings.TrimPrefix(name, "video"))
		if err != nil || n < 0 {
			continue
		}
		node := filepath.Join(dir, name)
		d := DeviceInfo{
			Path:  filepath.Join(devRoot, name),
			Index: n,
			Name:  readAttr(node, "name"),
		}
		if s := readAttr(node, "index"); s != "" {
			d.NodeIndex, _ = strconv.Atoi(s)
		}
		d.Capture = d.NodeIndex == 0
		d.VendorID, d.ProductID, d.Serial = usbIDs(node)
		if _, err := os.Stat(d.Path); err == nil {
			d.Present = true
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out, nil
}

func readAttr(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// usbIDs walks up from the node's device (a USB interface) to the USB
// device that carries idVendor/idProduct.
func usbIDs(node string) (vid, pid, serial string) {
	dev, err := filepath.EvalSymlinks(filepath.Join(node, "device"))
	if err != nil {
		return "", "", ""
	}
	for i := 0; i < 3 && dev != "/" && dev != "."; i++ {
		if v := readAttr(dev, "idVendor"); v != "" {
			return v, readAttr(dev, "idProduct"), readAttr(dev, "serial")
		}
		dev = filepath.Dir(dev)
	}
	return "", "", ""
}
