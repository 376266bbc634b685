package vision

import (
	"fmt"
	"os"
	"path/filepath"
)

// EmbeddingModelFile is the file name of the embedding network in a models directory.
const EmbeddingModelFile = "dlib_face_recognition_resnet_model_v1.dat"

// RepoRoot returns the directory holding go.mod, walking up from the
// working directory (development and test runs).
func RepoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// FindModels returns the first directory holding the embedding model among
// $CHECKPOINT_MODELS, <repo>/models, <repo>/../shared/models and ./models.
func FindModels() (string, error) {
	var cands []string
	if d := os.Getenv("CHECKPOINT_MODELS"); d != "" {
		cands = append(cands, d)
	}
	if root, ok := RepoRoot(); ok {
		cands = append(cands, filepath.Join(root, "models"), filepath.Join(root, "..", "shared", "models"))
	}
	cands = append(cands, "models")
	for _, d := range cands {
		if st, err := os.Stat(filepath.Join(d, EmbeddingModelFile)); err == nil && st.Size() > 0 {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: %s not found in %v (run make models or set CHECKPOINT_MODELS)", ErrModel, EmbeddingModelFile, cands)
}

// FindFaces returns the labelled test photos: $CHECKPOINT_FACES, else
// <repo>/../shared/testdata/faces.
func FindFaces() (string, error) {
	var cands []string
	if d := os.Getenv("CHECKPOINT_FACES"); d != "" {
		cands = append(cands, d)
	}
	if root, ok := RepoRoot(); ok {
		cands = append(cands, filepath.Join(root, "..", "shared", "testdata", "faces"))
	}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "labels.csv")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("labelled faces not found in %v (set CHECKPOINT_FACES)", cands)
}

// ONNXModelMeta is the metadata file of the MobileFaceNet model that
// `make models-onnx` builds, in the models directory dir.
const ONNXModelMeta = "mobilefacenet.json"

// FindONNXModel returns the MobileFaceNet metadata file in the first
// models directory (as FindModels) whose network has been built.
func FindONNXModel() (string, error) {
	var cands []string
	if d := os.Getenv("CHECKPOINT_MODELS"); d != "" {
		cands = append(cands, d)
	}
	if root, ok := RepoRoot(); ok {
		cands = append(cands, filepath.Join(root, "models"))
	}
	for _, d := range cands {
		p := filepath.Join(d, ONNXModelMeta)
		m, err := ReadModelMeta(p)
		if err != nil {
			continue
		}
		if st, err := os.Stat(m.ModelPath()); err == nil && st.Size() > 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s with its network not found in %v (run make models-onnx)", ErrModel, ONNXModelMeta, cands)
}

// FindLFWCalib returns the lfw-calib labelled photos: $CHECKPOINT_LFW,
// else <repo>/../shared/testdata/lfw-calib.
func FindLFWCalib() (string, error) {
	var cands []string
	if d := os.Getenv("CHECKPOINT_LFW"); d != "" {
		cands = append(cands, d)
	}
	if root, ok := RepoRoot(); ok {
		cands = append(cands, filepath.Join(root, "..", "shared", "testdata", "lfw-calib"))
	}
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "labels.csv")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("lfw-calib photos not found in %v (set CHECKPOINT_LFW)", cands)
}
