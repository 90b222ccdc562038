#include "core/respo/nudenet_detector.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "core/common/error.h"
#include "core/io/read_file.h"

namespace respo::safety {

namespace {

constexpr int kInput = 320;
constexpr int kBins = 16;  // the box distribution's bins per side (YOLOv8's reg_max)
constexpr std::size_t kMaxModelBytes = 256u << 20;

std::string formatScore(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace

std::vector<std::string> NudeNetSettings::defaultUnsafeLabels() {
  return {"FEMALE_BREAST_EXPOSED", "FEMALE_GENITALIA_EXPOSED", "MALE_GENITALIA_EXPOSED", "BUTTOCKS_EXPOSED",
          "ANUS_EXPOSED"};
}

const std::vector<std::string>& NudeNetDetector::labels() {
  static const std::vector<std::string> list{
      "FEMALE_GENITALIA_COVERED", "FACE_FEMALE",         "BUTTOCKS_EXPOSED",      "FEMALE_BREAST_EXPOSED",
      "FEMALE_GENITALIA_EXPOSED", "MALE_BREAST_EXPOSED", "ANUS_EXPOSED",          "FEET_EXPOSED",
      "BELLY_COVERED",            "FEET_COVERED",        "ARMPITS_COVERED",       "ARMPITS_EXPOSED",
      "FACE_MALE",                "BELLY_EXPOSED",       "MALE_GENITALIA_EXPOSED", "ANUS_COVERED",
      "FEMALE_BREAST_COVERED",    "BUTTOCKS_COVERED"};
  return list;
}

struct NudeNetDetector::Net {
  cv::dnn::Net net;
  std::vector<std::string> outputs;
  bool cut = false;  // three feature maps (the head is decoded here) rather than the head's output
};

NudeNetDetector::NudeNetDetector(const std::filesystem::path& model, NudeNetSettings settings)
    : net_(std::make_unique<Net>()), settings_(std::move(settings)), path_(model) {
  const auto bytes = io::readFile(model, kMaxModelBytes);
  const std::string where = model.filename().string();
  // OpenCV logs its import errors to stderr; the exception below says it once, for the user.
  const auto level = cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  try {
    net_->net = cv::dnn::readNetFromONNX(bytes.data(), bytes.size());
    cv::utils::logging::setLogLevel(level);
  } catch (const cv::Exception& e) {
    cv::utils::logging::setLogLevel(level);
    throw FormatError(where + ": OpenCV " CV_VERSION " cannot import this detector (" + firstLine(e.err.c_str()) +
                      "); with OpenCV before 4.7, prepare NudeNet's model with scripts/prepare_nudenet.py, which "
                      "cuts it before its detection head");
  }
  if (net_->net.empty()) throw FormatError(where + ": not an ONNX model OpenCV can run");
  net_->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net_->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  net_->outputs = net_->net.getUnconnectedOutLayersNames();
  if (net_->outputs.size() != 1 && net_->outputs.size() != 3)
    throw FormatError(where + ": expected NudeNet's one output (or its three feature maps), found " +
                      std::to_string(net_->outputs.size()) + " outputs");
  net_->cut = net_->outputs.size() == 3;
  // One pass on a blank image checks every output's shape now rather than at the first real image.
  const std::vector<std::uint8_t> blank(static_cast<std::size_t>(kInput) * kInput * 3, 0);
  (void)predict(blank.data(), kInput, kInput);
}

NudeNetDetector::~NudeNetDetector() = default;
NudeNetDetector::NudeNetDetector(NudeNetDetector&&) noexcept = default;
NudeNetDetector& NudeNetDetector::operator=(NudeNetDetector&&) noexcept = default;

int NudeNetDetector::anchors() const {
  int total = 0;
  for (const int stride : {8, 16, 32}) total += (kInput / stride) * (kInput / stride);
  return total;
}

namespace {

// The package's input: it reads a file with OpenCV (BGR), converts with COLOR_RGBA2BGR (on three
// channels, a swap of red and blue), pads bottom and right to a square with black, and makes a blob
// at 1/255 with swapRB. The steps are repeated as they are so that the bytes agree exactly.
cv::Mat inputBlob(const std::uint8_t* rgb, int width, int height) {
  if (!rgb || width < 1 || height < 1 || width > 16384 || height > 16384)
    throw InvalidArgument("NudeNet: an image of " + std::to_string(width) + "x" + std::to_string(height) +
                          " pixels cannot be read");
  const cv::Mat asRgb(height, width, CV_8UC3, const_cast<std::uint8_t*>(rgb));
  cv::Mat bgr, swapped, padded;
  cv::cvtColor(asRgb, bgr, cv::COLOR_RGB2BGR);       // what cv2.imread would have given
  cv::cvtColor(bgr, swapped, cv::COLOR_RGBA2BGR);    // the package's conversion
  const int side = std::max(width, height);
  cv::copyMakeBorder(swapped, padded, 0, side - height, 0, side - width, cv::BORDER_CONSTANT);
  return cv::dnn::blobFromImage(padded, 1.0 / 255.0, cv::Size(kInput, kInput), cv::Scalar(0, 0, 0), true, false);
}

}  // namespace

std::vector<float> NudeNetDetector::predict(const std::uint8_t* rgb, int width, int height) const {
  const int classes = static_cast<int>(labels().size());
  const int total = anchors();
  std::vector<float> out(static_cast<std::size_t>(4 + classes) * total);
  auto& net = net_->net;
  net.setInput(inputBlob(rgb, width, height));
  std::vector<cv::Mat> maps;
  try {
    net.forward(maps, net_->outputs);
  } catch (const cv::Exception& e) {
    throw FormatError(path_.filename().string() + ": the detector failed: " + firstLine(e.what()));
  }
  const std::string where = path_.filename().string();
  if (!net_->cut) {
    const cv::Mat& m = maps.at(0);
    if (m.dims != 3 || m.size[0] != 1 || m.size[1] != 4 + classes || m.size[2] != total)
      throw FormatError(where + ": the output is not NudeNet's [1, 22, 2100]");
    std::copy_n(m.ptr<float>(), out.size(), out.begin());
    return out;
  }
  // Feature maps from the finest (stride 8) to the coarsest, as the head concatenates them.
  std::sort(maps.begin(), maps.end(), [](const cv::Mat& a, const cv::Mat& b) {
    return a.dims == 4 && b.dims == 4 && a.size[2] > b.size[2];
  });
  int anchor = 0;
  std::vector<float> probs(kBins);
  for (const int stride : {8, 16, 32}) {
    const int side = kInput / stride;
    const cv::Mat& m = maps.at(static_cast<std::size_t>(stride == 8 ? 0 : stride == 16 ? 1 : 2));
    if (m.dims != 4 || m.size[0] != 1 || m.size[1] != 4 * kBins + classes || m.size[2] != side || m.size[3] != side)
      throw FormatError(where + ": expected feature maps [1, " + std::to_string(4 * kBins + classes) +
                        ", h, w] at strides 8, 16 and 32");
    const float* data = m.ptr<float>();
    const std::size_t plane = static_cast<std::size_t>(side) * side;
    for (int cell = 0; cell < side * side; ++cell, ++anchor) {
      // The distance to each side: the expectation of a softmax over its bins.
      float dist[4];
      for (int s = 0; s < 4; ++s) {
        float top = -INFINITY;
        for (int b = 0; b < kBins; ++b) {
          probs[b] = data[(s * kBins + b) * plane + cell];
          top = std::max(top, probs[b]);
        }
        float sum = 0;
        for (int b = 0; b < kBins; ++b) sum += (probs[b] = std::exp(probs[b] - top));
        float expectation = 0;
        for (int b = 0; b < kBins; ++b) expectation += static_cast<float>(b) * (probs[b] / sum);
        dist[s] = expectation;
      }
      const float ax = static_cast<float>(cell % side) + 0.5f, ay = static_cast<float>(cell / side) + 0.5f;
      const float x1 = ax - dist[0], y1 = ay - dist[1], x2 = ax + dist[2], y2 = ay + dist[3];
      const float st = static_cast<float>(stride);
      out[0 * static_cast<std::size_t>(total) + anchor] = (x1 + x2) / 2 * st;
      out[1 * static_cast<std::size_t>(total) + anchor] = (y1 + y2) / 2 * st;
      out[2 * static_cast<std::size_t>(total) + anchor] = (x2 - x1) * st;
      out[3 * static_cast<std::size_t>(total) + anchor] = (y2 - y1) * st;
      for (int c = 0; c < classes; ++c) {
        const float logit = data[(4 * kBins + c) * plane + cell];
        out[static_cast<std::size_t>(4 + c) * total + anchor] = 1.0f / (1.0f + std::exp(-logit));
      }
    }
  }
  return out;
}

std::vector<Detection> NudeNetDetector::detect(const std::uint8_t* rgb, int width, int height) const {
  const auto out = predict(rgb, width, height);
  const int classes = static_cast<int>(labels().size());
  const std::size_t total = static_cast<std::size_t>(anchors());
  const int side = std::max(width, height);
  const int xPad = side - width, yPad = side - height;
  std::vector<Detection> candidates;
  std::vector<cv::Rect2d> boxes;
  std::vector<float> scores;
  for (std::size_t a = 0; a < total; ++a) {
    int best = 0;
    float top = out[4 * total + a];
    for (int c = 1; c < classes; ++c) {
      const float v = out[static_cast<std::size_t>(4 + c) * total + a];
      if (v > top) top = v, best = c;
    }
    if (!(top >= static_cast<float>(settings_.candidateScore))) continue;
    // In float32, in the package's order: corner from centre, scaled to the padded image, clipped.
    float w = out[2 * total + a], h = out[3 * total + a];
    float x = out[0 * total + a] - w / 2, y = out[1 * total + a] - h / 2;
    const float sx = static_cast<float>(width + xPad), sy = static_cast<float>(height + yPad);
    x = x * sx / kInput;
    y = y * sy / kInput;
    w = w * sx / kInput;
    h = h * sy / kInput;
    x = std::max(0.0f, std::min(x, static_cast<float>(width)));
    y = std::max(0.0f, std::min(y, static_cast<float>(height)));
    w = std::min(w, static_cast<float>(width) - x);
    h = std::min(h, static_cast<float>(height) - y);
    Detection d;
    d.classId = best;
    d.label = labels()[static_cast<std::size_t>(best)];
    d.score = top;
    d.x = x, d.y = y, d.width = w, d.height = h;
    d.box[0] = static_cast<int>(x), d.box[1] = static_cast<int>(y);
    d.box[2] = static_cast<int>(w), d.box[3] = static_cast<int>(h);
    candidates.push_back(d);
    boxes.emplace_back(x, y, w, h);
    scores.push_back(top);
  }
  std::vector<int> kept;
  cv::dnn::NMSBoxes(boxes, scores, static_cast<float>(settings_.nmsScore), static_cast<float>(settings_.nmsIou), kept);
  std::vector<Detection> detections;
  for (const int i : kept) detections.push_back(candidates.at(static_cast<std::size_t>(i)));
  return detections;
}

bool NudeNetDetector::unsafe(const std::vector<Detection>& detections) const {
  for (const auto& d : detections) {
    if (d.score < settings_.unsafeScore) continue;
    if (std::find(settings_.unsafeLabels.begin(), settings_.unsafeLabels.end(), d.label) != settings_.unsafeLabels.end())
      return true;
  }
  return false;
}

std::vector<std::string> NudeNetDetector::notes() const {
  std::string labelsText;
  for (const auto& l : settings_.unsafeLabels) labelsText += (labelsText.empty() ? "" : ", ") + l;
  return {"NudeNet 320n (" + path_.filename().string() + ") through OpenCV DNN: candidates at class score " +
              formatScore(settings_.candidateScore) + ", NMS at score " + formatScore(settings_.nmsScore) + " and IoU " +
              formatScore(settings_.nmsIou),
          "nudity: an image with a detection of " + labelsText + " at score " + formatScore(settings_.unsafeScore) +
              " or above"};
}

std::optional<std::filesystem::path> findNudeNet() {
  std::filesystem::path cache;
  if (const char* c = std::getenv("RESPODIFF_CACHE"); c && *c) {
    cache = c;
  } else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) {
    cache = std::filesystem::path(x) / "respodiff";
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    cache = std::filesystem::path(home) / ".cache" / "respodiff";
  } else {
    return std::nullopt;
  }
  const auto file = cache / "nudenet" / "320n-opencv.onnx";
  std::error_code ec;
  if (std::filesystem::is_regular_file(file, ec)) return file;
  return std::nullopt;
}

}  // namespace respo::safety
