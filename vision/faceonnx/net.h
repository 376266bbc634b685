// C interface of the OpenCV DNN network the ONNX embedder runs. Handles are
// opaque; every function that can fail returns a status (0 = ok) and, on
// failure, a malloc'd message in *err that the caller frees. Every C++
// exception is caught here: a malformed model must not abort the daemon
// (gocv's own ReadNet and Forward let exceptions escape).
#ifndef CHECKPOINT_ONNXNET_H
#define CHECKPOINT_ONNXNET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void* ON_Net;

// ON_NetNew parses an ONNX model from memory. On error *out is NULL.
int ON_NetNew(const uint8_t* model, size_t len, ON_Net* out, char** err);
void ON_NetClose(ON_Net n);

// ON_NetForward runs n NCHW float images of c×h×w through the network and
// copies the output (n×dim floats) into out. It fails when the output does
// not hold exactly n×dim values.
int ON_NetForward(ON_Net net, const char* in_name, const char* out_name, const float* input, int n, int c, int h,
                  int w, float* out, int dim, char** err);

// ON_SetNumThreads sets OpenCV's thread count for the whole process.
void ON_SetNumThreads(int n);

#ifdef __cplusplus
}
#endif

#endif
