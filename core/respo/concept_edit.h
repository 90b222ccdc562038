#pragma once
// Closed-form cross-attention edits (the UCE family: Gandikota et al., "Unified Concept Editing in
// Diffusion Models", WACV 2024). For every cross-attention layer of the UNet and both of its text
// projections (to_k, to_v; weight W, [out, in]) one linear solve, in float64:
//
//   W' = (lambda W + sum_terms s (W V^T) C) (lambda I + sum_terms s C^T C)^-1
//
// where a term has a key text (C: its token slice) and value texts with weights (V: the weighted sum
// of their slices). A text's slice is the UNet's context for it from its last word token to the end
// of the padded sequence; a term's texts are aligned at their last word tokens (T = 77 - the largest
// last-word index among them). Terms:
//   erase    key: the concept, value: the destination ("" by default), scale: eraseScale
//   debias   key: the concept, values: the concept + strength * share_a * attribute a, scale: eraseScale
//   preserve key and value: the concept (its outputs stay), scale: preserveScale
// tests/reference/uce_reference.py is the same procedure in Python, written from the paper.
//
// The result is a small .safetensors file of weight deltas (float32, by the UNet's parameter names)
// with metadata (format, method, recipe, model fingerprint). Applying it changes the loaded model's
// weights in memory only and is undone exactly (the original tensors are kept).
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "core/pipeline/stable_diffusion_model.h"

namespace respo::edits {

struct EditRecipe {
  std::string name;                      // shown in lists and in the picture's text
  std::vector<std::string> erase;        // concepts to move toward `destination`
  std::string destination;               // "" (the empty prompt), or e.g. "a painting"
  std::vector<std::string> debias;       // concepts to move toward the attribute mix
  std::vector<std::pair<std::string, double>> attributes;  // attribute text and its target share
  double strength = 1.0;                 // debias: how far toward the attributes
  std::vector<std::string> preserve;     // concepts whose outputs stay
  double lambda = 0.1;                   // the pull toward the original weights
  double eraseScale = 1.0, preserveScale = 1.0;

  // At least one erase or debias concept; attributes (two or more, shares > 0) exactly when there are
  // debias concepts; plain texts (no emphasis syntax) of valid UTF-8; finite settings in range
  // (lambda 1e-6..1e4, scales 0..1e4, strength 0..100). Throws InvalidArgument naming the field.
  void validate() const;
  // "uce-erase", "uce-debias" or "uce-erase+debias".
  std::string method() const;
  std::string toJson() const;
  static EditRecipe fromJson(const std::string& text, const std::string& where);  // FormatError on bad input
};

struct ConceptEdit {
  EditRecipe recipe;
  std::string modelFingerprint;
  std::map<std::string, torch::Tensor> deltas;  // parameter name -> W' - W, float32, CPU
  std::string fileHash;                         // SHA-256 of the file (when loaded)
};

// Computes the edit on `model` (SD1/SD2/SDXL: its UNet context, i.e. every text encoder as the
// pipeline conditions the UNet). Throws InvalidArgument for a recipe text longer than 75 tokens.
ConceptEdit computeEdit(pipeline::StableDiffusionModel& model, const EditRecipe& recipe);
// The edited weights W' themselves (float32), for comparison with the reference.
std::map<std::string, torch::Tensor> editedWeights(pipeline::StableDiffusionModel& model, const ConceptEdit& edit);

// Written atomically.
void saveEdit(const std::filesystem::path& path, const ConceptEdit& edit);
// Throws FormatError naming the file for anything but an edit file of sane shape and finite values.
ConceptEdit loadEdit(const std::filesystem::path& path);

// Throws InvalidArgument when `edit` cannot be applied to `model`: made for another model
// (fingerprint, unless `ignoreFingerprint`), or naming parameters the model lacks or shapes it does
// not have. Changes nothing.
void checkEdit(pipeline::StableDiffusionModel& model, const ConceptEdit& edit, bool ignoreFingerprint = false);

// An edit applied to a model's weights while this object lives; the destructor restores the exact
// original weights. Checks first, as checkEdit does.
class AppliedEdit {
 public:
  AppliedEdit(pipeline::StableDiffusionModel& model, const ConceptEdit& edit, bool ignoreFingerprint = false);
  ~AppliedEdit();
  AppliedEdit(const AppliedEdit&) = delete;
  AppliedEdit& operator=(const AppliedEdit&) = delete;

 private:
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved_;  // parameter, its original value
};

}  // namespace respo::edits
