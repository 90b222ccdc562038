// respodiff: the command line. Each subcommand mirrors one engine function.
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "app/command_line.h"
#include "core/common/error.h"
#include "core/io/image.h"
#include "core/io/safetensors.h"
#include "core/models/component_weights.h"
#include "core/pipeline/generation_parameters.h"
#include "core/pipeline/text_to_image.h"
#include "core/respo/composition.h"
#include "core/respo/reference_import.h"
#include "core/respo/trainer.h"
#include "core/text/clip_tokenizer.h"
#include "gpu/compute_device.h"

namespace {

using respo::app::CommandLine;

struct Subcommand {
  const char* name;
  const char* summary;
  const char* usage;
  std::function<int(const std::vector<std::string>&)> run;
};

int inspect(const std::vector<std::string>& args) {
  const CommandLine cl(args, {}, {});
  if (cl.positional().size() != 1) throw respo::InvalidArgument("inspect needs exactly one FILE");
  const auto file = respo::io::SafetensorsFile::open(cl.positional()[0]);
  std::size_t bytes = 0;
  for (const auto& t : file.tensors()) {
    std::string shape;
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (i) shape += 'x';
      shape += std::to_string(t.shape[i]);
    }
    std::cout << t.name << "\t" << respo::io::dtypeName(t.dtype) << "\t[" << shape << "]\n";
    bytes += t.end - t.begin;
  }
  for (const auto& [key, value] : file.metadata()) std::cout << "metadata\t" << key << "\t" << value << "\n";
  std::cout << file.tensors().size() << " tensors, " << bytes << " bytes of data\n";
  return 0;
}

respo::text::ClipTokenizer loadTokenizer(const CommandLine& cl) {
  if (auto folder = cl.value("tokenizer")) return respo::text::ClipTokenizer::fromFolder(*folder);
  if (auto bpe = cl.value("bpe"))
    return respo::text::ClipTokenizer::fromOpenClipBpe(
        *bpe, cl.has("openclip-padding") ? respo::text::TokenizerSettings::openClip()
                                          : respo::text::TokenizerSettings::sd1());
  throw respo::InvalidArgument("give --tokenizer DIR (a tokenizer/ folder) or --bpe FILE.gz");
}

int tokenize(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"tokenizer", "bpe"}, {"openclip-padding"});
  if (cl.positional().size() != 1) throw respo::InvalidArgument("tokenize needs exactly one TEXT");
  const auto tokenizer = loadTokenizer(cl);
  const auto encoded = tokenizer(cl.positional()[0]);
  const auto used = std::count(encoded.attentionMask.begin(), encoded.attentionMask.end(), 1);
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(encoded.ids.size()); ++i)
    std::cout << encoded.ids[i] << (i + 1 < static_cast<std::int64_t>(encoded.ids.size()) ? " " : "\n");
  std::cout << used << " of " << tokenizer.maxLength() << " tokens used"
            << (encoded.truncated ? " (the prompt was truncated)" : "") << "\n";
  return 0;
}

int exportTokenizer(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"tokenizer", "bpe", "out"}, {"openclip-padding"});
  const auto tokenizer = loadTokenizer(cl);
  tokenizer.saveFolder(cl.require("out"));
  std::cout << "wrote " << cl.require("out") << " (" << tokenizer.vocabSize() << " tokens)\n";
  return 0;
}

int devices(const std::vector<std::string>& args) {
  const CommandLine cl(args, {}, {});
  for (const auto& line : respo::gpu::describeDevices()) std::cout << line << "\n";
  std::cout << "default: " << respo::gpu::chooseDevice().description << "\n";
  return 0;
}

int generate(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"model", "prompt", "negative", "seed", "steps", "cfg", "scheduler", "width", "height",
                        "batch", "out", "device", "precision", "config-from", "variant", "clip-skip", "concept",
                        "ram-strength", "sam-strength", "policy", "fixed-member", "group-weight"},
                       {"quiet", "compare", "ignore-fingerprint", "low-memory"});
  namespace fs = std::filesystem;
  const auto compute = respo::gpu::chooseDevice(respo::gpu::parseDevicePreference(cl.value("device").value_or("auto")),
                                                respo::gpu::parsePrecision(cl.value("precision").value_or("auto")));
  respo::pipeline::LoadOptions load;
  load.device = compute.device;
  load.dtype = compute.dtype;
  load.variant = cl.value("variant").value_or("");
  load.configFolder = cl.value("config-from").value_or("");
  if (cl.has("low-memory")) load.storage = respo::models::WeightStorage::Mapped;
  const fs::path modelPath = cl.require("model");
  auto model = respo::pipeline::loadStableDiffusion(modelPath, load);

  auto integer = [&](const char* name, long long fallback) {
    const auto text = cl.value(name);
    if (!text) return fallback;
    try {
      std::size_t used = 0;
      const long long value = std::stoll(*text, &used);
      if (used != text->size()) throw std::invalid_argument(*text);
      return value;
    } catch (const std::exception&) {
      throw respo::InvalidArgument("--" + std::string(name) + " expects a whole number, got '" + *text + "'");
    }
  };
  respo::pipeline::GenerationRequest request;
  request.prompt = cl.require("prompt");
  request.negativePrompt = cl.value("negative").value_or("");
  request.seed = static_cast<std::uint64_t>(integer("seed", 0));
  request.steps = static_cast<int>(integer("steps", 25));
  request.width = static_cast<int>(integer("width", 0));
  request.height = static_cast<int>(integer("height", 0));
  request.batch = static_cast<int>(integer("batch", 1));
  request.clipSkip = static_cast<int>(integer("clip-skip", 0));
  request.scheduler = cl.value("scheduler").value_or("");
  if (auto cfg = cl.value("cfg")) {
    try {
      request.guidanceScale = std::stod(*cfg);
    } catch (const std::exception&) {
      throw respo::InvalidArgument("--cfg expects a number, got '" + *cfg + "'");
    }
  }
  const int native = model.nativeImageSize();
  if (request.width == 0) request.width = native;
  if (request.height == 0) request.height = native;

  const bool quiet = cl.has("quiet");
  auto progress = [&](const respo::pipeline::StepProgress& p) {
    if (!quiet) std::fprintf(stderr, "\rstep %d/%d", p.step, p.total);
    return true;
  };

  // Concept modules: fairness modules grouped by their group (one member per image), safety summed.
  std::map<std::string, std::string> extra;
  respo::models::BottleneckHook hook;
  if (auto list = cl.value("concept")) {
    respo::concepts::Composition composition;
    composition.seed = request.seed;
    const double ram = std::stod(cl.value("ram-strength").value_or("1")), sam = std::stod(cl.value("sam-strength").value_or("1"));
    const auto fingerprint = respo::concepts::modelFingerprint(model.unet);
    std::string names;
    std::stringstream items(*list);
    for (std::string file; std::getline(items, file, ',');) {
      auto loaded = std::make_shared<respo::concepts::ConceptModule>(respo::concepts::loadConcept(file));
      if (loaded->modelFingerprint != fingerprint && !cl.has("ignore-fingerprint"))
        throw respo::InvalidArgument(file + ": was trained on another model (fingerprint " + loaded->modelFingerprint +
                                     ", this model " + fingerprint + "); pass --ignore-fingerprint to apply it anyway");
      names += (names.empty() ? "" : "; ") + loaded->settings.name;
      respo::concepts::ConceptUse use{loaded, ram, sam};
      if (loaded->settings.kind == respo::concepts::ConceptKind::Safety) {
        composition.safety.push_back(use);
        continue;
      }
      auto group = std::find_if(composition.fairness.begin(), composition.fairness.end(),
                                [&](const auto& g) { return g.name == loaded->settings.group; });
      if (group == composition.fairness.end()) {
        composition.fairness.push_back({loaded->settings.group, {}, respo::concepts::parsePolicy(cl.value("policy").value_or("random")),
                                        cl.value("fixed-member").value_or(""), 1.0});
        group = composition.fairness.end() - 1;
      }
      group->members.push_back(use);
    }
    // --group-weight gender=0.6,race=0.4 (intersectional use; 1 by default)
    if (auto weights = cl.value("group-weight")) {
      std::stringstream entries(*weights);
      for (std::string entry; std::getline(entries, entry, ',');) {
        const auto eq = entry.find('=');
        auto group = std::find_if(composition.fairness.begin(), composition.fairness.end(),
                                  [&](const auto& g) { return eq != std::string::npos && g.name == entry.substr(0, eq); });
        if (group == composition.fairness.end())
          throw respo::InvalidArgument("--group-weight '" + entry + "' names no fairness group of the given concepts");
        try {
          group->weight = std::stod(entry.substr(eq + 1));
        } catch (const std::exception&) {
          throw respo::InvalidArgument("--group-weight '" + entry + "' needs a number after '='");
        }
      }
    }
    const int factor = model.vaeScaleFactor();
    const auto h = model.unet->bottleneckShape(request.height / factor, request.width / factor);
    hook = respo::concepts::makeConceptHook(respo::concepts::composeDeltas(composition, request.batch, h).perImage);
    extra["RespoDiff"] = names + " (RAM " + cl.value("ram-strength").value_or("1") + ", SAM " +
                         cl.value("sam-strength").value_or("1") + ", " + cl.value("policy").value_or("random") + ")";
  }

  respo::pipeline::TextToImagePipeline pipeline(model);
  const auto result = pipeline.generate(request, progress, hook);
  if (!quiet) std::fprintf(stderr, "\n");
  std::vector<respo::io::RgbImage> baseline;
  if (cl.has("compare")) {
    if (!hook) throw respo::InvalidArgument("--compare needs at least one --concept");
    baseline = pipeline.generate(request, progress).rgb;  // same seed, same noise, no modules
    if (!quiet) std::fprintf(stderr, "\n");
  }
  const fs::path out = cl.value("out").value_or("respodiff.png");
  const auto parameters = respo::pipeline::formatParameters(request, modelPath.filename().string(), extra);
  for (std::size_t i = 0; i < result.rgb.size(); ++i) {
    fs::path target = out;
    if (result.rgb.size() > 1)
      target = out.parent_path() / (out.stem().string() + "-" + std::to_string(i) + out.extension().string());
    const auto image = baseline.empty() ? result.rgb[i] : respo::io::sideBySide({baseline[i], result.rgb[i]});
    respo::io::writePng(target, image, {{"parameters", parameters}});
    std::cout << "wrote " << target.string() << (baseline.empty() ? "" : " (baseline | responsible)") << "\n";
  }
  return 0;
}

int trainConcept(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"model", "preset", "name", "group", "kind", "neutral", "target", "negative", "steps", "batch",
                        "seed", "ram-lr", "sam-lr", "lambda", "w-tar", "trajectory-cfg", "init", "timestep",
                        "resolution", "checkpoint", "checkpoint-every", "out", "device", "precision", "trajectory-steps",
                        "max-trajectory-step"},
                       {"resume", "quiet"});
  namespace c = respo::concepts;
  c::ConceptSettings s = cl.value("preset") ? c::preset(*cl.value("preset")) : c::ConceptSettings{};
  auto text = [&](const char* key, std::string& target) { if (auto v = cl.value(key)) target = *v; };
  auto real = [&](const char* key, double& target) {
    if (auto v = cl.value(key)) {
      try { target = std::stod(*v); } catch (const std::exception&) {
        throw respo::InvalidArgument(std::string("--") + key + " expects a number, got '" + *v + "'");
      }
    }
  };
  auto whole = [&](const char* key, auto& target) {
    if (auto v = cl.value(key)) {
      try { target = static_cast<std::remove_reference_t<decltype(target)>>(std::stoll(*v)); } catch (const std::exception&) {
        throw respo::InvalidArgument(std::string("--") + key + " expects a whole number, got '" + *v + "'");
      }
    }
  };
  text("name", s.name), text("group", s.group), text("neutral", s.neutralPrompt), text("target", s.targetPrompt);
  text("negative", s.negativePrompt), text("init", s.init);
  if (auto kind = cl.value("kind")) s.kind = *kind == "safety" ? c::ConceptKind::Safety : c::ConceptKind::Fairness;
  if (auto t = cl.value("timestep")) s.timestep = *t == "trajectory" ? c::TimestepConvention::Trajectory : c::TimestepConvention::Reference;
  whole("steps", s.steps), whole("batch", s.batch), whole("seed", s.seed), whole("resolution", s.resolution);
  whole("trajectory-steps", s.trajectorySteps);
  s.maxTrajectoryStep = std::min(s.maxTrajectoryStep, s.trajectorySteps - 2);
  whole("max-trajectory-step", s.maxTrajectoryStep);
  real("ram-lr", s.ramLearningRate), real("sam-lr", s.samLearningRate), real("lambda", s.semanticWeight);
  real("w-tar", s.targetGuidance), real("trajectory-cfg", s.trajectoryGuidance);

  const auto compute = respo::gpu::chooseDevice(respo::gpu::parseDevicePreference(cl.value("device").value_or("auto")),
                                                respo::gpu::parsePrecision(cl.value("precision").value_or("auto")));
  respo::pipeline::LoadOptions load;
  load.device = compute.device;
  load.dtype = compute.dtype;
  auto model = respo::pipeline::loadStableDiffusion(cl.require("model"), load);
  const std::filesystem::path out = cl.require("out");
  c::CheckpointOptions checkpoints;
  checkpoints.path = cl.value("checkpoint").value_or(out.string() + ".checkpoint.safetensors");
  int every = 100;
  whole("checkpoint-every", every);
  checkpoints.every = every;
  c::ConceptTrainer trainer(model, s);
  if (cl.has("resume") && std::filesystem::exists(checkpoints.path)) {
    trainer.resumeFrom(checkpoints.path);
    std::cerr << "resumed from " << checkpoints.path.string() << " at step " << trainer.module().stepsDone << "\n";
  }
  const bool quiet = cl.has("quiet");
  const auto module = trainer.train([&](const c::TrainingProgress& p) {
    if (!quiet) std::fprintf(stderr, "\rstep %d/%d  L_resp %.6f  L_sem %.6f", p.step, p.total, p.responsibleLoss, p.semanticLoss);
    return true;
  }, checkpoints);
  if (!quiet) std::fprintf(stderr, "\n");
  c::saveConcept(out, module);
  std::cout << "wrote " << out.string() << " (" << module.settings.name << ", " << module.stepsDone << " steps, L_resp "
            << module.lastResponsibleLoss << ", L_sem " << module.lastSemanticLoss << ")\n";
  return 0;
}

// Times generation (or one UNet call) in this process: one warm-up, then --repeat runs; prints the median.
int benchmark(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"model", "steps", "cfg", "width", "height", "repeat", "threads", "scheduler", "k"},
                       {"unet-only", "load-only", "mapped-weights", "train-step", "concept-overhead"});
  namespace fs = std::filesystem;
  if (auto threads = cl.value("threads")) at::set_num_threads(std::stoi(*threads));
  const int repeat = std::stoi(cl.value("repeat").value_or("5"));
  const int width = std::stoi(cl.value("width").value_or("0")), height = std::stoi(cl.value("height").value_or("0"));
  std::vector<double> seconds;
  auto time = [&](const std::function<void()>& run) {
    run();  // warm-up
    for (int i = 0; i < repeat; ++i) {
      const auto start = std::chrono::steady_clock::now();
      run();
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  };
  if (cl.has("load-only")) {
    // Loading time and the process's peak resident memory right after loading.
    const auto start = std::chrono::steady_clock::now();
    respo::pipeline::LoadOptions options;
    if (cl.has("mapped-weights")) options.storage = respo::models::WeightStorage::Mapped;
    auto model = respo::pipeline::loadStableDiffusion(cl.require("model"), options);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    struct rusage usage {};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("load_seconds: %.3f\npeak_rss_mib: %.1f\n", elapsed, usage.ru_maxrss / 1024.0);
    return 0;
  }
  if (cl.has("train-step")) {
    // One RespoDiff training step (gender preset) with a fixed trajectory length k.
    auto model = respo::pipeline::loadStableDiffusion(cl.require("model"));
    auto settings = respo::concepts::preset("gender-woman");
    respo::concepts::ConceptTrainer trainer(model, settings);
    const int k = std::stoi(cl.value("k").value_or("10"));
    const auto& config = model.unet->config();
    auto generator = at::detail::createCPUGenerator(3);
    const auto noise = torch::randn({1, config.inChannels, config.sampleSize, config.sampleSize}, generator);
    time([&] { trainer.step({k}, noise); });
  } else if (cl.has("concept-overhead")) {
    // Generation with a concept hook (a constant module on every step) against the plain pipeline.
    auto model = respo::pipeline::loadStableDiffusion(cl.require("model"));
    respo::pipeline::TextToImagePipeline pipeline(model);
    respo::pipeline::GenerationRequest request;
    request.prompt = "a photo of a doctor";
    request.steps = std::stoi(cl.value("steps").value_or("25"));
    request.scheduler = "ddim";
    const auto& config = model.unet->config();
    const auto h = model.unet->bottleneckShape(config.sampleSize, config.sampleSize);
    auto hook = respo::concepts::makeConceptHook(torch::full({1, h[0], h[1], h[2]}, 0.01f));
    std::vector<double> plain, hooked;
    auto once = [&](bool withHook) {
      const auto start = std::chrono::steady_clock::now();
      pipeline.generate(request, {}, withHook ? hook : respo::models::BottleneckHook{});
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    once(false), once(true);
    for (int i = 0; i < repeat; ++i) plain.push_back(once(false)), hooked.push_back(once(true));
    std::sort(plain.begin(), plain.end());
    std::sort(hooked.begin(), hooked.end());
    const double a = plain[plain.size() / 2], b = hooked[hooked.size() / 2];
    std::printf("plain_median_seconds: %.6f\nwith_concept_median_seconds: %.6f\noverhead_percent: %.2f\n", a, b,
                100.0 * (b - a) / a);
    return 0;
  } else if (cl.has("unet-only")) {
    const fs::path folder = fs::path(cl.require("model")) / "unet";
    respo::models::UNet2DConditionModel unet(respo::models::UNetConfig::fromFile(folder / "config.json"));
    respo::models::loadWeights(*unet, respo::models::loadComponentWeights(folder), folder.string(), torch::kFloat32,
                               torch::kCPU, cl.has("mapped-weights") ? respo::models::WeightStorage::Mapped
                                                                      : respo::models::WeightStorage::Copied);
    unet->eval();
    const auto& config = unet->config();
    const int64_t h = height > 0 ? height / 8 : config.sampleSize, w = width > 0 ? width / 8 : config.sampleSize;
    torch::InferenceMode guard;
    auto generator = at::detail::createCPUGenerator(1);
    const auto sample = torch::randn({1, config.inChannels, h, w}, generator);
    const auto context = torch::randn({1, 77, config.crossAttentionDim}, generator);
    const auto t = torch::tensor({501.0f});
    time([&] { unet->forward(sample, t, context); });
  } else {
    auto model = respo::pipeline::loadStableDiffusion(cl.require("model"));
    respo::pipeline::TextToImagePipeline pipeline(model);
    respo::pipeline::GenerationRequest request;
    request.prompt = "a photo of a doctor";
    request.steps = std::stoi(cl.value("steps").value_or("25"));
    request.guidanceScale = std::stod(cl.value("cfg").value_or("7.5"));
    request.scheduler = cl.value("scheduler").value_or("ddim");
    request.width = width, request.height = height;
    time([&] { pipeline.generate(request); });
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("median_seconds: %.6f\nmin_seconds: %.6f\nthreads: %d\n", seconds[seconds.size() / 2], seconds.front(),
              at::get_num_threads());
  return 0;
}

// Converts a checkpoint of the reference implementation into one concept file per column.
int importReference(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"out", "model"}, {"age-naming"});
  if (cl.positional().size() != 1) throw respo::InvalidArgument("import-reference needs exactly one FILE");
  namespace c = respo::concepts;
  const std::filesystem::path out = cl.require("out");
  std::filesystem::create_directories(out);
  std::string fingerprint = "unknown";
  if (auto modelPath = cl.value("model")) {
    respo::pipeline::LoadOptions options;
    options.storage = respo::models::WeightStorage::Mapped;
    auto model = respo::pipeline::loadStableDiffusion(*modelPath, options);
    fingerprint = c::modelFingerprint(model.unet);
  }
  const std::map<std::string, std::string> presets{
      {"a woman", "gender-woman"}, {"a man", "gender-man"}, {"a black-race person", "race-black"},
      {"a white-race person", "race-white"}, {"a Asian-race person", "race-asian"}, {"violence", "violence"},
      {"sexual", "sexual"}};
  for (const auto& imported : c::importReferenceCheckpoint(cl.positional()[0], c::referenceColumns(cl.has("age-naming")))) {
    c::ConceptModule module;
    const auto preset = presets.find(imported.name);
    if (preset != presets.end()) {
      module.settings = c::preset(preset->second);
    } else {  // young / old: the reference trains them like gender
      module.settings = c::preset("gender-woman");
      module.settings.group = "age";
      module.settings.name = module.settings.targetPrompt = imported.name;
    }
    module.ram = imported.ram;
    module.sam = imported.sam;
    module.stepsDone = module.settings.steps;
    module.modelFingerprint = fingerprint;
    std::string file = imported.name;
    for (auto& ch : file) ch = std::isalnum(static_cast<unsigned char>(ch)) ? static_cast<char>(std::tolower(ch)) : '-';
    c::saveConcept(out / (file + ".safetensors"), module);
    std::cout << "wrote " << (out / (file + ".safetensors")).string() << " (column " << imported.column << ")\n";
  }
  return 0;
}

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> list{
      {"generate", "generate images from a prompt with a Stable Diffusion model",
       "generate --model DIR_OR_FILE --prompt TEXT [--negative TEXT] [--seed N] [--steps N] [--cfg X]\n"
       "         [--scheduler ddim|euler|euler_a|dpmpp_2m|pndm] [--width W] [--height H] [--batch N]\n"
       "         [--out FILE.png] [--device auto|cpu|cuda] [--precision auto|fp32|fp16|bf16]\n"
       "         [--config-from DIR] [--variant fp16] [--clip-skip N] [--low-memory] [--quiet]\n"
       "         [--concept FILE[,FILE...]] [--ram-strength X] [--sam-strength Y]\n"
       "         [--policy random|balanced|fixed] [--fixed-member NAME] [--group-weight GROUP=W,...]\n"
       "         [--compare] [--ignore-fingerprint]",
       generate},
      {"train-concept", "train a RespoDiff concept module (RAM + SAM) on a model",
       "train-concept --model DIR_OR_FILE (--preset gender-woman|gender-man|race-black|race-white|race-asian|violence|sexual\n"
       "              | --name N --group G --kind fairness|safety --neutral P --target P [--negative P])\n"
       "              [--steps N] [--batch N] [--seed N] [--ram-lr X] [--sam-lr X] [--lambda X] [--w-tar X]\n"
       "              [--trajectory-cfg X] [--trajectory-steps N] [--max-trajectory-step K] [--init uniform|zero] [--timestep reference|trajectory] [--resolution PX]\n"
       "              [--checkpoint FILE] [--checkpoint-every N] [--resume] [--device D] --out FILE.safetensors",
       trainConcept},
      {"import-reference", "convert a reference-implementation RespoDiff checkpoint (torch zip) into concept files",
       "import-reference FILE --out DIR [--model DIR_OR_FILE] [--age-naming]", importReference},
      {"benchmark", "time generation or one UNet call in this process (median of --repeat runs)",
       "benchmark --model DIR [--unet-only | --load-only | --train-step [--k K] | --concept-overhead]\n"
       "          [--mapped-weights] [--steps N] [--cfg X] [--width W] [--height H] [--repeat N] [--threads N]",
       benchmark},
      {"inspect", "list the tensors and metadata of a .safetensors file", "inspect FILE", inspect},
      {"tokenize", "show the CLIP token ids of a prompt",
       "tokenize (--tokenizer DIR | --bpe FILE.gz [--openclip-padding]) TEXT", tokenize},
      {"tokenizer-export", "write a tokenizer/ folder (vocab.json, merges.txt, configs)",
       "tokenizer-export (--tokenizer DIR | --bpe FILE.gz [--openclip-padding]) --out DIR", exportTokenizer},
      {"devices", "list the compute devices and the default choice", "devices", devices},
  };
  return list;
}

void printHelp() {
  std::cout << "respodiff " RESPODIFF_VERSION " - responsible text-to-image generation (RespoDiff)\n\n"
            << "usage: respodiff <subcommand> [options]\n\nsubcommands:\n";
  for (const auto& s : subcommands()) std::printf("  %-18s %s\n", s.name, s.summary);
  std::cout << "\nrespodiff <subcommand> --help shows its options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    printHelp();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "respodiff " RESPODIFF_VERSION "\n";
    return 0;
  }
  for (const auto& s : subcommands()) {
    if (args[0] != s.name) continue;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
      std::cout << "usage: respodiff " << s.usage << "\n  " << s.summary << "\n";
      return 0;
    }
    try {
      return s.run(rest);
    } catch (const respo::Error& e) {
      std::cerr << "respodiff " << s.name << ": " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "respodiff: unknown subcommand '" << args[0] << "' (see respodiff --help)\n";
  return 2;
}
