// gpu/GenerationService: loads a model, lists the concept library against it, and renders baseline
// and responsible images from the same seed and noise, reusing a cached baseline when only the
// concepts change.
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/common/error.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/fairness_report.h"
#include "gpu/generation_service.h"
#include "tests/support/crafted_concept.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using respo::gpu::GenerationJob;
using respo::gpu::GenerationService;

namespace {

fs::path modelDir() { return fs::path(respo::testing::option("dir")) / "sd1"; }

fs::path libraryDir() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / ("respodiff-service-test-" + std::to_string(::getpid()));
    fs::remove_all(d);
    respo::testing::writeCraftedConcept(d / "fits.safetensors", modelDir(), {.name = "crafted violence"});
    respo::testing::writeCraftedConcept(d / "foreign.safetensors", modelDir(),
                                        {.name = "foreign", .foreignFingerprint = true});
    return d;
  }();
  return dir;
}

GenerationJob smallJob() {
  GenerationJob job;
  job.request.prompt = "a photo of a chef";
  job.request.steps = 3;
  job.request.seed = 11;
  return job;
}

}  // namespace

RESPO_TEST(without_concepts_the_responsible_side_is_the_baseline) {
  GenerationService service({libraryDir()});
  const auto info = service.loadModel(modelDir());
  EXPECT_EQ(info.nativeSize, 32);
  const auto outcome = service.generate(smallJob());
  REQUIRE(outcome.baseline.size() == 1);
  EXPECT(outcome.responsibleIsBaseline);
  EXPECT(!outcome.baselineFromCache);
  EXPECT(outcome.baseline[0].pixels == outcome.responsible[0].pixels);
  EXPECT_EQ(outcome.request.width, 32);
  EXPECT(outcome.parameters.find("Steps: 3") != std::string::npos);
}

RESPO_TEST(a_concept_changes_only_the_responsible_side_and_reuses_the_baseline) {
  GenerationService service({libraryDir()});
  service.loadModel(modelDir());
  const auto plain = service.generate(smallJob());
  auto job = smallJob();
  job.selection.modules.push_back({{}, libraryDir() / "fits.safetensors", 1.0, 1.0});
  int steps = 0;
  const auto responsible = service.generate(job, [&](const respo::gpu::StepUpdate& u) {
    ++steps;
    EXPECT(u.phase == respo::gpu::GenerationPhase::Responsible);
    EXPECT(!u.preview().empty());
    return true;
  });
  EXPECT_EQ(steps, 3);  // the baseline came from the cache
  EXPECT(responsible.baselineFromCache);
  EXPECT(responsible.baseline[0].pixels == plain.baseline[0].pixels);
  EXPECT(responsible.responsible[0].pixels != responsible.baseline[0].pixels);
  EXPECT(responsible.parameters.find("RespoDiff: crafted violence [RAM 100% SAM 100%]") != std::string::npos);
  // Same seed and noise: a fresh service renders the identical baseline.
  GenerationService fresh({libraryDir()});
  fresh.loadModel(modelDir());
  EXPECT(fresh.generate(job).baseline[0].pixels == plain.baseline[0].pixels);
}

RESPO_TEST(a_cancelled_job_throws_and_the_service_stays_usable) {
  GenerationService service({libraryDir()});
  service.loadModel(modelDir());
  EXPECT_THROWS(service.generate(smallJob(), [](const respo::gpu::StepUpdate& u) { return u.step < 2; }),
                respo::Cancelled, "cancelled");
  const auto outcome = service.generate(smallJob());
  EXPECT(!outcome.baselineFromCache);  // nothing half-done was cached
  EXPECT_EQ(outcome.baseline.size(), std::size_t{1});
}

RESPO_TEST(a_bad_model_file_is_refused_and_the_previous_model_stays) {
  GenerationService service({libraryDir()});
  service.loadModel(modelDir());
  const fs::path bad = libraryDir() / "not-a-model.safetensors";
  std::ofstream(bad) << "this is not a checkpoint";
  bool thrown = false;
  try {
    service.loadModel(bad);
  } catch (const respo::Error& e) {
    thrown = true;
    EXPECT(std::string(e.what()).find("not-a-model") != std::string::npos);
  }
  EXPECT(thrown);
  fs::remove(bad);
  EXPECT_EQ(service.model().source, modelDir());
  EXPECT_EQ(service.generate(smallJob()).baseline.size(), std::size_t{1});
}

RESPO_TEST(the_library_says_which_modules_fit_and_why_not) {
  GenerationService service({libraryDir()});
  for (const auto& c : service.concepts()) EXPECT(!c.fits);  // no model yet
  service.loadModel(modelDir());
  const auto concepts = service.concepts();
  REQUIRE(concepts.size() == 2);
  for (const auto& c : concepts) {
    if (c.settings.name == "crafted violence") {
      EXPECT(c.fits);
    } else {
      EXPECT(!c.fits);
      EXPECT(c.reason.find("another model") != std::string::npos);
    }
  }
  // At another size the bottleneck differs, so the module no longer fits.
  for (const auto& c : service.concepts(64, 64)) EXPECT(!c.fits);
  auto job = smallJob();
  job.request.width = job.request.height = 64;
  job.selection.modules.push_back({{}, libraryDir() / "fits.safetensors", 1.0, 1.0});
  EXPECT_THROWS(service.generate(job), respo::InvalidArgument, "bottleneck");
  job = smallJob();
  job.selection.modules.push_back({{}, libraryDir() / "foreign.safetensors", 1.0, 1.0});
  EXPECT_THROWS(service.generate(job), respo::InvalidArgument, "another model");
}

RESPO_TEST(training_stops_resumes_and_lands_in_the_library) {
  const fs::path folder = fs::temp_directory_path() / ("respodiff-service-train-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  GenerationService service({folder});
  service.loadModel(modelDir());
  respo::gpu::TrainingJob job;
  job.settings = respo::concepts::preset("violence");
  job.settings.steps = 4;
  job.settings.trajectorySteps = 6;
  job.settings.maxTrajectoryStep = 3;
  job.output = folder / "violence.safetensors";
  job.checkpointEvery = 1;
  job.previewEvery = 2;
  job.previewSteps = 2;
  job.previewSeeds = {1};
  EXPECT(GenerationService::checkpointPath(job.output) == folder / "training" / "violence.checkpoint.safetensors");

  // Stop after step 2: the checkpoint is listed as unfinished, the module is not written.
  std::vector<respo::gpu::TrainingUpdate> updates;
  EXPECT_THROWS(service.train(job, [&](const respo::gpu::TrainingUpdate& u) {
    updates.push_back(u);
    return u.step < 2;
  }), respo::Cancelled, "stopped");
  REQUIRE(updates.size() == 3);  // step 0 (previews), 1, 2
  EXPECT_EQ(updates[0].baseline.size(), std::size_t{1});
  EXPECT_EQ(updates[0].current.size(), std::size_t{1});
  EXPECT(updates[1].current.empty());
  EXPECT_EQ(updates[2].current.size(), std::size_t{1});  // every 2 steps
  EXPECT(updates[2].etaSeconds >= 0);
  EXPECT(!fs::exists(job.output));
  const auto unfinished = GenerationService::unfinishedTrainings({folder});
  REQUIRE(unfinished.size() == 1);
  EXPECT_EQ(unfinished[0].stepsDone, 2);
  EXPECT(unfinished[0].output == job.output);
  EXPECT_EQ(unfinished[0].settings.name, std::string("violence"));
  // The library does not list the checkpoint as a module.
  EXPECT(service.concepts().empty());

  // Resume: steps 3 and 4, the history of steps 1-2 first; the module lands and the checkpoint goes.
  updates.clear();
  const auto outcome = service.train(job, [&](const respo::gpu::TrainingUpdate& u) {
    updates.push_back(u);
    return true;
  });
  EXPECT_EQ(outcome.resumedFrom, 2);
  EXPECT_EQ(outcome.steps, 4);
  REQUIRE(!updates.empty());
  EXPECT_EQ(updates.front().history.size(), std::size_t{2});
  EXPECT_EQ(updates.back().step, 4);
  EXPECT(fs::exists(job.output));
  EXPECT(GenerationService::unfinishedTrainings({folder}).empty());
  const auto listed = service.concepts();
  REQUIRE(listed.size() == 1);
  EXPECT(listed[0].fits);

  // The same run without interruption gives the same module.
  auto straight = job;
  straight.output = folder / "straight.safetensors";
  straight.previewEvery = 0;
  service.train(straight);
  std::ifstream a(job.output, std::ios::binary), b(straight.output, std::ios::binary);
  const std::string bytesA((std::istreambuf_iterator<char>(a)), {}), bytesB((std::istreambuf_iterator<char>(b)), {});
  EXPECT(bytesA.size() > 1000);
  EXPECT(bytesA == bytesB);  // tensors and metadata alike

  // Bad settings are refused before anything is written.
  auto bad = job;
  bad.settings.steps = 0;
  bad.output = folder / "bad.safetensors";
  EXPECT_THROWS(service.train(bad), respo::InvalidArgument, "steps");
  EXPECT(!fs::exists(bad.output));
  fs::remove_all(folder);
}

namespace {
// Reads one made-up attribute off the images: "bright" when the mean is above one half.
class BrightnessReader final : public respo::report::AttributeReader {
 public:
  std::vector<std::string> attributes() const override { return {"brightness"}; }
  std::vector<std::string> classes(const std::string&) const override { return {"dark", "bright"}; }
  respo::report::AttributeReading read(const torch::Tensor& images, const std::string&) override {
    respo::report::AttributeReading out;
    out.labels.emplace_back();
    for (int64_t i = 0; i < images.size(0); ++i) out.labels[0].push_back(images[i].mean().item<double>() > 0.5 ? 1 : 0);
    return out;
  }
  std::string name() const override { return "brightness"; }
};
}  // namespace

RESPO_TEST(report_extensions_read_the_models_they_know_and_add_their_prompt_sets) {
  int asked = 0;
  respo::report::ReportExtension other{"other world", [&](const respo::pipeline::StableDiffusionModel&) {
                                         ++asked;
                                         return std::unique_ptr<respo::report::AttributeReader>();
                                       }, {{"Other prompts", {"a photo of a pilot"}}}};
  respo::report::ReportExtension mine{"mine", [&](const respo::pipeline::StableDiffusionModel& model) {
                                        ++asked;
                                        return std::unique_ptr<respo::report::AttributeReader>(
                                            model.nativeImageSize() > 0 ? new BrightnessReader : nullptr);
                                      }, {}};
  respo::gpu::ReportJob job;
  job.settings.prompts = {"a photo of a chef"};
  job.settings.imagesPerPrompt = 2;
  job.settings.steps = 2;
  {
    GenerationService service({libraryDir()}, {other});  // knows no model here
    service.loadModel(modelDir());
    EXPECT_THROWS(service.report(job), respo::InvalidArgument, "needs a CLIP model");
    EXPECT_EQ(asked, 1);
  }
  GenerationService service({libraryDir()}, {other, mine});
  service.loadModel(modelDir());
  const auto report = service.report(job).first();
  EXPECT_EQ(asked, 3);  // each asked in turn until one knows the model
  EXPECT_EQ(report.reader, std::string("brightness"));
  REQUIRE(report.prompts.size() == 1);
  REQUIRE(report.prompts[0].attributes.size() == 1);
  const auto& counts = report.prompts[0].attributes[0];
  EXPECT_EQ(counts.before[0] + counts.before[1], 2);
  EXPECT_EQ(counts.after[0] + counts.after[1], 2);

  const auto sets = GenerationService::builtInPromptSets({other, mine});
  REQUIRE(sets.size() == GenerationService::builtInPromptSets().size() + 1);
  EXPECT_EQ(sets.front().first, std::string("Other prompts"));
}

RESPO_TEST(a_report_compares_several_methods_against_one_baseline_and_sweeps_a_knob) {
  respo::report::ReportExtension mine{"mine", [](const respo::pipeline::StableDiffusionModel&) {
                                        return std::unique_ptr<respo::report::AttributeReader>(new BrightnessReader);
                                      }, {}};
  GenerationService service({libraryDir()}, {mine});
  service.loadModel(modelDir());
  respo::gpu::ReportJob job;
  job.settings.prompts = {"a photo of a chef", "a photo of a nurse"};
  job.settings.imagesPerPrompt = 2;
  job.settings.steps = 3;
  job.selection.modules.push_back({{}, libraryDir() / "fits.safetensors", 1.0, 1.0});
  respo::gpu::ReportMethodChoice modules{"RespoDiff", true, {}, {}};
  respo::gpu::ReportMethodChoice sld{"SLD max", false, {}, {}};
  sld.methods.sld = respo::pipeline::SafeLatentGuidance::preset("max");
  respo::gpu::ReportMethodChoice negative{"negative", false, {}, {}};
  negative.methods.negativeText = "blurry";
  job.methods = {modules, sld, negative};
  const auto result = service.report(job);
  REQUIRE(result.reports.size() == 3);
  EXPECT(result.labels == (std::vector<std::string>{"RespoDiff", "SLD max", "negative"}));
  EXPECT(result.tradeoffMetric.empty());
  for (const auto& report : result.reports) {
    REQUIRE(report.prompts.size() == 2);
    // One baseline: every method's "before" is the same images.
    for (std::size_t p = 0; p < 2; ++p) {
      EXPECT(report.prompts[p].attributes[0].before == result.first().prompts[p].attributes[0].before);
      EXPECT(report.prompts[p].distance > 0);  // each method changed the images
    }
  }
  // A method that does nothing, or the modules with none checked, is refused with its name.
  job.methods = {respo::gpu::ReportMethodChoice{"nothing", false, {}, {}}};
  EXPECT_THROWS(service.report(job), respo::InvalidArgument, "method 'nothing' does nothing");
  auto empty = job;
  empty.selection.modules.clear();
  empty.methods = {modules};
  EXPECT_THROWS(service.report(empty), respo::InvalidArgument, "check at least one");
  // A sweep: RAM strength at three settings; the result names the trade-off's metric.
  job.methods.clear();
  for (double ram : {0.0, 1.0, 2.0}) job.methods.push_back({"RAM " + std::to_string(ram), true, ram, {}});
  job.sweep = true;
  const auto sweep = service.report(job);
  REQUIRE(sweep.reports.size() == 3);
  EXPECT_EQ(sweep.tradeoffMetric, std::string("brightness devrat"));
  // The knob turns: RAM strength changes the images (at RAM 0 the module's SAM still acts).
  EXPECT(std::abs(sweep.reports[2].meanDistance() - sweep.reports[0].meanDistance()) > 1e-6);
  const auto points = respo::report::tradeoff(sweep.labels, sweep.reports, sweep.tradeoffMetric);
  EXPECT_EQ(points.size(), std::size_t{4});  // the plain model, then each setting
}

RESPO_TEST(the_report_compares_without_and_with_the_modules) {
  GenerationService service({libraryDir()});
  service.loadModel(modelDir());
  respo::gpu::ReportJob job;
  job.settings.prompts = {"a photo of a chef"};
  job.settings.imagesPerPrompt = 2;
  job.settings.steps = 2;
  // This random-weight model is not the toy model: without a CLIP folder the report says what it needs.
  EXPECT_THROWS(service.report(job), respo::InvalidArgument, "needs a CLIP model");
  job.clipFolder = libraryDir() / "no-such-clip";
  EXPECT_THROWS(service.report(job), respo::Error, "no-such-clip");
  const auto sets = GenerationService::builtInPromptSets();
  REQUIRE(!sets.empty());
  bool allTemplates = false;
  for (const auto& [name, prompts] : sets)
    if (name.find("all 5 templates") != std::string::npos) allTemplates = prompts.size() == 5 * respo::report::winoBiasProfessions().size();
  EXPECT(allTemplates);
}
