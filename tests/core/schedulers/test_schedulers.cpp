// core/schedulers: parity with diffusers 0.42.1 (parity_* tests, reading the expectations that
// tests/reference/scheduler_reference.py writes to --dir) and the contract (contract_* tests).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/io/safetensors_torch.h"
#include "core/schedulers/ddim_scheduler.h"
#include "core/schedulers/scheduler.h"
#include "tests/support/testing.h"

namespace fs = std::filesystem;
using namespace respo::sched;
using nlohmann::json;

namespace {

// The reference drives each scheduler by its config; "dpmpp_2m" alone means DPM++ 2M *Karras*, so
// parity cases address that scheduler by its class name, which follows the config exactly.
std::string configured(const std::string& name) {
  return name == "dpmpp_2m" ? "DPMSolverMultistepScheduler" : name;
}


json readJson(const std::string& file) {
  std::ifstream in(fs::path(respo::testing::option("dir")) / file);
  REQUIRE(in.good());
  return json::parse(in);
}

std::string describe(const json& c) {
  return c.at("scheduler").get<std::string>() + "/" + c.at("config_name").get<std::string>() + "/" +
         c.at("spacing").get<std::string>() + "/" + std::to_string(c.at("steps").get<int>());
}

double relativeError(double actual, double expected) {
  if (actual == expected) return 0;
  return std::fabs(actual - expected) / std::max(std::fabs(expected), 1e-30);
}

// The loop the reference runs: a fake model that reads its scaled input, one step per timestep.
torch::Tensor denoise(Scheduler& s, const torch::Tensor& noise, const torch::Tensor& fixed, torch::Generator* gen) {
  auto latents = noise * s.initNoiseSigma();
  for (std::size_t i = 0; i < s.timesteps().size(); ++i) {
    const auto output = fixed[static_cast<std::int64_t>(i)] + s.scaleModelInput(latents, i) * 0.1;
    latents = s.step(output, i, latents, gen);
  }
  return latents;
}

double maxRelative(const torch::Tensor& actual, const torch::Tensor& expected) {
  return ((actual - expected).abs().max() / expected.abs().max()).item<double>();
}

}  // namespace

// ---- parity ------------------------------------------------------------------------------------

RESPO_TEST(parity_timesteps_and_sigmas) {
  const auto data = readJson("schedules.json");
  std::size_t cases = 0, values = 0, sigmaValues = 0, inexact = 0, karrasValues = 0, karrasInexact = 0;
  double worstKarras = 0, worstSigma = 0, worstInit = 0;
  for (const auto& c : data.at("cases")) {
    auto s = makeScheduler(configured(c.at("scheduler")), SchedulerConfig::fromJson(c.at("config")));
    s->setTimesteps(c.at("steps"));
    const auto expected = c.at("timesteps").get<std::vector<double>>();
    const auto& actual = s->timesteps();
    ++cases;
    if (actual.size() != expected.size()) {
      EXPECT_EQ(describe(c) + " count " + std::to_string(actual.size()),
                describe(c) + " count " + std::to_string(expected.size()));
      continue;
    }
    // Euler's Karras timesteps are fractions interpolated in log-sigma, and diffusers takes those
    // logs with numpy's vectorised float32 log, which is not correctly rounded (on AVX2/AVX-512
    // machines about 1 in 5 values is one ulp off std::log). They may differ by a few float32
    // ulps; the sigmas, which alone drive Euler's steps, must still match. Everything else: exact.
    const bool fractional = c.at("scheduler") == "euler" && c.at("config").at("use_karras_sigmas") == true;
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ++values;
      karrasValues += fractional;
      if (actual[i] == expected[i]) continue;
      const double diff = std::fabs(actual[i] - expected[i]);
      if (fractional && diff <= 1e-4) {
        ++karrasInexact;
        worstKarras = std::max(worstKarras, diff);
      } else if (++inexact <= 10) {
        std::cout << "  timestep " << describe(c) << "[" << i << "]: " << actual[i] << " vs " << expected[i] << "\n";
      }
    }
    if (!c.at("sigmas").is_null()) {
      const auto sig = c.at("sigmas").get<std::vector<double>>();
      const auto mine = s->sigmas();
      REQUIRE(mine.size() == sig.size());
      for (std::size_t i = 0; i < sig.size(); ++i, ++sigmaValues)
        worstSigma = std::max(worstSigma, relativeError(mine[i], sig[i]));
    }
    worstInit = std::max(worstInit, relativeError(s->initNoiseSigma(), c.at("init_noise_sigma")));
  }
  std::cout << "  " << cases << " schedules, " << values << " timesteps: " << inexact << " differ beyond the "
            << "allowance; Euler Karras fractional timesteps: " << karrasInexact << " of " << karrasValues
            << " not bit-exact, max abs diff " << worstKarras << "\n  " << sigmaValues
            << " sigmas, max rel err " << worstSigma << "; init_noise_sigma max rel err " << worstInit << "\n";
  EXPECT(cases > 10000);
  EXPECT_EQ(inexact, std::size_t{0});
  EXPECT(worstSigma <= 1e-6);
  EXPECT(worstInit <= 1e-6);
}

RESPO_TEST(parity_alphas_cumprod_bit_exact) {
  const auto data = readJson("schedules.json");
  for (const auto& [key, values] : data.at("alphas_cumprod").items()) {
    const auto slash = key.find('/');
    const auto name = key.substr(0, slash), configName = key.substr(slash + 1);
    for (const auto& c : data.at("cases")) {
      if (c.at("scheduler") != name || c.at("config_name") != configName) continue;
      const auto s = makeScheduler(configured(name), SchedulerConfig::fromJson(c.at("config")));
      const auto expected = torch::tensor(values.get<std::vector<double>>(), torch::kFloat64).to(torch::kFloat32);
      EXPECT(s->alphasCumprod().scalar_type() == torch::kFloat32);
      if (!torch::equal(s->alphasCumprod(), expected)) EXPECT_EQ(key, std::string("bit-exact alphas_cumprod"));
      break;
    }
  }
}

RESPO_TEST(parity_refuses_what_diffusers_refuses) {
  const auto data = readJson("schedules.json");
  std::size_t refused = 0;
  for (const auto& c : data.at("refused")) {
    auto s = makeScheduler(configured(c.at("scheduler")), SchedulerConfig::fromJson(c.at("config")));
    EXPECT_THROWS(s->setTimesteps(c.at("steps")), respo::InvalidArgument, "");
    ++refused;
  }
  std::cout << "  " << refused << " combinations diffusers refuses are refused here too\n";
}

RESPO_TEST(parity_denoising_loops) {
  const auto meta = readJson("steps.json");
  const auto file = respo::io::SafetensorsFile::open(fs::path(respo::testing::option("dir")) / "steps.safetensors");
  double worst = 0;
  std::size_t loops = 0;
  for (const auto& c : meta.at("cases")) {
    const std::string key = c.at("key");
    auto s = makeScheduler(configured(c.at("scheduler")), SchedulerConfig::fromJson(c.at("config")));
    s->setTimesteps(c.at("steps"));
    REQUIRE(s->timesteps().size() == c.at("calls").get<std::size_t>());
    std::optional<torch::Generator> gen;
    if (!c.at("seed").is_null()) gen = at::make_generator<at::CPUGeneratorImpl>(c.at("seed").get<std::uint64_t>());
    const auto final = denoise(*s, respo::io::loadTensor(file, key + "/noise"), respo::io::loadTensor(file, key + "/fixed"),
                               gen ? &*gen : nullptr);
    const auto expected = respo::io::loadTensor(file, key + "/final");
    const double err = maxRelative(final, expected);
    worst = std::max(worst, err);
    if (!(err <= 1e-5)) EXPECT_EQ(key + " " + describe(c) + " rel err " + std::to_string(err), std::string("<= 1e-5"));
    if (gen) {
      // Both sides must have drawn the same amount of noise: their next draws agree.
      const auto next = torch::randn({16}, *gen);
      EXPECT(torch::equal(next, respo::io::loadTensor(file, key + "/next_noise")));
    }
    ++loops;
  }
  std::cout << "  " << loops << " denoising loops, max relative error of the final sample " << worst << "\n";
  EXPECT(loops >= 18);
}

// ---- contract ----------------------------------------------------------------------------------

namespace {

// SD1.5's scheduler_config.json: the defaults plus skip_prk_steps, which SD1 configs set explicitly.
SchedulerConfig sd1() {
  SchedulerConfig c;
  c.skipPrkSteps = true;
  return c;
}

struct LoopInputs {
  torch::Tensor noise, fixed;
};

LoopInputs loopInputs(std::size_t calls) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
  return {torch::randn({1, 4, 8, 8}, gen), torch::randn({static_cast<std::int64_t>(calls), 1, 4, 8, 8}, gen)};
}

}  // namespace

RESPO_TEST(contract_default_config_is_sd15_and_pndm) {
  const SchedulerConfig c;
  EXPECT_EQ(c.className, std::string("PNDMScheduler"));
  EXPECT_EQ(c.betaSchedule, std::string("scaled_linear"));
  EXPECT_EQ(c.stepsOffset, 1);
  EXPECT_EQ(makeScheduler("", c)->name(), std::string("pndm"));
  EXPECT_EQ(makeScheduler("default", c)->name(), std::string("pndm"));
}

RESPO_TEST(contract_names_and_diffusers_classes) {
  for (const auto& name : schedulerNames()) EXPECT_EQ(makeScheduler(name, sd1())->name(), name);
  // The short name is DPM++ 2M Karras whatever the model's config says.
  const auto karras = makeScheduler("dpmpp_2m", sd1());
  karras->setTimesteps(10);
  const auto plain = makeScheduler("DPMSolverMultistepScheduler", sd1());
  plain->setTimesteps(10);
  EXPECT(karras->sigmas() != plain->sigmas());
  const std::vector<std::pair<std::string, std::string>> classes{
      {"DDIMScheduler", "ddim"}, {"EulerDiscreteScheduler", "euler"}, {"EulerAncestralDiscreteScheduler", "euler_a"},
      {"DPMSolverMultistepScheduler", "dpmpp_2m"}, {"PNDMScheduler", "pndm"}};
  for (const auto& [cls, name] : classes) {
    EXPECT_EQ(makeScheduler(cls, sd1())->name(), name);
    auto c = sd1();
    c.className = cls;
    EXPECT_EQ(makeScheduler("", c)->name(), name);
  }
  EXPECT_THROWS(makeScheduler("heun", sd1()), respo::InvalidArgument, "unknown scheduler 'heun'");
  EXPECT_THROWS(makeScheduler("heun", sd1()), respo::InvalidArgument, "ddim, euler, euler_a, dpmpp_2m, pndm");
}

RESPO_TEST(contract_config_reads_a_diffusers_file_and_round_trips) {
  // SD1.5's scheduler_config.json, with keys these schedulers do not use.
  const auto j = json::parse(R"({"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0",
    "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false,
    "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
    "trained_betas": null, "sample_max_value": 1.0, "thresholding": false})");
  EXPECT(SchedulerConfig::fromJson(j) == sd1());
  SchedulerConfig c;
  c.className = "EulerDiscreteScheduler";
  c.numTrainTimesteps = 500;
  c.betaStart = 0.0001;
  c.betaEnd = 0.02;
  c.betaSchedule = "linear";
  c.predictionType = "v_prediction";
  c.timestepSpacing = "trailing";
  c.stepsOffset = 0;
  c.setAlphaToOne = true;
  c.clipSample = true;
  c.clipSampleRange = 2.5;
  c.skipPrkSteps = false;
  c.useKarrasSigmas = true;
  c.interpolationType = "log_linear";
  c.rescaleBetasZeroSnr = true;
  c.timestepType = "continuous";
  EXPECT(SchedulerConfig::fromJson(c.toJson()) == c);
  EXPECT(SchedulerConfig::fromJson(json::parse(c.toJson().dump())) == c);

  const fs::path path = fs::temp_directory_path() / "respodiff-scheduler-config.json";
  std::ofstream(path) << c.toJson().dump(2);
  EXPECT(SchedulerConfig::fromFile(path) == c);
}

RESPO_TEST(contract_config_type_errors_name_the_key_and_file) {
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"num_train_timesteps": "1000"})")), respo::FormatError,
                "'num_train_timesteps' must be an integer");
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"num_train_timesteps": 1000.5})")), respo::FormatError,
                "num_train_timesteps");
  EXPECT_EQ(SchedulerConfig::fromJson(json::parse(R"({"num_train_timesteps": 1000.0})")).numTrainTimesteps, 1000);
  EXPECT_EQ(SchedulerConfig::fromJson(json::parse(R"({"use_karras_sigmas": null})")).useKarrasSigmas, false);
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"beta_start": "small"})")), respo::FormatError,
                "'beta_start' must be a finite number");
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"use_karras_sigmas": 1})")), respo::FormatError,
                "'use_karras_sigmas' must be true or false");
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"timestep_spacing": 3})")), respo::FormatError,
                "'timestep_spacing' must be a string");
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse("[1, 2]")), respo::FormatError, "JSON object");

  const fs::path dir = fs::temp_directory_path();
  EXPECT_THROWS(SchedulerConfig::fromFile(dir / "respodiff-no-such-config.json"), respo::IoError,
                "respodiff-no-such-config.json");
  std::ofstream(dir / "respodiff-bad-config.json") << "{\"beta_start\": ";
  EXPECT_THROWS(SchedulerConfig::fromFile(dir / "respodiff-bad-config.json"), respo::FormatError,
                "respodiff-bad-config.json: not valid JSON");
  std::ofstream(dir / "respodiff-typed-config.json") << R"({"steps_offset": true})";
  EXPECT_THROWS(SchedulerConfig::fromFile(dir / "respodiff-typed-config.json"), respo::FormatError,
                "respodiff-typed-config.json: scheduler config: 'steps_offset'");
}

RESPO_TEST(contract_unsupported_settings_are_refused_not_ignored) {
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"trained_betas": [0.1, 0.2]})")), respo::InvalidArgument,
                "trained_betas");
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(R"({"thresholding": true})")), respo::InvalidArgument,
                "thresholding");
  EXPECT_THROWS(SchedulerConfig::fromJson(json::parse(
                    R"({"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "sde-dpmsolver++"})")),
                respo::InvalidArgument, "algorithm_type");
  // A DPM-only key with its default value, and on another class, is fine.
  EXPECT_EQ(SchedulerConfig::fromJson(json::parse(R"({"_class_name": "DPMSolverMultistepScheduler",
    "algorithm_type": "dpmsolver++", "solver_order": 2, "lambda_min_clipped": null})")).className,
            std::string("DPMSolverMultistepScheduler"));
  auto c = sd1();
  c.betaSchedule = "cubic";
  EXPECT_THROWS(makeScheduler("ddim", c), respo::InvalidArgument, "beta_schedule 'cubic'");
  c = sd1();
  c.timestepSpacing = "uniform";
  EXPECT_THROWS(makeScheduler("euler", c), respo::InvalidArgument, "uniform");
  c = sd1();
  c.rescaleBetasZeroSnr = true;
  EXPECT_THROWS(makeScheduler("pndm", c), respo::InvalidArgument, "rescale_betas_zero_snr");
  c = sd1();
  c.predictionType = "sample";
  EXPECT_THROWS(makeScheduler("euler_a", c), respo::InvalidArgument, "prediction_type 'sample'");
  c = sd1();
  c.skipPrkSteps = false;
  EXPECT_THROWS(makeScheduler("pndm", c)->setTimesteps(3), respo::InvalidArgument, "at least 4 steps");
}

RESPO_TEST(contract_step_counts_out_of_range) {
  for (const auto& name : schedulerNames()) {
    auto s = makeScheduler(name, sd1());
    EXPECT_THROWS(s->setTimesteps(0), respo::InvalidArgument, "steps must be between 1 and 1000, got 0");
    EXPECT_THROWS(s->setTimesteps(100000), respo::InvalidArgument, "steps must be between 1 and 1000, got 100000");
    EXPECT_THROWS(s->setTimesteps(-3), respo::InvalidArgument, "got -3");
    s->setTimesteps(1000);  // the largest valid count works
    EXPECT(!s->timesteps().empty());
  }
}

RESPO_TEST(contract_misuse_of_step_is_reported) {
  const auto x = torch::zeros({1, 4, 2, 2});
  for (const auto& name : schedulerNames()) {
    auto s = makeScheduler(name, sd1());
    EXPECT_THROWS(s->step(x, 0, x), respo::InvalidArgument, "setTimesteps");
    s->setTimesteps(5);
    EXPECT_THROWS(s->step(x, s->timesteps().size(), x), respo::InvalidArgument, "past the last");
  }
  for (const std::string name : {"dpmpp_2m", "pndm"}) {
    auto s = makeScheduler(name, sd1());
    s->setTimesteps(5);
    s->step(x, 0, x);
    EXPECT_THROWS(s->step(x, 2, x), respo::InvalidArgument, "expected step 1");
    s->setTimesteps(5);  // resets the history: any first step is accepted again (img2img)
    s->step(x, 2, x);
    s->step(x, 3, x);
  }
}

RESPO_TEST(contract_loops_are_deterministic_and_reset_by_set_timesteps) {
  for (const auto& name : schedulerNames()) {
    auto a = makeScheduler(name, sd1());
    auto b = makeScheduler(name, sd1());
    a->setTimesteps(12);
    b->setTimesteps(12);
    const auto in = loopInputs(a->timesteps().size());
    auto g1 = at::make_generator<at::CPUGeneratorImpl>(5);
    auto g2 = at::make_generator<at::CPUGeneratorImpl>(5);
    const auto first = denoise(*a, in.noise, in.fixed, &g1);
    EXPECT(torch::equal(first, denoise(*b, in.noise, in.fixed, &g2)));
    EXPECT(torch::isfinite(first).all().item<bool>());
    // The same scheduler again, after setTimesteps cleared its history.
    a->setTimesteps(12);
    auto g3 = at::make_generator<at::CPUGeneratorImpl>(5);
    EXPECT(torch::equal(first, denoise(*a, in.noise, in.fixed, &g3)));
    if (name == "euler_a") {
      auto other = at::make_generator<at::CPUGeneratorImpl>(6);
      a->setTimesteps(12);
      EXPECT(!torch::equal(first, denoise(*a, in.noise, in.fixed, &other)));
    }
  }
}

RESPO_TEST(contract_ddim_steps_are_independent_of_order) {
  DdimScheduler ddim(sd1());
  ddim.setTimesteps(20);
  EXPECT_EQ(ddim.timesteps().front(), 951.0);
  EXPECT_EQ(ddim.previousTimestep(0), 901.0);
  EXPECT_EQ(ddim.previousTimestep(19), -49.0);
  const auto in = loopInputs(20);
  // Any single step gives the same result whether or not other steps ran before it.
  const auto x = in.noise, eps = in.fixed[0];
  const auto alone = ddim.step(eps, 7, x);
  ddim.step(eps, 3, x);
  ddim.step(eps, 15, x);
  EXPECT(torch::equal(alone, ddim.step(eps, 7, x)));
  // The trainer's partial trajectory: steps 0..k only.
  auto y = x;
  for (std::size_t i = 0; i < 5; ++i) y = ddim.step(in.fixed[static_cast<std::int64_t>(i)], i, y);
  EXPECT(torch::isfinite(y).all().item<bool>());
}

RESPO_TEST(contract_add_noise_and_scaling) {
  auto s = makeScheduler("ddim", sd1());
  const auto x = torch::randn({2, 3}), n = torch::randn({2, 3});
  const auto acp = s->alphasCumprod()[500];
  EXPECT(torch::allclose(s->addNoise(x, n, 500), acp.sqrt() * x + (1 - acp).sqrt() * n));
  EXPECT_THROWS(s->addNoise(x, n, 1000), respo::InvalidArgument, "timestep");
  EXPECT_THROWS(s->addNoise(x, n, 2.5), respo::InvalidArgument, "timestep");
  s->setTimesteps(10);
  EXPECT(torch::equal(s->scaleModelInput(x, 0), x));
  EXPECT_EQ(s->initNoiseSigma(), 1.0);
  auto e = makeScheduler("euler", sd1());
  e->setTimesteps(10);
  const double sigma0 = e->sigmas()[0];
  EXPECT(torch::allclose(e->scaleModelInput(x, 0), x / std::sqrt(sigma0 * sigma0 + 1)));
  EXPECT_NEAR(e->initNoiseSigma(), std::sqrt(sigma0 * sigma0 + 1), 1e-4);  // "leading" spacing
  EXPECT_EQ(e->sigmas().size(), e->timesteps().size() + 1);
  EXPECT_EQ(e->sigmas().back(), 0.0);
}
