package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/checkpoint-edge/checkpoint/device/camera"
	"github.com/checkpoint-edge/checkpoint/device/scanner"
	"github.com/checkpoint-edge/checkpoint/internal/cli"
)

func init() { rootCmd.AddCommand(newDevicesCmd()) }

// devicesReport is `devices --json`: everything attached, in one object so
// that a script reads both lists from one line.
type devicesReport struct {
	SerialPorts []scanner.PortInfo  `json:"serial_ports"`
	Cameras     []camera.DeviceInfo `json:"cameras"`
	// Errors holds enumeration failures; the other list is still valid.
	Errors []string `json:"errors,omitempty"`
}

// listDevices never fails as a whole: a box with a broken sysfs entry
// still shows its serial ports, and the reverse.
func listDevices(sysfs, dev string) devicesReport {
	r := devicesReport{SerialPorts: []scanner.PortInfo{}, Cameras: []camera.DeviceInfo{}}
	if ports, err := scanner.ListPorts(); err != nil {
		r.Errors = append(r.Errors, err.Error())
	} else if ports != nil {
		r.SerialPorts = ports
	}
	if cams, err := camera.List(sysfs, dev); err != nil {
		r.Errors = append(r.Errors, err.Error())
	} else if cams != nil {
		r.Cameras = cams
	}
	return r
}

func newDevicesCmd() *cobra.Command {
	var sysfs, dev string
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "Serial ports (USB ids, serial number, product) and V4L2 cameras attached to the box",
		Long: "Lists what a scanner or camera configuration can point at: serial ports with USB vendor/product " +
			"ids, serial number and product name, and video nodes with their camera name and USB ids. " +
			"Finding nothing is not an error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := listDevices(sysfs, dev)
			out := cmd.OutOrStdout()
			if jsonOutput(cmd) {
				if err := cli.WriteJSONLine(out, r); err != nil {
					return err
				}
			} else {
				printDevices(out, r)
			}
			if len(r.Errors) > 0 && len(r.SerialPorts) == 0 && len(r.Cameras) == 0 {
				return fmt.Errorf("device enumeration failed: %s", r.Errors[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&sysfs, "sysfs", "/sys", "sysfs root (fixtures in tests)")
	cmd.Flags().StringVar(&dev, "dev", "/dev", "device directory")
	return cmd
}

func printDevices(w io.Writer, r devicesReport) {
	fmt.Fprintln(w, "serial ports:")
	if len(r.SerialPorts) == 0 {
		fmt.Fprintln(w, "  none found (is the reader plugged in? USB serial adapters appear as /dev/ttyUSB* or /dev/ttyACM*)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PORT\tVID:PID\tSERIAL\tPRODUCT")
		for _, p := range r.SerialPorts {
			ids := "-"
			if p.IsUSB || p.VID != "" {
				ids = p.VID + ":" + p.PID
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.Name, ids, dash(p.Serial), dash(p.Product))
		}
		tw.Flush()
	}
	fmt.Fprintln(w, "cameras:")
	if len(r.Cameras) == 0 {
		fmt.Fprintln(w, "  none found (no video4linux devices)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  PATH\tNAME\tVID:PID\tSERIAL\tNODE")
		for _, c := range r.Cameras {
			ids := "-"
			if c.VendorID != "" {
				ids = c.VendorID + ":" + c.ProductID
			}
			node := "capture"
			if !c.Capture {
				node = fmt.Sprintf("metadata (index %d)", c.NodeIndex)
			}
			if !c.Present {
				node += ", node missing"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", c.Path, dash(c.Name), ids, dash(c.Serial), node)
		}
		tw.Flush()
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
}
