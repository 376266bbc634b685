package facedlib

import "errors"

// ErrNoCNN is returned when the CNN detector is asked for but its model was not loaded.
var ErrNoCNN = errors.New("vision: cnn detector model not loaded")
