#include "core/respo/concept_edit.h"

#include <cmath>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/json.h"
#include "core/common/numbers.h"
#include "core/common/sha256.h"
#include "core/common/utf8.h"
#include "core/io/safetensors_torch.h"
#include "core/models/layers.h"
#include "core/pipeline/prompt_conditioning.h"
#include "core/respo/trainer.h"
#include "core/text/prompt_weights.h"

namespace respo::edits {
namespace {

constexpr const char* kFormat = "respodiff-concept-edit";
constexpr std::size_t kMaxTexts = 256;
constexpr std::size_t kMaxTextBytes = 1024;
constexpr std::size_t kMaxDeltas = 4096;

void checkText(const std::string& text, const std::string& field) {
  if (text.size() > kMaxTextBytes) throw InvalidArgument("concept edit: a " + field + " text is longer than 1024 bytes");
  if (!isValidUtf8(text)) throw InvalidArgument("concept edit: a " + field + " text is not valid UTF-8");
  if (!text::isPlainPrompt(text))
    throw InvalidArgument("concept edit: the " + field + " text '" + text.substr(0, 60) +
                          "' uses emphasis syntax; edit texts are plain");
}

void checkList(const std::vector<std::string>& list, const std::string& field) {
  if (list.size() > kMaxTexts) throw InvalidArgument("concept edit: more than 256 " + field + " texts");
  for (const auto& text : list) {
    if (text.find_first_not_of(" \t") == std::string::npos)
      throw InvalidArgument("concept edit: an empty " + field + " text");
    checkText(text, field);
  }
}

void range(const char* what, double v, double lo, double hi) {
  if (!std::isfinite(v) || v < lo || v > hi)
    throw InvalidArgument(std::string("concept edit: ") + what + " must be between " + numbers::formatReal(lo) + " and " +
                          numbers::formatReal(hi) + ", not " + numbers::formatReal(v));
}

struct Term {
  std::string key;
  std::vector<std::pair<std::string, double>> values;
  double scale;
};

std::vector<Term> termsOf(const EditRecipe& r) {
  std::vector<Term> out;
  for (const auto& concept_ : r.erase) out.push_back({concept_, {{r.destination, 1.0}}, r.eraseScale});
  double total = 0;
  for (const auto& a : r.attributes) total += a.second;
  for (const auto& concept_ : r.debias) {
    Term t{concept_, {{concept_, 1.0}}, r.eraseScale};
    for (const auto& [text, share] : r.attributes) t.values.push_back({text, r.strength * share / total});
    out.push_back(std::move(t));
  }
  for (const auto& concept_ : r.preserve) out.push_back({concept_, {{concept_, 1.0}}, r.preserveScale});
  return out;
}

// The UNet context of a plain text ([77, in], float64) and the index of its last word token.
struct Embedded {
  torch::Tensor context;
  int64_t lastWord = 0;
};

Embedded embed(pipeline::StableDiffusionModel& model, const std::string& text) {
  const auto tokens = (*model.tokenizer)(text);
  if (tokens.truncated)
    throw InvalidArgument("concept edit: the text '" + text.substr(0, 60) + "' is longer than 75 tokens");
  int64_t real = 0;
  for (auto m : tokens.attentionMask) real += m;
  auto conditioning = pipeline::encodePrompt(model, text);
  return {conditioning.context[0].to(torch::kCPU, torch::kFloat64), real - 2};
}

}  // namespace

void EditRecipe::validate() const {
  if (name.empty() || name.size() > 200 || !isValidUtf8(name))
    throw InvalidArgument("concept edit: the name must be 1-200 bytes of UTF-8 text");
  if (erase.empty() && debias.empty()) throw InvalidArgument("concept edit: nothing to erase or debias");
  checkList(erase, "erase");
  checkList(debias, "debias");
  checkList(preserve, "preserve");
  checkText(destination, "destination");
  if (!debias.empty() && attributes.size() < 2)
    throw InvalidArgument("concept edit: debiasing needs two or more attributes with their target shares");
  if (debias.empty() && !attributes.empty()) throw InvalidArgument("concept edit: attributes are given but no concept to debias");
  if (attributes.size() > kMaxTexts) throw InvalidArgument("concept edit: more than 256 attributes");
  for (const auto& [text, share] : attributes) {
    if (text.find_first_not_of(" \t") == std::string::npos) throw InvalidArgument("concept edit: an empty attribute text");
    checkText(text, "attribute");
    range("an attribute share", share, 1e-9, 1e6);
  }
  range("lambda", lambda, 1e-6, 1e4);
  range("the erase scale", eraseScale, 0, 1e4);
  range("the preserve scale", preserveScale, 0, 1e4);
  range("the debias strength", strength, 0, 100);
}

std::string EditRecipe::method() const {
  if (!erase.empty() && !debias.empty()) return "uce-erase+debias";
  return debias.empty() ? "uce-erase" : "uce-debias";
}

std::string EditRecipe::toJson() const {
  nlohmann::json j;
  j["name"] = name;
  j["erase"] = erase;
  j["destination"] = destination;
  j["debias"] = debias;
  j["attributes"] = nlohmann::json::array();
  for (const auto& [text, share] : attributes) j["attributes"].push_back({text, share});
  j["strength"] = strength;
  j["preserve"] = preserve;
  j["lambda"] = lambda;
  j["erase_scale"] = eraseScale;
  j["preserve_scale"] = preserveScale;
  return j.dump();
}

EditRecipe EditRecipe::fromJson(const std::string& text, const std::string& where) {
  const auto j = json::parse(text, where);
  EditRecipe r;
  try {
    if (!j.is_object()) throw FormatError(where + ": the recipe is not a JSON object");
    auto strings = [&](const char* key) {
      std::vector<std::string> out;
      if (!j.contains(key)) return out;
      const auto& list = j.at(key);
      if (!list.is_array() || list.size() > kMaxTexts) throw FormatError(where + ": recipe field '" + key + "' must be a list of texts");
      for (const auto& item : list) {
        if (!item.is_string()) throw FormatError(where + ": recipe field '" + key + "' must be a list of texts");
        out.push_back(item.get<std::string>());
      }
      return out;
    };
    auto real = [&](const char* key, double fallback) {
      if (!j.contains(key)) return fallback;
      if (!j.at(key).is_number()) throw FormatError(where + ": recipe field '" + key + "' must be a number");
      return j.at(key).get<double>();
    };
    auto string = [&](const char* key) {
      if (!j.contains(key)) return std::string();
      if (!j.at(key).is_string()) throw FormatError(where + ": recipe field '" + key + "' must be a text");
      return j.at(key).get<std::string>();
    };
    r.name = string("name");
    r.erase = strings("erase");
    r.destination = string("destination");
    r.debias = strings("debias");
    r.preserve = strings("preserve");
    if (j.contains("attributes")) {
      const auto& list = j.at("attributes");
      if (!list.is_array() || list.size() > kMaxTexts) throw FormatError(where + ": recipe field 'attributes' must be a list");
      for (const auto& a : list) {
        if (!a.is_array() || a.size() != 2 || !a[0].is_string() || !a[1].is_number())
          throw FormatError(where + ": each attribute must be [text, share]");
        r.attributes.push_back({a[0].get<std::string>(), a[1].get<double>()});
      }
    }
    r.strength = real("strength", 1.0);
    r.lambda = real("lambda", 0.1);
    r.eraseScale = real("erase_scale", 1.0);
    r.preserveScale = real("preserve_scale", 1.0);
    r.validate();
  } catch (const InvalidArgument& e) {
    throw FormatError(where + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(where + ": the recipe cannot be read (" + std::string(e.what()).substr(0, 200) + ")");
  }
  return r;
}

ConceptEdit computeEdit(pipeline::StableDiffusionModel& model, const EditRecipe& recipe) {
  recipe.validate();
  torch::InferenceMode inference;
  std::map<std::string, Embedded> cache;
  auto embedded = [&](const std::string& text) -> const Embedded& {
    auto found = cache.find(text);
    if (found == cache.end()) found = cache.emplace(text, embed(model, text)).first;
    return found->second;
  };
  // Each term's key slice C and value slice V, aligned at the last word tokens.
  struct Slices {
    torch::Tensor key, value;
    double scale;
  };
  std::vector<Slices> slices;
  for (const auto& term : termsOf(recipe)) {
    int64_t farthest = embedded(term.key).lastWord;
    for (const auto& v : term.values) farthest = std::max(farthest, embedded(v.first).lastWord);
    const auto& keyEmbedding = embedded(term.key);
    const int64_t length = keyEmbedding.context.size(0) - farthest;
    auto piece = [&](const Embedded& e) { return e.context.slice(0, e.lastWord, e.lastWord + length); };
    torch::Tensor value;
    for (const auto& [text, weight] : term.values) {
      const auto part = weight * piece(embedded(text));
      value = value.defined() ? value + part : part;
    }
    slices.push_back({piece(keyEmbedding), value, term.scale});
  }

  ConceptEdit out;
  out.recipe = recipe;
  out.modelFingerprint = concepts::modelFingerprint(model.unet);
  for (const auto& item : model.unet->named_parameters()) {
    const auto& name = item.key();
    const bool projection = name.size() > 19 && (name.ends_with(".attn2.to_k.weight") || name.ends_with(".attn2.to_v.weight"));
    if (!projection) continue;
    const auto W = item.value().detach().to(torch::kCPU, torch::kFloat64);
    auto mat1 = recipe.lambda * W;
    auto mat2 = recipe.lambda * torch::eye(W.size(1), torch::kFloat64);
    for (const auto& s : slices) {
      mat1 = mat1 + s.scale * torch::matmul(torch::matmul(W, s.value.t()), s.key);
      mat2 = mat2 + s.scale * torch::matmul(s.key.t(), s.key);
    }
    const auto edited = torch::matmul(mat1, torch::inverse(mat2));
    out.deltas[name] = (edited - W).to(torch::kFloat32).contiguous();
  }
  if (out.deltas.empty()) throw InvalidArgument("concept edit: the model's UNet has no cross-attention layers");
  return out;
}

std::map<std::string, torch::Tensor> editedWeights(pipeline::StableDiffusionModel& model, const ConceptEdit& edit) {
  std::map<std::string, torch::Tensor> out;
  const auto params = model.unet->named_parameters();
  for (const auto& [name, delta] : edit.deltas) {
    if (!params.contains(name)) throw InvalidArgument("concept edit: the model has no parameter '" + name + "'");
    out[name] = (params[name].detach().to(torch::kCPU, torch::kFloat64) + delta.to(torch::kFloat64)).to(torch::kFloat32);
  }
  return out;
}

void saveEdit(const std::filesystem::path& path, const ConceptEdit& edit) {
  edit.recipe.validate();
  if (edit.deltas.empty()) throw InvalidArgument(path.string() + ": the edit changes nothing");
  io::Metadata metadata{{"format", kFormat},
                        {"version", "1"},
                        {"method", edit.recipe.method()},
                        {"name", edit.recipe.name},
                        {"recipe", edit.recipe.toJson()},
                        {"model_fingerprint", edit.modelFingerprint}};
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& [name, delta] : edit.deltas) tensors[name] = delta.detach().to(torch::kCPU, torch::kFloat32);
  io::saveTensors(path, tensors, metadata);
}

ConceptEdit loadEdit(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::open(path);
  const std::string where = path.string();
  const auto& metadata = file.metadata();
  auto field = [&](const char* key) {
    const auto found = metadata.find(key);
    if (found == metadata.end()) throw FormatError(where + ": not a concept edit (its metadata lacks '" + key + "')");
    return found->second;
  };
  if (field("format") != kFormat) throw FormatError(where + ": not a concept edit (format '" + field("format").substr(0, 60) + "')");
  if (field("version") != "1") throw FormatError(where + ": concept edit version '" + field("version").substr(0, 20) + "' is not supported");
  ConceptEdit edit;
  edit.recipe = EditRecipe::fromJson(field("recipe"), where);
  edit.modelFingerprint = field("model_fingerprint");
  if (file.tensors().empty()) throw FormatError(where + ": the concept edit holds no weights");
  if (file.tensors().size() > kMaxDeltas) throw FormatError(where + ": the concept edit holds too many tensors");
  for (const auto& info : file.tensors()) {
    const bool projection = info.name.ends_with(".attn2.to_k.weight") || info.name.ends_with(".attn2.to_v.weight");
    if (!projection) throw FormatError(where + ": '" + info.name.substr(0, 120) + "' is not a cross-attention projection");
    if (info.dtype != io::DType::F32 || info.shape.size() != 2 || info.shape[0] <= 0 || info.shape[1] <= 0)
      throw FormatError(where + ": '" + info.name.substr(0, 120) + "' must be a float32 matrix");
    auto delta = io::copyTensor(file, info);
    if (!torch::isfinite(delta).all().item<bool>())
      throw FormatError(where + ": '" + info.name.substr(0, 120) + "' holds values that are not finite numbers; the file is damaged");
    edit.deltas[info.name] = delta;
  }
  edit.fileHash = hashing::fileSha256(path);
  return edit;
}

void checkEdit(pipeline::StableDiffusionModel& model, const ConceptEdit& edit, bool ignoreFingerprint) {
  if (!ignoreFingerprint) {
    const auto fingerprint = concepts::modelFingerprint(model.unet);
    if (fingerprint != edit.modelFingerprint)
      throw InvalidArgument("the concept edit '" + edit.recipe.name + "' was made for another model (fingerprint " +
                            edit.modelFingerprint + ", this model " + fingerprint + ")");
  }
  const auto params = model.unet->named_parameters();
  for (const auto& [name, delta] : edit.deltas) {
    if (!params.contains(name)) throw InvalidArgument("the concept edit '" + edit.recipe.name + "' names '" + name + "', which this model lacks");
    if (params[name].sizes() != delta.sizes())
      throw InvalidArgument("the concept edit '" + edit.recipe.name + "' has another shape for '" + name + "'");
  }
}

AppliedEdit::AppliedEdit(pipeline::StableDiffusionModel& model, const ConceptEdit& edit, bool ignoreFingerprint) {
  checkEdit(model, edit, ignoreFingerprint);
  auto params = model.unet->named_parameters();
  torch::NoGradGuard noGrad;
  for (const auto& [name, delta] : edit.deltas) {
    auto param = params[name];
    saved_.push_back({param, param.detach().clone()});
    const auto edited = param.detach().to(torch::kFloat64) + delta.to(param.device(), torch::kFloat64);
    param.detach().copy_(edited.to(param.scalar_type()));
  }
  models::weightsChangedInPlace();
}

AppliedEdit::~AppliedEdit() {
  torch::NoGradGuard noGrad;
  for (auto& [param, original] : saved_) param.detach().copy_(original);
  models::weightsChangedInPlace();
}

}  // namespace respo::edits
