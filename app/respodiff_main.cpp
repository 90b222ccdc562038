// respodiff: the command line. Each subcommand mirrors one engine function.

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

#include "app/cli_commands.h"
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
using respo::app::benchmark;
using respo::app::generate;
using respo::app::editConcepts;
using respo::app::importReference;
using respo::app::trainConcept;

struct Subcommand {
  const char* name;
  const char* summary;
  const char* usage;
  std::function<int(const std::vector<std::string>&)> run;
};

int inspect(const std::vector<std::string>& args) {
  const CommandLine cl(args, {}, {}, 1);
  if (cl.positional().size() != 1) throw respo::app::UsageError("inspect needs exactly one FILE");
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
  throw respo::app::UsageError("give --tokenizer DIR (a tokenizer/ folder) or --bpe FILE.gz");
}

int tokenize(const std::vector<std::string>& args) {
  const CommandLine cl(args, {"tokenizer", "bpe"}, {"openclip-padding"}, 1);
  if (cl.positional().size() != 1) throw respo::app::UsageError("tokenize needs exactly one TEXT");
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

const std::vector<Subcommand>& subcommands() {
  static const std::vector<Subcommand> list{
      {"generate", "generate images from a prompt with a Stable Diffusion model",
       "generate [--model DIR_OR_FILE] --prompt TEXT [--negative TEXT] [--seed N] [--steps N] [--cfg X]\n"
       "         [--scheduler ddim|euler|euler_a|dpmpp_2m|pndm] [--width W] [--height H] [--batch N]\n"
       "         [--out FILE.png] [--device auto|cpu|cuda] [--precision auto|fp32|fp16|bf16]\n"
       "         [--config-from DIR] [--variant fp16] [--clip-skip N] [--step-cache N] [--low-memory] [--quiet]\n"
       "         [--weight-storage fp32|fp16|bf16] [--convolutions winograd|direct]\n"
       "         [--lora FILE.safetensors[:W][,...]] [--lora-dir DIR[;DIR...]]  (or <lora:name:W> in the prompt)\n"
       "         [--init-image PICTURE.png [--strength 0.75] [--mask MASK.png [--mask-blur 4]]]  (image to image;\n"
       "         inpainting: the mask white where repainted)\n"
       "         [--concept FILE_OR_GROUP[,...]] [--ram-strength X] [--sam-strength Y]\n"
       "         [--policy random|balanced|fixed] [--fixed-member NAME] [--group-weight GROUP=W,...]\n"
       "         [--shares MEMBER=SHARE,...]\n"
       "         [--method respodiff|uce:FILE|sld[:weak|medium|strong|max][,guidance=X,warmup=N,threshold=X,\n"
       "                   momentum=X,beta=X,concept=TEXT]|negative:TEXT|prompt-edit:TEXT|none[+...]]\n"
       "         [--compare] [--ignore-fingerprint]",
       generate},
      {"train-concept", "train a RespoDiff concept module (RAM + SAM) on a model",
       "train-concept --model DIR_OR_FILE (--preset gender-woman|gender-man|race-black|race-white|race-asian|violence|sexual\n"
       "              | --name N --group G --kind fairness|safety --neutral P --target P [--negative P])\n"
       "              [--neutral-list FILE] [--target-list FILE] (.txt or .csv; one pair drawn per step)\n"
       "              [--steps N] [--batch N] [--seed N] [--ram-lr X] [--sam-lr X] [--lambda X] [--w-tar X]\n"
       "              [--trajectory-cfg X] [--trajectory-steps N] [--max-trajectory-step K] [--init uniform|zero] [--timestep reference|trajectory] [--resolution PX]\n"
       "              [--checkpoint FILE] [--checkpoint-every N] [--resume] [--device D] --out FILE.safetensors",
       trainConcept},
      {"edit-concepts", "compute a closed-form cross-attention edit (UCE: erase, debias, preserve) into a file",
       "edit-concepts --model DIR_OR_FILE (--erase 'TEXT[; TEXT...]' [--destination TEXT]\n"
       "              | --debias 'TEXT[; ...]' --attributes 'TEXT=SHARE; TEXT=SHARE[; ...]' [--strength X])\n"
       "              [--preserve 'TEXT[; ...]'] [--lambda X] [--erase-scale X] [--preserve-scale X] [--name N]\n"
       "              [--device D] --out FILE.safetensors",
       editConcepts},
      {"import-reference", "convert a reference-implementation RespoDiff checkpoint (torch zip) into concept files",
       "import-reference FILE --out DIR [--model DIR_OR_FILE] [--age-naming]", importReference},
      {"benchmark", "time generation or one UNet call in this process (median of --repeat runs)",
       "benchmark --model DIR [--unet-only [--batch N] [--peak] [--profile] | --load-only | --train-step [--k K] |\n"
       "          --concept-overhead | --compare | --peak] [--mapped-weights] [--steps N] [--cfg X] [--width W] [--height H]\n"
       "          [--step-cache N] [--convolutions winograd|direct] [--winograd-sweep] [--repeat N] [--threads N]",
       benchmark},
      {"inspect", "list the tensors and metadata of a .safetensors file", "inspect FILE", inspect},
      {"tokenize", "show the CLIP token ids of a prompt",
       "tokenize (--tokenizer DIR | --bpe FILE.gz [--openclip-padding]) TEXT", tokenize},
      {"tokenizer-export", "write a tokenizer/ folder (vocab.json, merges.txt, configs)",
       "tokenizer-export (--tokenizer DIR | --bpe FILE.gz [--openclip-padding]) --out DIR", exportTokenizer},
      {"devices", "list the compute devices and the default choice", "devices", devices},
#ifdef RESPODIFF_WITH_TOYWORLD
      {"toyworld", "the embedded default model: train it, its classifier and its concept modules from a seed",
       "toyworld train --out DIR (--bpe FILE.gz | --tokenizer DIR) [--work DIR] [--seed N] [--vae-steps N]\n"
       "               [--vae-batch N] [--denoiser-steps N] [--batch N] [--dataset-size N] [--lr X] [--threads N]\n"
       "toyworld classifier --out FILE [--steps N] [--batch N] [--seed N] [--test-count N]\n"
       "toyworld concepts --model DIR --out DIR [--steps N] [--trajectory-steps N] [--only NAME] [--seed N] [--force]",
       respo::app::toyworld},
      {"eval", "the paper's table in the toy world (fairness, fidelity, safety)",
       "eval toyworld [--quick] [--json FILE] [--markdown FILE] [--model DIR] [--classifier FILE]\n"
       "              [--concepts DIR] [--images-per-prompt N] [--unsafe-images-per-prompt N] [--seed N]",
       respo::app::evaluate},
      {"report", "the fairness and safety report: per prompt histograms, DevRat and unsafe rates, with intervals",
       "report [--model DIR] (--prompts FILE | --prompt-set toyworld|winobias) [--n N] [--concept ITEMS]\n"
       "       [--policy random|balanced|fixed] [--shares MEMBER=SHARE,...] [--ram-strength X] [--sam-strength Y]\n"
       "       [--clip DIR | --classifier FILE] [--target 'ATTRIBUTE=CLASS:SHARE,...[; ...]']\n"
       "       [--nudenet FILE|auto (nudity read by NudeNet too; auto: the setup's copy)] [--unsafe-score X]\n"
       "       [--unsafe-labels LABEL,...] [--clip-safety default|'NAME=UNSAFE TEXT|SAFE TEXT[@P]; ...' (with --clip)]\n"
       "       [--methods 'METHOD; METHOD; ...' (each in --method's grammar of generate)]\n"
       "       [--steps N] [--cfg X] [--seed N] [--json FILE] [--csv FILE] [--markdown FILE]\n"
       "       [--bootstrap N (resamples for the 95% intervals, 0: none)] [--bootstrap-seed N] [--shard K/N]\n"
       "       [--sweep V1,V2,... (one --methods entry with {} for the value, e.g. 'respodiff:ram={}')]\n"
       "       [--tradeoff METRIC (default: the first DevRat or unsafe rate)] [--svg FILE (the trade-off chart)]\n"
       "       [--html FILE (the audit card: one self-contained page) [--examples N (prompts shown, default 8)]]\n"
       "report merge [--json FILE] [--markdown FILE] PART.json ... (the --shard parts of one run)\n"
       "report sweep --method 'METHOD with {}' --values V1,V2,... [report's other options] (= --methods ... --sweep ...)",
       respo::app::report},
#endif
#ifdef RESPODIFF_WITH_NUDENET
      {"detect", "read nudity in PNG files with the NudeNet detector (the report's safety reader for real models)",
       "detect IMAGE.png ... [--nudenet FILE (default: the copy the setup puts in the cache)] [--json FILE]\n"
       "       [--unsafe-score X (default 0.6)] [--unsafe-labels LABEL,... (default: the exposed ones)]\n"
       "       [--raw FILE.safetensors (the head's predictions per image, for parity checks)]",
       respo::app::detect},
#endif
  };
  return list;
}

// To stdout when asked for (--help), to stderr when shown because the command line was empty.
void printHelp(std::ostream& out) {
  out << "respodiff " RESPODIFF_VERSION " - responsible text-to-image generation (RespoDiff)\n\n"
      << "usage: respodiff <subcommand> [options]\n\nsubcommands:\n";
  for (const auto& s : subcommands()) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-18s %s\n", s.name, s.summary);
    out << line;
  }
  out << "\nrespodiff <subcommand> --help shows its options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    printHelp(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "respodiff " RESPODIFF_VERSION "\n";
    return 0;
  }
  for (const auto& s : subcommands()) {
    if (args[0] != s.name) continue;
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    CommandLine::setContext(s.name, std::string(s.summary) + "\nusage: respodiff " + s.usage);
    try {
      return s.run(rest);
    } catch (const respo::app::HelpShown&) {
      return 0;
    } catch (const respo::app::UsageError& e) {
      if (!rest.empty() && (rest[0] == "--help" || rest[0] == "-h")) {
        // A subcommand whose forms have their own options (toyworld train, ...): all its forms.
        std::cout << s.summary << "\nusage: respodiff " << s.usage << "\n\nrespodiff " << s.name
                  << " FORM --help lists a form's options.\n";
        return 0;
      }
      std::cerr << "respodiff " << s.name << ": " << e.what() << "\n";
      return 2;
    } catch (const respo::Error& e) {
      std::cerr << "respodiff " << s.name << ": " << e.what() << "\n";
      return 1;
    } catch (const std::bad_alloc&) {
      std::cerr << "respodiff " << s.name << ": out of memory\n";
      return 1;
    } catch (const std::exception& e) {
      // Not an error we anticipated (a LibTorch or library exception): still a message, never abort().
      std::cerr << "respodiff " << s.name << ": internal error: " << respo::firstLine(e.what()) << "\n";
      return 1;
    } catch (...) {
      std::cerr << "respodiff " << s.name << ": internal error of unknown kind\n";
      return 1;
    }
  }
  std::cerr << "respodiff: unknown subcommand '" << args[0] << "' (see respodiff --help)\n";
  return 2;
}
