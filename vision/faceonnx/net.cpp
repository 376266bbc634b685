#include "net.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

namespace {

char* dup(const std::string& s) {
	char* p = static_cast<char*>(std::malloc(s.size() + 1));
	if (p) std::memcpy(p, s.c_str(), s.size() + 1);
	return p;
}

int fail(char** err, const std::string& msg) {
	if (err) *err = dup(msg);
	return 1;
}

} // namespace

extern "C" {

int ON_NetNew(const uint8_t* model, size_t len, ON_Net* out, char** err) {
	*out = nullptr;
	try {
		std::vector<uchar> buf(model, model + len);
		std::unique_ptr<cv::dnn::Net> net(new cv::dnn::Net(cv::dnn::readNetFromONNX(buf)));
		if (net->empty()) return fail(err, "network is empty");
		net->setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
		net->setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
		*out = net.release();
		return 0;
	} catch (const std::exception& e) {
		return fail(err, std::string("load: ") + e.what());
	} catch (...) {
		return fail(err, "load: unknown C++ exception");
	}
}

void ON_NetClose(ON_Net n) { delete static_cast<cv::dnn::Net*>(n); }

int ON_NetForward(ON_Net np, const char* in_name, const char* out_name, const float* input, int n, int c, int h,
                  int w, float* out, int dim, char** err) {
	try {
		cv::dnn::Net* net = static_cast<cv::dnn::Net*>(np);
		int sizes[4] = {n, c, h, w};
		// The blob wraps the caller's memory; setInput copies it.
		cv::Mat blob(4, sizes, CV_32F, const_cast<float*>(input));
		net->setInput(blob, in_name);
		cv::Mat res = net->forward(out_name);
		if (res.type() != CV_32F || !res.isContinuous()) return fail(err, "forward: unexpected output type");
		if (res.total() != size_t(n) * size_t(dim)) {
			return fail(err, "forward: output holds " + std::to_string(res.total()) + " values, want " +
			                     std::to_string(size_t(n) * size_t(dim)));
		}
		std::memcpy(out, res.ptr<float>(), res.total() * sizeof(float));
		return 0;
	} catch (const std::exception& e) {
		return fail(err, std::string("forward: ") + e.what());
	} catch (...) {
		return fail(err, "forward: unknown C++ exception");
	}
}

void ON_SetNumThreads(int n) { cv::setNumThreads(n); }

} // extern "C"
