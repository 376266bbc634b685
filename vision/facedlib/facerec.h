// C interface of the dlib face pipeline. Every handle is opaque; every
// function that can fail returns a status (0 = ok) and, on failure, a
// malloc'd message in *err that the caller frees.
#ifndef CHECKPOINT_FACEREC_H
#define CHECKPOINT_FACEREC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void* FR_Models; // shared, read-only after load: shape predictor, network prototypes
typedef void* FR_Worker; // one per concurrent caller: detectors and networks are not thread-safe
typedef void* FR_Result; // faces found in one image, owned by the caller until FR_ResultClose

#define FR_MAX_POINTS 68
#define FR_CHIP_SIZE 150
#define FR_DESCRIPTOR_LEN 128

typedef struct {
	int left, top, right, bottom;
	double confidence;
	int npoints;
	int points[2 * FR_MAX_POINTS]; // x0, y0, x1, y1, ...
} FR_Face;

// FR_ModelsNew loads the landmark model and, when their paths are
// non-empty, the embedding network and the MMOD CNN detector. On error *out
// is NULL.
int FR_ModelsNew(const char* shape_path, const char* net_path, const char* cnn_path, FR_Models* out, char** err);
void FR_ModelsClose(FR_Models m);
int FR_ModelsPoints(FR_Models m);
int FR_ModelsHasCNN(FR_Models m);

// FR_WorkerNew copies the networks of m; m must outlive the worker.
int FR_WorkerNew(FR_Models m, FR_Worker* out, char** err);
void FR_WorkerClose(FR_Worker w);

// FR_Analyze detects faces in a packed RGB image, fits landmarks and
// extracts the aligned 150x150 chip of each face.
// detector: 0 HOG, 1 CNN, 2 HOG then CNN when HOG finds nothing.
// upsample: pyramid_up passes before HOG detection; without them, HOG runs
// on the image scaled down to at most max_side on its longer side (0 = as
// is). cnn_max_side: the same for the CNN. Landmarks and chips always use
// the full image.
int FR_Analyze(FR_Worker w, const uint8_t* rgb, int width, int height, int detector, int upsample, int max_side,
               int cnn_max_side, FR_Result* out, char** err);
int FR_ResultCount(FR_Result r);
void FR_ResultFace(FR_Result r, int i, FR_Face* out);
// FR_ResultChip returns the packed RGB chip of face i, valid until FR_ResultClose.
const uint8_t* FR_ResultChip(FR_Result r, int i);
void FR_ResultClose(FR_Result r);

// FR_Embed computes the 128-D descriptors of n packed RGB 150x150 chips into
// out (n*128 floats). It fails when the models were loaded without the
// embedding network.
int FR_Embed(FR_Worker w, const uint8_t* chips, int n, float* out, char** err);

#ifdef __cplusplus
}
#endif

#endif
