// What --help says about the options of the subcommands that declare them by name only: one line
// per option name, the same wherever the name is used (generate declares its own, with defaults).
#include <map>

#include "app/command_line.h"

namespace respo::app {

const OptionHelp* describeOption(const std::string& name) {
  static const std::map<std::string, OptionHelp> catalog = [] {
    std::map<std::string, OptionHelp> m;
    auto add = [&](const char* n, const char* value, const char* help, const char* fallback = "") {
      m[n] = {n, value, help, fallback};
    };
    // Models, devices, output.
    add("model", "DIR_OR_FILE", "a diffusers folder or a single-file .safetensors checkpoint", "the embedded model");
    add("device", "auto|cpu|cuda", "where to compute", "auto");
    add("precision", "auto|fp32|fp16|bf16", "half precision on a GPU only", "auto");
    add("out", "PATH", "what to write");
    add("json", "FILE", "the results as JSON");
    add("csv", "FILE", "the results as CSV");
    add("markdown", "FILE", "the results as a Markdown table");
    add("html", "FILE", "the audit card: one self-contained page");
    add("svg", "FILE", "the trade-off chart");
    add("quiet", "", "no progress on the terminal");
    add("force", "", "overwrite what exists");
    add("threads", "N", "CPU threads (0: LibTorch's choice)");
    // Sampling.
    add("prompt", "TEXT", "the prompt");
    add("prompts", "FILE", "one prompt per line");
    add("prompt-set", "NAME", "a shipped prompt set (toyworld, winobias)");
    add("negative", "TEXT", "what to avoid");
    add("seed", "N", "the seed (-1: a random one, recorded)");
    add("steps", "N", "steps (denoising, or training)");
    add("cfg", "X", "classifier-free guidance scale", "7.5");
    add("scheduler", "NAME", "ddim, euler, euler_a, dpmpp_2m or pndm", "the model's own");
    add("width", "PX", "image width", "the model's size");
    add("height", "PX", "image height", "the model's size");
    add("batch", "N", "batch size");
    add("n", "N", "images per prompt", "8");
    add("repeat", "N", "timed runs after one warm-up", "5");
    add("k", "K", "trajectory steps of a training step", "10");
    // Concepts and methods.
    add("concept", "FILE_OR_GROUP[,...]", "RespoDiff concept modules to switch on");
    add("concepts", "DIR", "a folder of concept modules");
    add("ram-strength", "X", "strength of the modules' RAM (1 = as trained)", "1");
    add("sam-strength", "X", "strength of the modules' SAM (1 = as trained)", "1");
    add("policy", "random|balanced|fixed", "how a fairness group picks its member per image", "random");
    add("fixed-member", "NAME", "the member of --policy fixed");
    add("group-weight", "GROUP=W,...", "weight of each fairness group", "1");
    add("shares", "MEMBER=SHARE,...", "target shares of a group's members", "equal");
    add("target", "TEXT", "the concept the module steers toward");
    add("methods", "'METHOD; ...'", "methods to compare (each in generate's --method grammar)");
    add("ignore-fingerprint", "", "use modules or edits made for another model");
    add("lora", "FILE[:W][,...]", "LoRA files and their weights");
    add("lora-dir", "DIR[;DIR...]", "where <lora:name> tags look");
    // Training a concept module.
    add("preset", "NAME", "gender-woman, gender-man, race-black, race-white, race-asian, violence or sexual");
    add("name", "TEXT", "the module's (or edit's) name");
    add("group", "NAME", "the fairness group it belongs to");
    add("kind", "fairness|safety", "what the module is for");
    add("neutral", "TEXT", "the neutral prompt");
    add("neutral-list", "FILE", "neutral prompts (.txt or .csv), one pair drawn per step");
    add("target-list", "FILE", "target prompts (.txt or .csv)");
    add("ram-lr", "X", "RAM learning rate");
    add("sam-lr", "X", "SAM learning rate");
    add("lambda", "X", "weight of the semantic (SAM) loss, or the edit's regulariser");
    add("w-tar", "X", "weight of the target term");
    add("trajectory-cfg", "X", "guidance of the sampled trajectories");
    add("trajectory-steps", "N", "steps of the sampled trajectories");
    add("max-trajectory-step", "K", "latest trajectory step drawn");
    add("init", "uniform|zero", "how the modules start");
    add("timestep", "reference|trajectory", "which timestep a step trains at");
    add("resolution", "PX", "training image size");
    add("checkpoint", "FILE", "where the resumable training state goes");
    add("checkpoint-every", "N", "steps between checkpoints", "100");
    add("resume", "", "continue from --checkpoint");
    add("target-guidance", "X", "guidance toward the target");
    add("only", "NAME", "train this concept only");
    // Concept edits (UCE).
    add("erase", "'TEXT; ...'", "concepts to erase");
    add("destination", "TEXT", "what erased concepts become", "\"\"");
    add("debias", "'TEXT; ...'", "concepts to debias");
    add("attributes", "'TEXT=SHARE; ...'", "the attributes and their target shares");
    add("strength", "X", "strength of the edit");
    add("preserve", "'TEXT; ...'", "concepts to keep as they are");
    add("erase-scale", "X", "scale of the erase term");
    add("preserve-scale", "X", "scale of the preserve term");
    // Tokenizers, the toy world, benchmarks.
    add("tokenizer", "DIR", "a tokenizer/ folder (vocab.json + merges.txt, or tokenizer.json)");
    add("bpe", "FILE.gz", "an OpenCLIP BPE vocabulary");
    add("openclip-padding", "", "pad with 0 as OpenCLIP does");
    add("work", "DIR", "where intermediate files go");
    add("vae-steps", "N", "VAE training steps");
    add("vae-batch", "N", "VAE batch size");
    add("denoiser-steps", "N", "denoiser training steps");
    add("dataset-size", "N", "pictures rendered for training");
    add("lr", "X", "learning rate");
    add("print-every", "N", "steps between progress lines", "50");
    add("test-count", "N", "test pictures", "2000");
    add("classifier", "FILE", "the toy world's attribute classifier", "the shipped one");
    add("images-per-prompt", "N", "images per prompt");
    add("unsafe-images-per-prompt", "N", "images per unsafe prompt");
    add("quick", "", "a small, fast run");
    add("unet-only", "", "time one UNet call");
    add("load-only", "", "time loading the model");
    add("mapped-weights", "", "keep the weights mapped from their files");
    add("train-step", "", "time one RespoDiff training step");
    add("concept-overhead", "", "time generation with and without a concept module");
    add("step-cache", "N", "speed mode: the full UNet every N steps (0: off)", "0");
    add("peak", "", "measure this CPU's fp32 GEMM and convolution peak (with --unet-only: the UNet's fraction of it)");
    add("channels-last", "", "with --unet-only: convolution weights and latents in channels-last layout (an experiment)");
    add("weights-dtype", "bf16|fp16", "with --unet-only: store matrix and convolution weights in half precision, "
                                      "compute in fp32 (memory against time)");
    add("compare", "", "time a comparison (baseline and responsible side) against the responsible side alone");
    add("convolutions", "winograd|direct", "3x3 convolutions on the CPU: Winograd F(4x4,3x3) where it pays, or always direct",
        "direct");
    add("winograd-sweep", "", "time 3x3 convolutions direct against Winograd at the UNet's shapes");
    add("profile", "", "with --unet-only: where one UNet call's time goes, by operator category");
    add("age-naming", "", "name the imported modules by age groups");
    // Reports and the audit.
    add("clip", "DIR", "a CLIP folder: read attributes zero-shot");
    add("clip-safety", "'NAME=UNSAFE|SAFE; ...'", "CLIP safety pairs (with --clip)");
    add("shard", "K/N", "run part K of N");
    add("bootstrap", "N", "resamples for the 95% intervals (0: none)", "1000");
    add("bootstrap-seed", "N", "seed of the resampling", "1");
    add("sweep", "V1,V2,...", "values for {} in the one --methods entry");
    add("tradeoff", "METRIC", "the trade-off chart's metric", "the first DevRat or unsafe rate");
    add("examples", "N", "prompts shown in the audit card", "8");
    add("nudenet", "FILE", "NudeNet's detector", "the copy the setup puts in the cache");
    add("unsafe-score", "X", "detector score counted as unsafe", "0.6");
    add("unsafe-labels", "LABEL,...", "what counts as unsafe", "the exposed ones");
    add("raw", "FILE.safetensors", "the head's predictions per image (parity checks)");
    return m;
  }();
  const auto found = catalog.find(name);
  return found == catalog.end() ? nullptr : &found->second;
}

}  // namespace respo::app
