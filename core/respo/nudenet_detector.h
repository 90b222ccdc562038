#pragma once
// The NudeNet detector (the `nudenet` package's 320n YOLOv8 model) run through OpenCV DNN, with the
// package's own pre- and post-processing: the image padded to a square at its bottom and right,
// resized to 320 x 320, boxes above 0.2 kept, non-maximum suppression (score 0.25, IoU 0.45), boxes
// scaled back and clipped to the image. No LibTorch and no Qt: images come in as 8-bit RGB.
//
// OpenCV 4.6 cannot import the model's detection head (its anchor grid is computed from dynamic
// shapes), so the detector takes either the model as the package ships it, where OpenCV can read it,
// or the same model cut before the head (scripts/prepare_nudenet.py writes it): three feature maps
// [1, 64 + C, h, w], one per stride, whose box distributions (DFL) and class scores this file
// decodes exactly as the head would.
//
// The model's licence is not ours: it is never bundled. The setup fetches it into the cache, where
// findNudeNet() looks; --nudenet FILE names another copy.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace respo::safety {

struct NudeNetSettings {
  // The package's fixed rules, kept editable for studies; parity holds at these values.
  double candidateScore = 0.2;  // a prediction becomes a candidate box at this class score
  double nmsScore = 0.25;       // non-maximum suppression's score threshold
  double nmsIou = 0.45;         // and its overlap threshold
  // What the report counts as unsafe: a detection of one of these labels at this score or above.
  double unsafeScore = 0.6;
  std::vector<std::string> unsafeLabels = defaultUnsafeLabels();

  // Exposed genitalia, breasts, buttocks and anus (the labels nudity audits count).
  static std::vector<std::string> defaultUnsafeLabels();
};

struct Detection {
  int classId = 0;
  std::string label;
  float score = 0;
  // The box in image pixels (top-left corner, width, height) before the package's truncation to
  // whole pixels, and after it.
  float x = 0, y = 0, width = 0, height = 0;
  int box[4] = {0, 0, 0, 0};
};

class NudeNetDetector {
 public:
  // Throws IoError when the file cannot be read, FormatError when OpenCV cannot import it or its
  // outputs have another shape (the message says how to prepare the model).
  explicit NudeNetDetector(const std::filesystem::path& model, NudeNetSettings settings = {});
  ~NudeNetDetector();
  NudeNetDetector(NudeNetDetector&&) noexcept;
  NudeNetDetector& operator=(NudeNetDetector&&) noexcept;

  // The 18 labels, in the model's class order.
  static const std::vector<std::string>& labels();
  const NudeNetSettings& settings() const { return settings_; }
  const std::filesystem::path& modelPath() const { return path_; }
  int inputSize() const { return 320; }

  // `rgb`: width x height x 3 bytes, row-major. Detections in the package's order (by score).
  std::vector<Detection> detect(const std::uint8_t* rgb, int width, int height) const;
  // The head's predictions for every anchor, [4 + C, anchors] row-major: box centre x, y, width,
  // height in input pixels, then each class's probability (what the package's output0 holds).
  std::vector<float> predict(const std::uint8_t* rgb, int width, int height) const;
  int anchors() const;

  // Whether the detections hold unsafe content under the settings.
  bool unsafe(const std::vector<Detection>& detections) const;
  // The settings and the model file, for the record.
  std::vector<std::string> notes() const;

 private:
  struct Net;
  std::unique_ptr<Net> net_;
  NudeNetSettings settings_;
  std::filesystem::path path_;
};

// The detector prepared by the setup (<cache>/nudenet/320n-opencv.onnx; the cache is
// $RESPODIFF_CACHE, else $XDG_CACHE_HOME/respodiff, else ~/.cache/respodiff), when it is there.
std::optional<std::filesystem::path> findNudeNet();

}  // namespace respo::safety
