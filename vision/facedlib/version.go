package facedlib

// #include <dlib/revision.h>
import "C"

import (
	"fmt"

	"github.com/checkpoint-edge/checkpoint/internal/buildinfo"
)

// Version is the version of the dlib headers this binding was built with
// (Debian's libdlib-dev).
func Version() string {
	return fmt.Sprintf("%d.%d.%d", C.DLIB_MAJOR_VERSION, C.DLIB_MINOR_VERSION, C.DLIB_PATCH_VERSION)
}

func init() { buildinfo.RegisterLibrary("dlib", Version()) }
