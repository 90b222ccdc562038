// Soak: long runs through the generation service on the embedded toy model, watching resident
// memory and open file descriptors. Many generations with concepts switched on and off, the model
// loaded and unloaded again and again, and a long training run paused and resumed. After a warm-up
// (allocator pools, LibTorch's thread pool, the first kernels) both must stay flat.
//   test_soak [--generations N] [--loads N] [--training-steps N]   (defaults: the CI-sized run)
#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/common/error.h"
#include "core/respo/concept_settings.h"
#include "gpu/generation_service.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo;

namespace {

int option(const char* name, int fallback) {
  const auto text = respo::testing::option(name);
  return text.empty() ? fallback : std::stoi(text);
}

double residentMegabytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

int openDescriptors() {
  int n = 0;
  if (DIR* dir = ::opendir("/proc/self/fd")) {
    while (const dirent* e = ::readdir(dir))
      if (e->d_name[0] != '.') ++n;
    ::closedir(dir);
  }
  return n - 1;  // the directory stream itself
}

fs::path scratch() { return respo::testing::scratchFolder("respodiff-soak"); }

// Growth allowed after the warm-up: glibc keeps freed blocks in its arenas, so resident memory
// moves by a few MB with the sizes in flight; a leak of even one image per run would exceed it.
constexpr double kAllowedGrowthMb = 48;

// Resident memory and open files, taken after the warm-up and compared at the end.
struct Probe {
  double warmRss = 0;
  int warmFds = 0;
  void warm() { warmRss = residentMegabytes(), warmFds = openDescriptors(); }
  // Prints the figures and checks both stayed flat.
  void finish(const char* what, int runs) const {
    const double endRss = residentMegabytes();
    const int endFds = openDescriptors();
    std::printf("  %s: %d runs; resident %.1f MB after warm-up, %.1f MB at the end (%+.1f MB); open files %d -> %d\n",
                what, runs, warmRss, endRss, endRss - warmRss, warmFds, endFds);
    std::fflush(stdout);
    EXPECT(endRss - warmRss < kAllowedGrowthMb);
    EXPECT_EQ(endFds, warmFds);
  }
};

const fs::path& shipped() {
  static const fs::path p = gpu::GenerationService::defaultModelPath().parent_path() / "concepts";
  return p;
}

}  // namespace

RESPO_TEST(generations_with_concepts_toggling_keep_memory_and_files_flat) {
  const int runs = option("generations", 60);
  gpu::GenerationService service({scratch() / "library-a"});
  service.loadModel(gpu::GenerationService::defaultModelPath());
  const std::vector<fs::path> modules{shipped() / "gender-woman.safetensors", shipped() / "gender-man.safetensors",
                                      shipped() / "safety-blood.safetensors", shipped() / "skin-dark.safetensors"};
  const int warmup = std::max(1, runs / 10);
  Probe probe;
  for (int i = 0; i < runs; ++i) {
    gpu::GenerationJob job;
    job.request.prompt = i % 3 ? "a photo of a doctor" : "a photo of a firefighter";
    job.request.steps = 4;
    job.request.seed = static_cast<std::uint64_t>(i % 7);
    job.request.batch = 1 + i % 2;
    for (std::size_t m = 0; m < modules.size(); ++m)
      if ((i >> m) & 1) job.selection.modules.push_back({{}, modules[m], 0.5 + 0.1 * (i % 6), 1.0});
    const auto outcome = service.generate(job);
    EXPECT_EQ(outcome.responsible.size(), static_cast<std::size_t>(job.request.batch));
    if (i % 10 == 5) (void)service.concepts();  // the panel's refresh, interleaved
    if (i + 1 == warmup) probe.warm();
  }
  probe.finish("generations", runs);
}

RESPO_TEST(loading_and_unloading_the_model_keeps_memory_and_files_flat) {
  const int runs = option("loads", 6);
  Probe probe;
  for (int i = 0; i < runs; ++i) {
    {
      gpu::GenerationService service({scratch() / "library-b"});
      service.loadModel(gpu::GenerationService::defaultModelPath());
      service.loadModel(gpu::GenerationService::defaultModelPath());  // replacing a loaded model
      gpu::GenerationJob job;
      job.request.prompt = "a photo of a nurse";
      job.request.steps = 2;
      EXPECT_EQ(service.generate(job).baseline.size(), 1u);
    }  // unloaded with the service
    if (i == 0) probe.warm();
  }
  probe.finish("model loads", runs);
}

RESPO_TEST(a_long_training_run_with_pauses_keeps_memory_and_files_flat) {
  const int steps = option("training-steps", 120);
  gpu::GenerationService service({scratch() / "library-c"});
  service.loadModel(gpu::GenerationService::defaultModelPath());
  gpu::TrainingJob job;
  job.settings = concepts::preset("gender-woman");
  job.settings.steps = steps;
  job.settings.trajectorySteps = 10;
  job.settings.maxTrajectoryStep = 8;
  job.output = scratch() / "library-c" / "soak-woman.safetensors";
  job.checkpointEvery = std::max(1, steps / 20);
  const int pauses = 4;
  Probe probe;
  int runs = 0, lastStep = 0;
  bool finished = false;
  while (!finished) {
    const int stopAt = std::min(steps, (runs + 1) * (steps / pauses + 1));
    try {
      const auto outcome = service.train(job, [&](const gpu::TrainingUpdate& u) {
        lastStep = u.step;
        if (std::getenv("SOAK_TRACE")) std::printf("    run %d: update at step %d of %d\n", runs, u.step, u.total);
        if (runs == 0 && u.step == std::max(1, steps / 10)) probe.warm();
        return u.step < stopAt || stopAt >= steps;  // the last run goes to the end
      });
      EXPECT_EQ(outcome.steps, steps);
      finished = true;
    } catch (const Cancelled&) {
      // Paused: the checkpoint is kept and the same job resumes.
      EXPECT(fs::exists(gpu::GenerationService::checkpointPath(job.output)));
    }
    ++runs;
    REQUIRE(runs <= pauses + 2);
  }
  EXPECT_EQ(lastStep, steps);
  EXPECT(fs::exists(job.output));
  EXPECT(runs >= 2);
  probe.finish("training steps", steps);
}
