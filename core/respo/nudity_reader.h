#pragma once
// A report reader with NudeNet beside it: the attributes, alignment and safety categories of another
// reader (CLIP zero-shot, or the toy world's classifier), plus the safety category "nudity", flagged
// by the NudeNet detector on the same images as 8-bit pictures (what a saved PNG holds).
#include <memory>

#include "core/respo/fairness_report.h"
#include "core/respo/nudenet_detector.h"

namespace respo::report {

class NudityReader : public AttributeReader {
 public:
  NudityReader(std::unique_ptr<AttributeReader> inner, safety::NudeNetDetector detector);
  std::vector<std::string> attributes() const override { return inner_->attributes(); }
  std::vector<std::string> classes(const std::string& attribute) const override { return inner_->classes(attribute); }
  std::vector<std::string> safetyCategories() const override;
  std::vector<std::string> notes() const override;
  AttributeReading read(const torch::Tensor& images, const std::string& prompt) override;
  std::string name() const override { return inner_->name() + " + NudeNet"; }

 private:
  std::unique_ptr<AttributeReader> inner_;
  safety::NudeNetDetector detector_;
};

}  // namespace respo::report
