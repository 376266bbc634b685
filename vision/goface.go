package vision

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
)

// ReadGoFaceSet reads a labelled descriptor set in the JSON layout of
// go-face's idols.json (people with id, name, band_name; faces with a base64
// descriptor of 128 little-endian float32 and the person's id). Labels are
// "name, band": names alone are ambiguous across bands.
func ReadGoFaceSet(path string) ([]Sample, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("vision: %w", err)
	}
	var doc struct {
		Idols []struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			BandName string `json:"band_name"`
		} `json:"idols"`
		Faces []struct {
			Descriptor string `json:"descriptor"`
			IdolID     string `json:"idol_id"`
		} `json:"faces"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("vision: read %s: %w", path, err)
	}
	names := map[string]string{}
	for _, i := range doc.Idols {
		names[i.ID] = i.Name + ", " + i.BandName
	}
	out := make([]Sample, 0, len(doc.Faces))
	for k, f := range doc.Faces {
		b, err := base64.StdEncoding.DecodeString(f.Descriptor)
		if err != nil || len(b) != 128*4 {
			return nil, fmt.Errorf("%w: %s: face %d", ErrDescriptor, path, k)
		}
		d := make([]float32, 128)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[i*4:]))
		}
		name, ok := names[f.IdolID]
		if !ok {
			return nil, fmt.Errorf("vision: %s: face %d: unknown person id", path, k)
		}
		out = append(out, Sample{Label: name, Descriptor: d})
	}
	return out, nil
}
