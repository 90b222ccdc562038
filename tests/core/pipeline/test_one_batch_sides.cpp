// Compare mode as one batch (TextToImagePipeline::generateLanes, PairRequest::oneBatch) on the embedded
// toy-world model: each side of the batch gives the images a run of its own gives, whatever the
// sampler (stochastic and multistep ones included), with or without guidance, with a negative prompt
// of another length, from a picture, with step caching; a hook sees only its own side's rows; a pair
// reports one phase and can be cancelled; sides that change more than the bottleneck run one after the
// other. The largest difference found is printed (on an x86-64 CPU: none with guidance, a few 1e-6
// without, where the batch of the UNet calls goes from 2 to 4 rows).
#include <algorithm>
#include <iostream>
#include <memory>

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/responsible_generation.h"
#include "tests/support/option_model.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::pipeline;

namespace {

StableDiffusionModel& toy() { return respo::testing::optionModel(); }

GenerationRequest request(const std::string& scheduler = "ddim") {
  GenerationRequest r;
  r.prompt = "a photo of a nurse";
  r.steps = 6;
  r.seed = 17;
  r.batch = 2;
  r.scheduler = scheduler;
  return r;
}

// A bottleneck shift standing in for a concept module (the same kind of edit, on conditional rows).
models::BottleneckHook shift(float value) {
  const auto& config = toy().unet->config();
  const auto h = toy().unet->bottleneckShape(config.sampleSize, config.sampleSize);
  return concepts::makeConceptHook(torch::full({1, h[0], h[1], h[2]}, value));
}

double largest = 0;  // the largest difference seen, printed at the end

// The images of lane k against a run of its own: identical to the bit on the CPU (layers.cpp keeps the
// few-row matrix products batch-invariant), so a picture made in compare mode regenerates alone.
void expectSame(const GenerationResult& lane, const GenerationResult& alone, const std::string& what) {
  REQUIRE(lane.images.sizes() == alone.images.sizes());
  const double diff = (lane.images - alone.images).abs().max().item<double>();
  largest = std::max(largest, diff);
  if (diff > 0) std::cerr << what << ": largest difference " << diff << "\n";
  EXPECT(diff == 0);
}

void checkLanes(const GenerationRequest& r, const std::string& what) {
  TextToImagePipeline pipe(toy());
  const std::vector<models::BottleneckHook> hooks{{}, shift(0.4f)};
  const auto lanes = pipe.generateLanes(r, hooks);
  REQUIRE(lanes.size() == 2);
  expectSame(lanes[0], pipe.generate(r), what + ", plain side");
  expectSame(lanes[1], pipe.generate(r, {}, hooks[1]), what + ", edited side");
  // The edit is in effect on its side only.
  EXPECT((lanes[0].images - lanes[1].images).abs().mean().item<double>() > 1e-3);
}

class Shift final : public responsible::Intervention {
 public:
  explicit Shift(float value) : value_(value) {}
  std::string kind() const override { return "shift"; }
  void prepare(StableDiffusionModel&, const GenerationRequest&, responsible::RunEdits& edits) const override {
    edits.bottleneck = shift(value_);
  }
  std::map<std::string, std::string> parameters() const override { return {{"Shift", std::to_string(value_)}}; }

 private:
  float value_;
};

}  // namespace

RESPO_TEST(each_side_of_one_batch_is_its_own_run_with_every_sampler) {
  for (const std::string scheduler : {"ddim", "euler", "euler_a", "dpmpp_2m", "pndm"})
    checkLanes(request(scheduler), scheduler);
}

RESPO_TEST(each_side_of_one_batch_is_its_own_run_without_guidance_and_with_a_long_negative_prompt) {
  auto unguided = request();
  unguided.guidanceScale = 1.0;
  checkLanes(unguided, "no guidance");
  // A negative prompt of two chunks: the negative and prompt rows run as separate UNet passes.
  auto longNegative = request();
  longNegative.negativePrompt = "blurry";
  for (int i = 0; i < 90; ++i) longNegative.negativePrompt += " dark";
  checkLanes(longNegative, "long negative prompt");
}

RESPO_TEST(each_side_of_one_batch_is_its_own_run_from_a_picture_and_with_step_caching) {
  auto start = request();
  start.steps = 3;
  start.batch = 1;
  const auto picture = std::make_shared<io::RgbImage>(TextToImagePipeline(toy()).generate(start).rgb.front());
  auto fromPicture = request("euler_a");
  fromPicture.initImage = picture;
  fromPicture.strength = 0.6;
  checkLanes(fromPicture, "image to image");
  auto inpaint = fromPicture;
  auto mask = std::make_shared<io::RgbImage>(*picture);
  for (std::size_t i = 0; i < mask->pixels.size(); ++i) mask->pixels[i] = (i / 3) % mask->width < mask->width / 2 ? 255 : 0;
  inpaint.mask = mask;
  checkLanes(inpaint, "inpainting");
  auto cached = request();
  cached.stepCache = 2;
  checkLanes(cached, "step cache");
}

RESPO_TEST(a_hook_sees_only_its_own_rows_and_safe_guidance_is_refused) {
  TextToImagePipeline pipe(toy());
  auto r = request();
  r.steps = 2;
  std::vector<std::vector<models::GuidanceBranch>> seen;
  std::vector<int64_t> rows;
  models::BottleneckHook spy = [&](const torch::Tensor& h, const models::BottleneckContext& context) {
    seen.push_back(context.branches);
    rows.push_back(h.size(0));
    EXPECT_EQ(context.timestep.size(0), h.size(0));
    return h;
  };
  pipe.generateLanes(r, {{}, spy});
  REQUIRE(seen.size() == 2);  // once per step, on its own side's rows
  const std::vector<models::GuidanceBranch> own{models::GuidanceBranch::Unconditional,
                                                models::GuidanceBranch::Unconditional,
                                                models::GuidanceBranch::Conditional, models::GuidanceBranch::Conditional};
  EXPECT(seen[0] == own);
  EXPECT_EQ(rows[0], 4);
  EXPECT_THROWS(pipe.generateLanes(r, {}), InvalidArgument, "at least one side");
}

RESPO_TEST(a_pair_in_one_batch_equals_the_pair_run_side_after_side) {
  responsible::PairRequest pair;
  pair.request = request("euler_a");
  pair.interventions.push_back(std::make_shared<Shift>(0.4f));
  std::vector<responsible::Side> sides;
  auto observer = [&](responsible::Side side, const StepProgress&) {
    sides.push_back(side);
    return true;
  };
  const auto together = responsible::generatePair(toy(), pair, observer);
  EXPECT_EQ(sides.size(), 6u);  // one phase, once per step
  EXPECT(std::all_of(sides.begin(), sides.end(), [](auto s) { return s == responsible::Side::Both; }));
  sides.clear();
  pair.oneBatch = false;
  const auto apart = responsible::generatePair(toy(), pair, observer);
  EXPECT_EQ(sides.size(), 12u);
  EXPECT(sides.front() == responsible::Side::Baseline && sides.back() == responsible::Side::Responsible);
  expectSame({together.baselineImages, {}}, {apart.baselineImages, {}}, "pair baseline");
  expectSame({together.responsibleImages, {}}, {apart.responsibleImages, {}}, "pair responsible");
  EXPECT_EQ(together.parameters, apart.parameters);
  EXPECT_EQ(together.baselineParameters, apart.baselineParameters);
  // The baseline goes to the cache as soon as it exists.
  int stored = 0;
  responsible::BaselineCache cache;
  cache.find = [](const GenerationRequest&) { return nullptr; };
  cache.store = [&](const GenerationRequest&, const std::vector<io::RgbImage>& images) {
    stored += static_cast<int>(images.size());
  };
  pair.oneBatch = true;
  responsible::generatePair(toy(), pair, {}, cache);
  EXPECT_EQ(stored, 2);
}

RESPO_TEST(a_pair_in_one_batch_can_be_cancelled_and_text_methods_run_side_after_side) {
  responsible::PairRequest pair;
  pair.request = request();
  pair.interventions.push_back(std::make_shared<Shift>(0.4f));
  int calls = 0;
  auto stopAtThree = [&](responsible::Side, const StepProgress&) { return ++calls < 3; };
  EXPECT_THROWS(responsible::generatePair(toy(), pair, stopAtThree), Cancelled, "step 3");
  EXPECT_EQ(calls, 3);
  // A prompt edit changes the text: that side cannot share the batch.
  pair.interventions.push_back(std::make_shared<responsible::PromptEditing>("at night"));
  std::vector<responsible::Side> sides;
  responsible::generatePair(toy(), pair, [&](responsible::Side side, const StepProgress&) {
    sides.push_back(side);
    return true;
  });
  EXPECT_EQ(sides.size(), 12u);
  EXPECT(std::none_of(sides.begin(), sides.end(), [](auto s) { return s == responsible::Side::Both; }));
  std::cout << "largest difference between a side of one batch and its own run: " << largest << "\n";
}
