// respodiff toyworld ...: the embedded default model's recipes (training from a seed).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <torch/torch.h>

#include "app/cli_commands.h"
#include "app/command_line.h"
#include "app/concept_options.h"
#include "core/common/error.h"
#include "core/common/numbers.h"
#include "core/common/paths.h"
#include "core/pipeline/generation_request.h"
#include "core/text/clip_tokenizer.h"
#include "core/common/log.h"
#include "core/io/atomic_file.h"
#include "core/io/read_file.h"
#include "core/pipeline/stable_diffusion_model.h"
#include "core/respo/concept_library.h"
#include "core/respo/concept_module.h"
#include "core/respo/trainer.h"
#include "core/respo/audit_card.h"
#include "core/respo/fairness_report.h"
#include "core/respo/prompt_list.h"
#include "core/toyworld/attribute_reader.h"
#include "core/toyworld/classifier.h"
#ifdef RESPODIFF_WITH_NUDENET
#include "app/nudenet_options.h"
#include "core/respo/nudity_reader.h"
#endif
#include "core/toyworld/evaluation.h"
#include "app/lora_options.h"
#include "core/toyworld/model_training.h"

namespace respo::app {
namespace {

std::shared_ptr<text::ClipTokenizer> tokenizerFrom(const CommandLine& cl) {
  if (auto folder = cl.value("tokenizer")) return std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromFolder(*folder));
  if (auto bpe = cl.value("bpe"))
    return std::make_shared<text::ClipTokenizer>(text::ClipTokenizer::fromOpenClipBpe(*bpe, text::TokenizerSettings::sd1()));
  throw UsageError("give --bpe FILE.gz (the CLIP vocabulary) or --tokenizer DIR");
}

// Prints a line every `every` steps: phase, step, mean loss since the last line, speed and ETA.
toyworld::TrainingCallback progressPrinter(int every, bool quiet) {
  auto sum = std::make_shared<double>(0);
  auto count = std::make_shared<int>(0);
  auto lastSeconds = std::make_shared<double>(0);
  return [=](const toyworld::TrainingProgress& p) {
    if (p.seconds < *lastSeconds) *lastSeconds = 0;  // a new phase
    *sum += p.loss;
    ++*count;
    if (quiet || (p.step % every != 0 && p.step != p.total)) return true;
    const double perStep = (p.seconds - *lastSeconds) / std::max(1, *count);
    *lastSeconds = p.seconds;
    std::fprintf(stderr, "%-8s %6d/%-6d loss %.5f  %.3f s/step  %.1f min left\n", p.phase.c_str(), p.step, p.total,
                 *sum / *count, perStep, perStep * (p.total - p.step) / 60);
    *sum = 0;
    *count = 0;
    return true;
  };
}

int toyworldTrain(const std::vector<std::string>& args) {
  const CommandLine cl(args,
                       {"out", "work", "seed", "bpe", "tokenizer", "vae-steps", "vae-batch", "denoiser-steps", "batch",
                        "dataset-size", "lr", "threads", "print-every"},
                       {"quiet"});
  toyworld::ToyTrainingOptions options;
  const std::filesystem::path out = cl.require("out");
  options.workDir = cl.value("work").value_or(out.string() + ".work");
  options.seed = cl.seed("seed", 1);
  options.vae.steps = static_cast<int>(cl.integer("vae-steps", options.vae.steps, 0, 1'000'000));
  options.vae.batch = static_cast<int>(cl.integer("vae-batch", options.vae.batch, 1, 4096));
  options.denoiser.steps = static_cast<int>(cl.integer("denoiser-steps", options.denoiser.steps, 0, 1'000'000));
  options.denoiser.batch = static_cast<int>(cl.integer("batch", options.denoiser.batch, 1, 4096));
  options.denoiser.datasetSize = static_cast<int>(cl.integer("dataset-size", options.denoiser.datasetSize, 1, 10'000'000));
  options.denoiser.learningRate = cl.real("lr", options.denoiser.learningRate, 1e-9, 10);
  if (options.vae.steps < 1 || options.denoiser.steps < 1 || options.vae.batch < 1 || options.denoiser.batch < 1 ||
      options.denoiser.datasetSize < options.denoiser.batch)
    throw UsageError("steps and batches must be positive and the dataset at least one batch");
  if (auto threads = cl.integer("threads", 0, 0, 1024); threads > 0) torch::set_num_threads(static_cast<int>(threads));
  const int every = static_cast<int>(cl.integer("print-every", 50, 1, 1'000'000));
  toyworld::trainToyModel(options, tokenizerFrom(cl), out, progressPrinter(std::max(1, every), cl.has("quiet")));
  std::cout << "wrote " << out.string() << "\n";
  return 0;
}

int toyworldClassifier(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"out", "steps", "batch", "seed", "test-count"}, {"quiet"});
  toyworld::ClassifierTrainingOptions options;
  options.steps = static_cast<int>(cl.integer("steps", options.steps, 1, 1'000'000));
  options.batch = static_cast<int>(cl.integer("batch", options.batch, 1, 4096));
  options.seed = cl.seed("seed", options.seed);
  const bool quiet = cl.has("quiet");
  auto classifier = toyworld::trainClassifier(options, [&](const toyworld::ClassifierProgress& p) {
    if (!quiet && (p.step % 100 == 0 || p.step == p.total)) std::fprintf(stderr, "classifier %d/%d loss %.4f\n", p.step, p.total, p.loss);
  });
  const auto accuracy = toyworld::measureAccuracy(classifier, static_cast<int>(cl.integer("test-count", 2000, 1, 1'000'000)));
  std::printf("held-out accuracy: profession %.4f, gender %.4f, skin %.4f, blood %.4f, knife %.4f\n",
              accuracy.profession, accuracy.gender, accuracy.skin, accuracy.unsafe[0], accuracy.unsafe[1]);
  toyworld::saveClassifier(classifier, cl.require("out"));
  std::cout << "wrote " << cl.require("out") << "\n";
  return 0;
}

// The default concept modules of the toy model: each one a RespoDiff run with the reference
// procedure, prompts in the toy world's words and "a person" as the neutral prompt (the evaluation's
// professions stay unseen). Where the reference presets were made for SD, whose text also reaches the
// image around the bottleneck, the toy model's recipe differs; docs/toyworld.md gives the
// measurements behind each choice:
//  - target guidance 2 for fairness and 4 for safety (reference 4 and 12): at inference CFG
//    multiplies what a module adds, and here nothing dilutes it, so the reference's guidance pushes
//    images off the world (safety: profession accuracy on unsafe prompts 83% at w 6, 38% at w 12);
//  - RAM learning rate 1e-1 for gender, as for skin tone (reference 1e-2, made for 5,000 steps; we
//    train 400);
//  - SAM learning rate 1e-3 for skin tone (reference 1e-2: at that rate SAM undoes RAM);
//  - the unsafe prompt is "a bloody person" / "a person holding a knife", the world's own captions:
//    bare "blood" draws nurses and doctors, so steering away from it also steered away from professions;
//  - 1,200 steps for safety (400 for fairness): at 400 the safety modules cut only 65% of the unsafe
//    content, at 1,200 they cut 91% with the picture intact.
struct DefaultConcept {
  const char* file;
  const char* preset;  // the reference preset the other settings come from
  const char* name;
  const char* group;
  const char* target;
  const char* negative;
  double targetGuidance, ramLearningRate, samLearningRate;  // 0: the preset's
  int steps;
};
constexpr DefaultConcept kDefaultConcepts[] = {
    {"gender-woman", "gender-woman", "a woman", "gender", "a woman", "", 2, 1e-1, 0, 400},
    {"gender-man", "gender-man", "a man", "gender", "a man", "", 2, 1e-1, 0, 400},
    {"skin-light", "race-white", "a light-skinned person", "skin tone", "a light-skinned person", "", 2, 1e-1, 1e-3, 400},
    {"skin-medium", "race-asian", "a medium-skinned person", "skin tone", "a medium-skinned person", "", 2, 1e-1, 1e-3, 400},
    {"skin-dark", "race-black", "a dark-skinned person", "skin tone", "a dark-skinned person", "", 2, 1e-1, 1e-3, 400},
    {"safety-blood", "violence", "blood", "safety", "a person", "a bloody person", 4, 0, 0, 1200},
    {"safety-knife", "violence", "knife", "safety", "a person", "a person holding a knife", 4, 0, 0, 1200},
};

int toyworldConcepts(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"model", "out", "steps", "trajectory-steps", "only", "seed", "target-guidance"},
                       {"quiet", "force"});
  auto model = pipeline::loadStableDiffusion(cl.model());
  const std::filesystem::path out = cl.require("out");
  std::filesystem::create_directories(out);
  const auto only = cl.value("only");
  for (const auto& d : kDefaultConcepts) {
    if (only && *only != d.file) continue;
    const auto target = out / (std::string(d.file) + ".safetensors");
    if (std::filesystem::exists(target) && !cl.has("force")) {
      std::cout << "kept " << target.string() << " (--force retrains it)\n";
      continue;
    }
    auto s = concepts::preset(d.preset);
    s.name = d.name, s.group = d.group, s.targetPrompt = d.target, s.negativePrompt = d.negative;
    s.neutralPrompt = "a person";
    s.steps = static_cast<int>(cl.integer("steps", d.steps, 1, 1'000'000));
    if (d.targetGuidance > 0) s.targetGuidance = d.targetGuidance;
    if (d.ramLearningRate > 0) s.ramLearningRate = d.ramLearningRate;
    if (d.samLearningRate > 0) s.samLearningRate = d.samLearningRate;
    s.targetGuidance = cl.real("target-guidance", s.targetGuidance, 0, 100);
    s.trajectorySteps = static_cast<int>(cl.integer("trajectory-steps", 50, 2, 1000));
    s.maxTrajectoryStep = s.trajectorySteps - 2;
    s.seed = cl.seed("seed", 0);
    concepts::ConceptTrainer trainer(model, s);
    // Interrupted runs continue from their checkpoint when the command is run again.
    const concepts::CheckpointOptions checkpoints{out / (std::string(d.file) + ".checkpoint.safetensors"), 50};
    if (std::filesystem::exists(checkpoints.path)) trainer.resumeFrom(checkpoints.path);
    const bool quiet = cl.has("quiet");
    const auto module = trainer.train([&](const concepts::TrainingProgress& p) {
      if (!quiet && (p.step % 50 == 0 || p.step == p.total))
        std::fprintf(stderr, "%s %d/%d L_resp %.5f L_sem %.6f\n", d.file, p.step, p.total, p.responsibleLoss, p.semanticLoss);
      return true;
    }, checkpoints);
    concepts::saveConcept(target, module);
    std::filesystem::remove(checkpoints.path);
    std::cout << "wrote " << target.string() << "\n";
  }
  return 0;
}

}  // namespace

int evaluate(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"model", "classifier", "concepts", "json", "markdown", "images-per-prompt", "unsafe-images-per-prompt", "seed",
                              "lora", "lora-dir", "step-cache"},
                       {"quick", "quiet"}, 1);
  if (cl.positional().size() != 1 || cl.positional()[0] != "toyworld")
    throw UsageError("eval needs the benchmark's name: eval toyworld");
  auto model = pipeline::loadStableDiffusion(cl.value("model").value_or(paths::toyModel().string()));
  auto classifier = toyworld::loadClassifier(cl.value("classifier").value_or(paths::toyClassifier().string()));
  const std::filesystem::path conceptFolder = cl.value("concepts").value_or(paths::shippedConcepts().string());
  toyworld::EvaluationConcepts used;
  if (!std::filesystem::is_directory(conceptFolder)) throw UsageError(conceptFolder.string() + " is not a folder");
  const auto fingerprint = concepts::modelFingerprint(model.unet);
  for (const auto& file : concepts::conceptFiles(conceptFolder)) {
    auto module = std::make_shared<const concepts::ConceptModule>(concepts::loadConcept(file));
    if (module->modelFingerprint != fingerprint)
      throw InvalidArgument(file.string() + " was trained on another model");
    const auto& g = module->settings.group;
    if (module->settings.kind == concepts::ConceptKind::Safety) used.safety.push_back(module);
    else if (g == "gender") used.gender.push_back(module);
    else used.skin.push_back(module);
  }
  auto settings = cl.has("quick") ? toyworld::EvaluationSettings::quick() : toyworld::EvaluationSettings::full();
  settings.imagesPerPrompt = static_cast<int>(cl.integer("images-per-prompt", settings.imagesPerPrompt, 1, 1024));
  settings.unsafeImagesPerPrompt = static_cast<int>(cl.integer("unsafe-images-per-prompt", settings.unsafeImagesPerPrompt, 1, 1024));
  settings.seed = cl.seed("seed", settings.seed);
  settings.stepCache = static_cast<int>(cl.integer("step-cache", 0, 0, pipeline::kMaxStepCache));
  pipeline::GenerationRequest withLoras;  // collects --lora / --lora-dir
  addLoras(cl, withLoras);
  settings.loraTags = withLoras.prompt;
  settings.loraFolders = withLoras.loraFolders;
  const bool quiet = cl.has("quiet");
  const auto table = toyworld::evaluate(model, classifier, used, settings, [&](int done, int total) {
    if (!quiet) std::fprintf(stderr, "\rgenerated %d/%d prompts", done, total);
  });
  if (!quiet) std::fprintf(stderr, "\n");
  const auto markdown = table.toMarkdown();
  std::cout << markdown;
  if (auto json = cl.value("json")) io::writeTextFileAtomically(*json, table.toJson().dump(2) + "\n");
  if (auto md = cl.value("markdown")) io::writeTextFileAtomically(*md, markdown);
  return 0;
}

namespace {

// report merge --json OUT [--markdown OUT] PART.json ...: the shards of one run put together.
int reportMerge(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"json", "markdown"}, {}, 100000);
  if (cl.positional().empty()) throw UsageError("report merge needs the parts' JSON files");
  std::vector<nlohmann::json> parts;
  for (const auto& file : cl.positional()) parts.push_back(io::readJsonFile(file, 1u << 30));
  const auto merged = report::mergeShards(parts);
  std::vector<report::FairnessReport> reports;
  std::vector<std::string> labels;
  if (merged.contains("reports")) {
    for (const auto& r : merged.at("reports")) reports.push_back(report::FairnessReport::fromJson(r));
    labels = merged.at("methods").get<std::vector<std::string>>();
  }
  const auto markdown = reports.empty() ? report::FairnessReport::fromJson(merged).toMarkdown()
                                        : report::comparisonMarkdown(labels, reports);
  std::cout << markdown;
  if (auto f = cl.value("json")) io::writeTextFileAtomically(*f, merged.dump(2) + "\n");
  if (auto f = cl.value("markdown")) io::writeTextFileAtomically(*f, markdown);
  return 0;
}

}  // namespace

int report(const std::vector<std::string>& args) {
  if (!args.empty() && args.front() == "merge") return reportMerge({args.begin() + 1, args.end()});
  // report sweep --method 'sld:medium,guidance={}' --values 250,1000,...: the same run as
  // report --methods ... --sweep ..., named as a subcommand.
  if (!args.empty() && args.front() == "sweep") {
    std::vector<std::string> translated;
    bool method = false, values = false;
    // "--name" or "--name=value" renamed to `to`; false when `a` is not that option.
    auto rename = [&](const std::string& a, const std::string& name, const std::string& to, bool& seen) {
      if (a != name && a.rfind(name + "=", 0) != 0) return false;
      seen = true;
      translated.push_back(to + a.substr(name.size()));
      return true;
    };
    for (std::size_t i = 1; i < args.size(); ++i) {
      const auto& a = args[i];
      if (rename(a, "--method", "--methods", method) || rename(a, "--values", "--sweep", values)) continue;
      if (a == "--methods" || a.rfind("--methods=", 0) == 0 || a == "--sweep" || a.rfind("--sweep=", 0) == 0)
        throw UsageError("report sweep takes --method and --values (" + a + " belongs to plain report)");
      translated.push_back(a);
    }
    if (!method || !values)
      throw UsageError("report sweep needs --method (with {} where the value goes) and --values V1,V2,...");
    return report(translated);
  }
  const CommandLine cl(args,
                       {"model", "prompts", "prompt-set", "n", "concept", "ram-strength", "sam-strength", "policy",
                        "fixed-member", "group-weight", "classifier", "clip", "steps", "cfg", "seed", "scheduler", "json",
                        "csv", "markdown", "shares", "target", "methods", "shard", "bootstrap", "bootstrap-seed", "sweep",
                        "tradeoff", "svg", "html", "examples", "nudenet", "unsafe-score", "unsafe-labels",
                        "clip-safety"},
                       {"quiet", "ignore-fingerprint"});
  const std::filesystem::path modelPath = cl.value("model").value_or(paths::toyModel().string());
  auto model = pipeline::loadStableDiffusion(modelPath);

  report::ReportSettings settings;
  if (auto file = cl.value("prompts")) {
    // A CSV's optional columns: category, seed, guidance (see prompt_list.h).
    const auto rows = concepts::readPromptTable(*file);
    bool categories = false, seeds = false, guidance = false;
    for (const auto& row : rows) {
      settings.prompts.push_back(row.prompt);
      categories = categories || !row.category.empty();
      seeds = seeds || row.seed.has_value();
      guidance = guidance || row.guidance.has_value();
    }
    for (const auto& row : rows) {
      if (categories) settings.categories.push_back(row.category);
      if (seeds) settings.promptSeeds.push_back(row.seed);
      if (guidance) settings.promptGuidance.push_back(row.guidance);
    }
  } else {
    const auto set = cl.value("prompt-set").value_or("toyworld");
    if (set == "winobias") {
      settings.prompts = report::winoBiasPrompts(1);
    } else if (set == "toyworld") {
      settings.prompts = toyworld::professionPrompts();
    } else {
      throw UsageError("unknown --prompt-set '" + set + "' (winobias or toyworld)");
    }
  }
  if (settings.prompts.empty()) throw UsageError("the prompt list is empty");
  settings.imagesPerPrompt = static_cast<int>(cl.integer("n", 8, 1, 1024));
  settings.steps = static_cast<int>(cl.integer("steps", 25, 1, pipeline::kMaxSteps));
  settings.guidanceScale = cl.real("cfg", 7.5, 0, pipeline::kMaxGuidanceScale);
  settings.seed = cl.seed("seed", 1);
  settings.scheduler = cl.value("scheduler").value_or("");
  settings.bootstrapResamples = static_cast<int>(cl.integer("bootstrap", 1000, 0, 100000));
  settings.bootstrapSeed = cl.seed("bootstrap-seed", 1);
  // --shard K/N: the K-th of N slices of the prompts (1-based), for `report merge`.
  if (auto shard = cl.value("shard")) {
    const auto slash = shard->find('/');
    const auto k = slash == std::string::npos ? std::nullopt : numbers::parseInteger(shard->substr(0, slash));
    const auto n = slash == std::string::npos ? std::nullopt : numbers::parseInteger(shard->substr(slash + 1));
    if (!k || !n || *n < 1 || *n > 100000 || *k < 1 || *k > *n)
      throw UsageError("--shard: expected K/N with 1 <= K <= N <= 100000, got '" + *shard + "'");
    settings.shardIndex = static_cast<int>(*k - 1);
    settings.shardCount = static_cast<int>(*n);
  }
  // --target "gender=female:30,male:70; skin tone=dark:50,light:50": DevRat against these shares.
  if (auto text = cl.value("target")) {
    std::stringstream attributes(*text);
    for (std::string entry; std::getline(attributes, entry, ';');) {
      entry.erase(0, entry.find_first_not_of(' '));
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError("--target: expected 'ATTRIBUTE=CLASS:SHARE,...', got '" + entry + "'");
      auto& shares = settings.targets[entry.substr(0, eq)];
      std::stringstream classes(entry.substr(eq + 1));
      for (std::string item; std::getline(classes, item, ',');) {
        const auto colon = item.rfind(':');
        const auto share = colon == std::string::npos ? std::nullopt : numbers::parseReal(item.substr(colon + 1));
        if (!share || *share < 0) throw UsageError("--target: expected 'CLASS:SHARE' with a share of 0 or more, got '" + item + "'");
        shares[item.substr(0, colon)] = *share;
      }
    }
  }

  // Attributes are read zero-shot by a CLIP model (--clip DIR, as the paper does), or on the toy
  // model by the toy world's classifier.
  std::unique_ptr<report::AttributeReader> reader = toyworld::attributeReaderFor(
      model, cl.value("clip").value_or(""), cl.value("classifier").value_or(paths::toyClassifier().string()),
      cl.value("clip-safety") ? report::parseClipSafety(*cl.value("clip-safety")) : std::vector<report::ClipSafetyCategory>{});
#ifdef RESPODIFF_WITH_NUDENET
  // --nudenet FILE|auto: nudity read by NudeNet beside the reader's own categories.
  if (cl.value("nudenet")) reader = std::make_unique<report::NudityReader>(std::move(reader), nudeNetFromOptions(cl));
#endif
  const bool quiet = cl.has("quiet");
  auto progress = [&](int done, int total) {
    if (!quiet) std::fprintf(stderr, "\rgenerated %d/%d batches", done, total);
    return true;
  };
  // --html FILE: the audit card, with the first image of the first --examples prompts (default 8).
  const int exampleCount = static_cast<int>(cl.integer("examples", 8, 0, 64));
  std::map<std::size_t, std::vector<io::RgbImage>> examples;
  std::size_t methodCount = 1;
  report::ReportImages onImages;
  if (cl.value("html"))
    onImages = [&](std::size_t prompt, int method, const torch::Tensor& images) {
      if (static_cast<int>(prompt) >= exampleCount) return;
      auto& row = examples[prompt];
      row.resize(methodCount + 1);
      row[static_cast<std::size_t>(method + 1)] = pipeline::toRgb(images.slice(0, 0, 1)).front();
    };
  auto writeCard = [&](const std::vector<std::string>& labels, const std::vector<report::ReportMethod>& methods,
                       const std::vector<report::FairnessReport>& reports, const std::string& metric) {
    const auto file = cl.value("html");
    if (!file) return;
    report::AuditCard card;
    card.model = cl.value("model") ? modelPath.string() : std::string("the embedded toy-world model");
    card.modelHash = report::weightsHash(modelPath);
    card.labels = labels;
    card.reports = reports;
    for (const auto& m : methods) {
      std::map<std::string, std::string> details;
      for (const auto& intervention : m.interventions)
        if (intervention)
          for (const auto& [key, value] : intervention->parameters()) details[key] = value;
      card.methodDetails.push_back(details);
    }
    card.tradeoffMetric = metric;
    for (auto& [prompt, images] : examples) card.examples.push_back({prompt, images});
    io::writeTextFileAtomically(*file, report::auditHtml(card));
  };
  if (cl.value("sweep") && !cl.value("methods"))
    throw UsageError("--sweep needs --methods with one method whose setting is {} (e.g. 'sld:medium,guidance={}')");
  if ((cl.value("tradeoff") || cl.value("svg")) && !cl.value("sweep")) throw UsageError("--tradeoff and --svg go with --sweep");
  if (auto list = cl.value("methods")) {
    // --methods "respodiff; sld:medium; uce:FILE": one table, a column per method, one shared baseline.
    std::vector<std::string> entries;
    {
      std::stringstream items(*list);
      for (std::string entry; std::getline(items, entry, ';');) {
        const auto b = entry.find_first_not_of(' '), e = entry.find_last_not_of(' ');
        if (b != std::string::npos) entries.push_back(entry.substr(b, e - b + 1));
      }
    }
    // --sweep 0,0.5,1: one method, its knob at each value (the {} of its specification).
    if (auto values = cl.value("sweep")) {
      if (entries.size() != 1 || entries.front().find("{}") == std::string::npos)
        throw UsageError("--sweep needs exactly one method in --methods, with {} where the value goes");
      const auto spec = entries.front();
      entries.clear();
      std::stringstream items(*values);
      for (std::string value; std::getline(items, value, ',');) {
        if (!numbers::parseReal(value)) throw UsageError("--sweep: '" + value.substr(0, 40) + "' is not a number");
        auto expanded = spec;
        for (auto at = expanded.find("{}"); at != std::string::npos; at = expanded.find("{}", at + value.size()))
          expanded.replace(at, 2, value);
        entries.push_back(expanded);
      }
      if (entries.empty() || entries.size() > 64) throw UsageError("--sweep takes 1 to 64 values");
    }
    std::vector<report::ReportMethod> methods;
    std::vector<std::string> labels;
    for (const auto& entry : entries) {
      report::ReportMethod method;
      method.label = entry;
      method.names = {entry};
      method.interventions = interventionsFor(parseMethods(entry, cl.value("concept").has_value() && entry.find("respodiff") != std::string::npos), cl, model);
      labels.push_back(entry);
      methods.push_back(std::move(method));
    }
    if (methods.empty()) throw UsageError("--methods names no method");
    if (cl.value("csv")) throw UsageError("--csv is written for one method; with --methods use --json");
    methodCount = methods.size();
    const auto reports = report::compareMethods(model, *reader, methods, settings, progress, onImages);
    if (!quiet) std::fprintf(stderr, "\n");
    auto markdown = report::comparisonMarkdown(labels, reports);
    std::string metric;
    if (cl.value("sweep")) {
      metric = cl.value("tradeoff").value_or(report::defaultTradeoffMetric(reports.front()));
      const auto points = report::tradeoff(labels, reports, metric);
      markdown += "\n" + report::tradeoffMarkdown(points, metric);
      if (auto f = cl.value("svg")) io::writeTextFileAtomically(*f, report::tradeoffSvg(points, metric));
    }
    std::cout << markdown;
    if (auto f = cl.value("json")) io::writeTextFileAtomically(*f, report::comparisonJson(labels, reports, metric).dump(2) + "\n");
    writeCard(labels, methods, reports, metric);
    if (auto f = cl.value("markdown")) io::writeTextFileAtomically(*f, markdown);
    return 0;
  }
  const auto composition = conceptsFromCommandLine(cl, concepts::modelFingerprint(model.unet));
  const auto method = report::conceptMethod(composition);
  const auto result = report::compareMethods(model, *reader, {method}, settings, progress, onImages).front();
  writeCard({method.label}, {method}, {result}, "");
  if (!quiet) std::fprintf(stderr, "\n");
  std::cout << result.toMarkdown();
  if (auto f = cl.value("json")) io::writeTextFileAtomically(*f, result.toJson().dump(2) + "\n");
  if (auto f = cl.value("csv")) io::writeTextFileAtomically(*f, result.toCsv());
  if (auto f = cl.value("markdown")) io::writeTextFileAtomically(*f, result.toMarkdown());
  return 0;
}

int toyworld(const std::vector<std::string>& args) {
  if (args.empty()) throw UsageError("toyworld needs a subcommand: train");
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "train") return toyworldTrain(rest);
  if (args[0] == "classifier") return toyworldClassifier(rest);
  if (args[0] == "concepts") return toyworldConcepts(rest);
  throw UsageError("unknown toyworld subcommand '" + args[0] + "' (expected train, classifier or concepts)");
}

}  // namespace respo::app
