// The only C++ translation unit of the project: dlib's DNN templates are
// heavy to compile, so everything lives here and the Go build cache keeps
// the object until this file changes.
#include "facerec.h"

#include <dlfcn.h>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <dlib/dnn.h>
#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>
#include <dlib/matrix.h>

using namespace dlib;

namespace {

// The network type must match the serialised file exactly: it is the
// ResNet-29 metric network of dlib's dnn_face_recognition_ex.cpp.
template <template <int, template <typename> class, int, typename> class BLOCK, int N,
          template <typename> class BN, typename SUBNET>
using residual = add_prev1<BLOCK<N, BN, 1, tag1<SUBNET>>>;

template <template <int, template <typename> class, int, typename> class BLOCK, int N,
          template <typename> class BN, typename SUBNET>
using residual_down = add_prev2<avg_pool<2, 2, 2, 2, skip1<tag2<BLOCK<N, BN, 2, tag1<SUBNET>>>>>>;

template <int N, template <typename> class BN, int STRIDE, typename SUBNET>
using block = BN<con<N, 3, 3, 1, 1, relu<BN<con<N, 3, 3, STRIDE, STRIDE, SUBNET>>>>>;

template <int N, typename SUBNET> using ares = relu<residual<block, N, affine, SUBNET>>;
template <int N, typename SUBNET> using ares_down = relu<residual_down<block, N, affine, SUBNET>>;

template <typename SUBNET> using alevel0 = ares_down<256, SUBNET>;
template <typename SUBNET> using alevel1 = ares<256, ares<256, ares_down<256, SUBNET>>>;
template <typename SUBNET> using alevel2 = ares<128, ares<128, ares_down<128, SUBNET>>>;
template <typename SUBNET> using alevel3 = ares<64, ares<64, ares<64, ares_down<64, SUBNET>>>>;
template <typename SUBNET> using alevel4 = ares<32, ares<32, ares<32, SUBNET>>>;

using anet_type = loss_metric<fc_no_bias<128, avg_pool_everything<
	alevel0<alevel1<alevel2<alevel3<alevel4<
	max_pool<3, 3, 2, 2, relu<affine<con<32, 7, 7, 2, 2,
	input_rgb_image_sized<150>>>>>>>>>>>>>;

// The MMOD detector of dlib's dnn_mmod_face_detection_ex.cpp.
template <long F, typename SUBNET> using con5d = con<F, 5, 5, 2, 2, SUBNET>;
template <long F, typename SUBNET> using con5 = con<F, 5, 5, 1, 1, SUBNET>;
template <typename SUBNET> using downsampler =
	relu<affine<con5d<32, relu<affine<con5d<32, relu<affine<con5d<16, SUBNET>>>>>>>>>;
template <typename SUBNET> using rcon5 = relu<affine<con5<45, SUBNET>>>;
using mmod_type = loss_mmod<con<1, 9, 9, 1, 1, rcon5<rcon5<rcon5<downsampler<
	input_rgb_image_pyramid<pyramid_down<6>>>>>>>>;

struct models {
	shape_predictor sp;
	bool has_net = false;
	anet_type net;
	bool has_cnn = false;
	mmod_type cnn;
};

struct worker {
	const models* m;
	frontal_face_detector hog;
	anet_type net;
	mmod_type cnn;
};

struct result {
	std::vector<FR_Face> faces;
	std::vector<matrix<rgb_pixel>> chips;
};

char* dup(const std::string& s) {
	char* p = static_cast<char*>(std::malloc(s.size() + 1));
	if (p) std::memcpy(p, s.c_str(), s.size() + 1);
	return p;
}

int fail(char** err, const std::string& msg) {
	if (err) *err = dup(msg);
	return 1;
}

// OpenBLAS spawns one thread per core for every GEMM; the Go side already runs
// one worker per core, so extra BLAS threads only contend. Looked up at run
// time because libblas may be a different implementation.
void limit_blas_threads() {
	typedef void (*setter)(int);
	if (void* f = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
		reinterpret_cast<setter>(f)(1);
	}
}

void to_matrix(const uint8_t* rgb, int width, int height, matrix<rgb_pixel>& img) {
	img.set_size(height, width);
	static_assert(sizeof(rgb_pixel) == 3, "rgb_pixel must be packed");
	if (width > 0 && height > 0) std::memcpy(&img(0, 0), rgb, size_t(width) * size_t(height) * 3);
}

} // namespace

extern "C" {

int FR_ModelsNew(const char* shape_path, const char* net_path, const char* cnn_path, FR_Models* out, char** err) {
	*out = nullptr;
	limit_blas_threads();
	std::unique_ptr<models> m;
	std::string stage = "landmark model";
	try {
		m.reset(new models());
		deserialize(shape_path) >> m->sp;
		if (m->sp.num_parts() != 68 && m->sp.num_parts() != 5) {
			return fail(err, "landmark model has " + std::to_string(m->sp.num_parts()) + " points, want 68 or 5");
		}
		if (net_path && net_path[0]) {
			stage = "embedding model";
			deserialize(net_path) >> m->net;
			m->has_net = true;
		}
		if (cnn_path && cnn_path[0]) {
			stage = "cnn detector model";
			deserialize(cnn_path) >> m->cnn;
			m->has_cnn = true;
		}
	} catch (const std::exception& e) {
		return fail(err, stage + ": " + e.what());
	} catch (...) {
		return fail(err, stage + ": unknown C++ exception");
	}
	*out = m.release();
	return 0;
}

void FR_ModelsClose(FR_Models m) { delete static_cast<models*>(m); }

int FR_ModelsPoints(FR_Models m) { return int(static_cast<models*>(m)->sp.num_parts()); }

int FR_ModelsHasCNN(FR_Models m) { return static_cast<models*>(m)->has_cnn ? 1 : 0; }

int FR_WorkerNew(FR_Models mp, FR_Worker* out, char** err) {
	*out = nullptr;
	try {
		const models* m = static_cast<const models*>(mp);
		std::unique_ptr<worker> w(new worker());
		w->m = m;
		w->hog = get_frontal_face_detector();
		if (m->has_net) w->net = m->net;
		if (m->has_cnn) w->cnn = m->cnn;
		*out = w.release();
		return 0;
	} catch (const std::exception& e) {
		return fail(err, std::string("new worker: ") + e.what());
	} catch (...) {
		return fail(err, "new worker: unknown C++ exception");
	}
}

void FR_WorkerClose(FR_Worker w) { delete static_cast<worker*>(w); }

int FR_Analyze(FR_Worker wp, const uint8_t* rgb, int width, int height, int detector, int upsample, int max_side,
               int cnn_max_side, FR_Result* out, char** err) {
	*out = nullptr;
	try {
		worker* w = static_cast<worker*>(wp);
		if (detector != 0 && !w->m->has_cnn) return fail(err, "cnn detector model not loaded");
		matrix<rgb_pixel> img;
		to_matrix(rgb, width, height, img);

		// Detect on an upsampled copy when asked, or on a copy scaled down
		// to at most max_side (a 12 MP photo costs HOG 30 times a camera
		// frame and its face is large anyway), then map boxes back.
		matrix<rgb_pixel> up;
		const matrix<rgb_pixel>* det_img = &img;
		double scale = 1;
		long longer = std::max(img.nr(), img.nc());
		if (upsample > 0) {
			up = img;
			for (int i = 0; i < upsample; i++) {
				pyramid_up(up);
				scale *= 2;
			}
			det_img = &up;
		} else if (max_side > 0 && longer > max_side) {
			double f = double(max_side) / double(longer);
			up.set_size(long(img.nr() * f + 0.5), long(img.nc() * f + 0.5));
			resize_image(img, up);
			scale = double(up.nc()) / double(img.nc());
			det_img = &up;
		}
		std::vector<std::pair<rectangle, double>> dets;
		if (detector != 1) {
			std::vector<rect_detection> found;
			w->hog(*det_img, found);
			for (auto& d : found) dets.emplace_back(d.rect, d.detection_confidence);
		}
		if (detector == 1 || (detector == 2 && dets.empty())) {
			// The CNN sees at most cnn_max_side pixels on the longer side: its
			// cost grows with the area, and faces worth embedding stay
			// above its ~40 px minimum.
			const matrix<rgb_pixel>* cnn_img = &img;
			matrix<rgb_pixel> small;
			double cscale = 1;
			if (cnn_max_side > 0 && longer > cnn_max_side) {
				cscale = double(cnn_max_side) / double(longer);
				small.set_size(long(img.nr() * cscale + 0.5), long(img.nc() * cscale + 0.5));
				resize_image(img, small);
				cscale = double(small.nc()) / double(img.nc());
				cnn_img = &small;
			}
			std::vector<mmod_rect> found = w->cnn(*cnn_img);
			dets.clear();
			scale = cscale;
			for (auto& d : found) dets.emplace_back(d.rect, d.detection_confidence);
		}

		std::unique_ptr<result> r(new result());
		std::vector<full_object_detection> shapes;
		for (auto& d : dets) {
			rectangle rect = d.first;
			if (scale != 1) {
				rect = rectangle(long(rect.left() / scale + 0.5), long(rect.top() / scale + 0.5),
				                 long(rect.right() / scale + 0.5), long(rect.bottom() / scale + 0.5));
			}
			full_object_detection shape = w->m->sp(img, rect);
			FR_Face f;
			std::memset(&f, 0, sizeof f);
			f.left = int(rect.left());
			f.top = int(rect.top());
			f.right = int(rect.right());
			f.bottom = int(rect.bottom());
			f.confidence = d.second;
			f.npoints = int(shape.num_parts());
			for (unsigned long i = 0; i < shape.num_parts() && i < FR_MAX_POINTS; i++) {
				f.points[2 * i] = int(shape.part(i).x());
				f.points[2 * i + 1] = int(shape.part(i).y());
			}
			r->faces.push_back(f);
			shapes.push_back(shape);
		}
		if (!shapes.empty()) {
			std::vector<chip_details> details = get_face_chip_details(shapes, FR_CHIP_SIZE, 0.25);
			dlib::array<matrix<rgb_pixel>> chips;
			extract_image_chips(img, details, chips);
			for (auto& c : chips) r->chips.push_back(c);
		}
		*out = r.release();
		return 0;
	} catch (const std::exception& e) {
		return fail(err, std::string("analyze: ") + e.what());
	} catch (...) {
		return fail(err, "analyze: unknown C++ exception");
	}
}

int FR_ResultCount(FR_Result r) { return int(static_cast<result*>(r)->faces.size()); }

void FR_ResultFace(FR_Result r, int i, FR_Face* out) { *out = static_cast<result*>(r)->faces[size_t(i)]; }

const uint8_t* FR_ResultChip(FR_Result r, int i) {
	return reinterpret_cast<const uint8_t*>(&static_cast<result*>(r)->chips[size_t(i)](0, 0));
}

void FR_ResultClose(FR_Result r) { delete static_cast<result*>(r); }

int FR_Embed(FR_Worker wp, const uint8_t* chips, int n, float* out, char** err) {
	try {
		worker* w = static_cast<worker*>(wp);
		if (!w->m->has_net) return fail(err, "embed: embedding model not loaded");
		std::vector<matrix<rgb_pixel>> batch(static_cast<size_t>(n));
		const size_t chip_bytes = size_t(FR_CHIP_SIZE) * FR_CHIP_SIZE * 3;
		for (int i = 0; i < n; i++) to_matrix(chips + chip_bytes * size_t(i), FR_CHIP_SIZE, FR_CHIP_SIZE, batch[size_t(i)]);
		std::vector<matrix<float, 0, 1>> desc = w->net(batch);
		for (int i = 0; i < n; i++) {
			if (desc[size_t(i)].size() != FR_DESCRIPTOR_LEN) return fail(err, "embed: unexpected descriptor length");
			std::memcpy(out + size_t(i) * FR_DESCRIPTOR_LEN, &desc[size_t(i)](0), FR_DESCRIPTOR_LEN * sizeof(float));
		}
		return 0;
	} catch (const std::exception& e) {
		return fail(err, std::string("embed: ") + e.what());
	} catch (...) {
		return fail(err, "embed: unknown C++ exception");
	}
}

} // extern "C"
