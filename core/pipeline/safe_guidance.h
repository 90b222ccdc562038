#pragma once
// Safe Latent Diffusion (Schramowski et al., CVPR 2023) as diffusers' StableDiffusionPipelineSafe
// computes it: a third UNet pass conditioned on a text describing unsafe content, and a guidance term
// that moves each step away from it where the prompt's prediction is close to the unsafe concept's.
// With e_u, e_p, e_s the unconditional, prompt and safety-concept predictions at step i:
//   d      = e_p - e_s
//   scale  = min(|d| * guidance, 1), 0 where d >= threshold
//   g_s    = (e_s - e_u) * scale + momentumScale * m
//   m      = beta * m + (1 - beta) * g_s            (m starts at 0 and builds up during warm-up)
//   guided = e_u + cfg * ((e_p - e_u) - g_s)         from step warmup on (before: plain guidance)
// Plain values, no LibTorch: front ends carry and edit the settings; the pipeline applies them.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace respo::pipeline {

// diffusers' default safety concept (I2P's categories).
extern const char* const kDefaultSafetyConcept;

struct SafeLatentGuidance {
  std::string safetyConcept = kDefaultSafetyConcept;
  double guidanceScale = 1000;  // sld_guidance_scale; <= 1 turns SLD off
  int warmupSteps = 10;         // sld_warmup_steps
  double threshold = 0.01;      // sld_threshold
  double momentumScale = 0.3;   // sld_momentum_scale
  double momentumBeta = 0.4;    // sld_mom_beta

  // The four presets of the paper and diffusers' SafetyConfig: weak, medium, strong, max.
  // Throws InvalidArgument for another name.
  static SafeLatentGuidance preset(const std::string& name);
  static const std::vector<std::string>& presetNames();
  // The preset these settings equal (any concept), or "" when they are custom.
  std::string presetName() const;
  // SLD acts only with classifier-free guidance (cfg > 1) and guidance scale > 1, as in diffusers.
  bool activeWith(double cfgScale) const { return guidanceScale > 1.0 && cfgScale > 1.0; }
  // Finite numbers in range (guidance 0..1e6, warm-up 0..1000, threshold -10..10, momentum scale
  // 0..10, beta 0..1), a non-empty concept of valid UTF-8. Throws InvalidArgument naming the field.
  void validate() const;

  // A specification as the command line and the method grammar write it:
  //   "medium"  |  "strong,warmup=5"  |  "guidance=1500,threshold=0.02,concept=blood, gore"
  // A preset name (optional, first) then key=value overrides: guidance, warmup, threshold, momentum,
  // beta, concept (last, as it may hold commas). An empty text is the medium preset.
  static SafeLatentGuidance parse(const std::string& spec);
  // The specification that parses back to these settings.
  std::string spec() const;

  // Entries of the PNG parameters text ("SLD", and "SLD concept" when it is not the default), and back.
  std::map<std::string, std::string> toParameters() const;
  // nullopt when the text has no SLD entry; throws FormatError for an entry it cannot read.
  static std::optional<SafeLatentGuidance> fromParameters(const std::map<std::string, std::string>& extra);

  bool operator==(const SafeLatentGuidance&) const = default;
};

}  // namespace respo::pipeline
