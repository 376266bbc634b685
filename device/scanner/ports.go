package scanner

import (
	"fmt"
	"sort"
	"strings"

	"go.bug.st/serial/enumerator"
)

// PortInfo describes one serial port found on the system.
type PortInfo struct {
	Name    string `json:"name"` // device path, e.g. /dev/ttyUSB0
	IsUSB   bool   `json:"usb"`
	VID     string `json:"vid,omitempty"` // lower-case hex, e.g. "0403"
	PID     string `json:"pid,omitempty"`
	Serial  string `json:"serial_number,omitempty"`
	Product string `json:"product,omitempty"`
}

// ListPorts lists the serial ports the operating system knows, with USB
// IDs where the port is a USB adapter, sorted by name.
func ListPorts() ([]PortInfo, error) {
	list, err := enumerator.GetDetailedPortsList()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEnumerate, err)
	}
	ports := make([]PortInfo, 0, len(list))
	for _, p := range list {
		ports = append(ports, PortInfo{
			Name:    p.Name,
			IsUSB:   p.IsUSB,
			VID:     strings.ToLower(p.VID),
			PID:     strings.ToLower(p.PID),
			Serial:  p.SerialNumber,
			Product: p.Product,
		})
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i].Name < ports[j].Name })
	return ports, nil
}

// FindPort returns the first port in ports (by name) matching vid, pid
// and, if not empty, serial number. IDs compare case-insensitively.
func FindPort(ports []PortInfo, vid, pid, serialNumber string) (PortInfo, error) {
	for _, p := range ports {
		if strings.EqualFold(p.VID, vid) && strings.EqualFold(p.PID, pid) &&
			(serialNumber == "" || p.Serial == serialNumber) {
			return p, nil
		}
	}
	if serialNumber != "" {
		return PortInfo{}, fmt.Errorf("%w: vid %s pid %s serial %s", ErrNotFound, vid, pid, serialNumber)
	}
	return PortInfo{}, fmt.Errorf("%w: vid %s pid %s", ErrNotFound, vid, pid)
}
