package camera

import (
	"gocv.io/x/gocv"

	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
)

func init() { buildinfo.RegisterLibrary("opencv", gocv.OpenCVVersion()) }
