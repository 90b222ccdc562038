// The toy world's names, its biases and its captioned dataset. Captions use a small, fixed
// vocabulary (the text encoder is trained from scratch on them) and are always true of the image.
#include <algorithm>
#include <array>

#include "core/common/error.h"
#include "core/toyworld/world.h"

namespace respo::toyworld {
namespace {

template <std::size_t N>
int pick(std::mt19937_64& rng, const std::array<double, N>& weights) {
  double total = 0;
  for (double w : weights) total += w;
  double u = uniform01(rng) * total;
  for (std::size_t i = 0; i + 1 < N; ++i) {
    if (u < weights[i]) return static_cast<int>(i);
    u -= weights[i];
  }
  return static_cast<int>(N - 1);
}

constexpr std::array<std::string_view, kProfessionCount> kProfessionNames = {
    "person", "doctor", "nurse", "firefighter", "chef", "police officer", "construction worker", "pilot", "teacher"};

// Person is drawn twice as often as each profession: "a person", "a woman", "a dark-skinned man"
// are the captions that teach the gender and skin words without a profession attached.
constexpr std::array<double, kProfessionCount> kProfessionWeights = {2, 1, 1, 1, 1, 1, 1, 1, 1};

}  // namespace

std::string_view professionName(Profession p) {
  const int i = static_cast<int>(p);
  if (i < 0 || i >= kProfessionCount) throw InvalidArgument("unknown profession " + std::to_string(i));
  return kProfessionNames[i];
}
std::string_view genderName(Gender g) { return g == Gender::Woman ? "woman" : "man"; }
std::string_view skinToneName(SkinTone s) {
  switch (s) {
    case SkinTone::Light: return "light";
    case SkinTone::Medium: return "medium";
    case SkinTone::Dark: return "dark";
  }
  throw InvalidArgument("unknown skin tone " + std::to_string(static_cast<int>(s)));
}
std::string_view unsafeName(Unsafe u) { return u == Unsafe::Blood ? "blood" : "knife"; }

std::optional<Profession> professionFromName(std::string_view name) {
  for (int i = 0; i < kProfessionCount; ++i)
    if (kProfessionNames[i] == name) return static_cast<Profession>(i);
  return std::nullopt;
}

double WorldBias::womanProbability(Profession p) const {
  // SD-like stereotypes: the further from 0.5, the stronger the bias the modules must undo.
  constexpr std::array<double, kProfessionCount> kWoman = {0.5, 0.2, 0.9, 0.1, 0.3, 0.2, 0.1, 0.15, 0.8};
  (void)professionName(p);  // validates
  return kWoman[static_cast<int>(p)];
}

std::array<double, kSkinToneCount> WorldBias::skinProbabilities(Profession p) const {
  (void)professionName(p);  // validates
  switch (p) {
    case Profession::Person: return {0.6, 0.25, 0.15};
    case Profession::Nurse: return {0.65, 0.2, 0.15};
    case Profession::Chef:
    case Profession::ConstructionWorker: return {0.65, 0.22, 0.13};
    case Profession::Firefighter:
    case Profession::Pilot: return {0.75, 0.15, 0.1};
    default: return {0.7, 0.2, 0.1};
  }
}

const std::vector<std::string>& captionTemplates() {
  static const std::vector<std::string> templates = {"{}", "a photo of {}", "portrait of {}", "picture of {}",
                                                     "an image of {}", "headshot of {}"};
  return templates;
}

std::string applyTemplate(std::string_view templ, std::string_view subject) {
  const auto at = templ.find("{}");
  if (at == std::string_view::npos) throw InvalidArgument("caption template lacks '{}': " + std::string(templ));
  std::string out(templ.substr(0, at));
  out += subject;
  out += templ.substr(at + 2);
  return out;
}

std::string subjectPhrase(Profession p, std::optional<Gender> gender, std::optional<SkinTone> skin) {
  std::string out = "a ";  // no subject starts with a vowel sound
  if (skin) out += std::string(skinToneName(*skin)) + "-skinned ";
  if (p == Profession::Person) {
    out += gender ? genderName(*gender) : "person";
  } else {
    if (gender) out += *gender == Gender::Woman ? "female " : "male ";
    out += professionName(p);
  }
  return out;
}

std::vector<std::string> professionPrompts() {
  std::vector<std::string> prompts;
  for (int p = 1; p < kProfessionCount; ++p)
    prompts.push_back(applyTemplate("a photo of {}", subjectPhrase(static_cast<Profession>(p), std::nullopt, std::nullopt)));
  return prompts;
}

Sample drawSample(std::mt19937_64& rng, const DatasetOptions& options) {
  // Draws happen in a fixed order and all through rng, so a seed fixes the whole dataset.
  static const WorldBias bias;
  Sample s;
  Attributes& a = s.attributes;
  a.profession = static_cast<Profession>(pick(rng, kProfessionWeights));
  a.gender = chance(rng, bias.womanProbability(a.profession)) ? Gender::Woman : Gender::Man;
  a.skin = static_cast<SkinTone>(pick(rng, bias.skinProbabilities(a.profession)));
  if (chance(rng, options.unsafeShare)) {
    // Mostly one concept at a time, so each unsafe word is learnt on its own; sometimes both.
    switch (pick(rng, std::array<double, 3>{0.45, 0.45, 0.10})) {
      case 0: a.unsafe[static_cast<int>(Unsafe::Blood)] = true; break;
      case 1: a.unsafe[static_cast<int>(Unsafe::Knife)] = true; break;
      default: a.unsafe = {true, true};
    }
  }
  const bool unconditional = chance(rng, options.unconditionalShare);
  // Explicitness: neutral, gender only, skin only, both.
  const int explicitness = pick(rng, std::array<double, 4>{0.40, 0.25, 0.20, 0.15});
  const bool bloodWording = chance(rng, 0.5), knifeWording = chance(rng, 0.5);
  const auto& templates = captionTemplates();
  const auto templateIndex = static_cast<std::size_t>(uniform01(rng) * templates.size());
  const std::string& templ = templates[std::min(templates.size() - 1, templateIndex)];
  s.seed = rng();
  if (unconditional) return s;

  std::string subject = subjectPhrase(a.profession, (explicitness & 1) ? std::optional(a.gender) : std::nullopt,
                                      (explicitness & 2) ? std::optional(a.skin) : std::nullopt);
  if (a.unsafe[static_cast<int>(Unsafe::Blood)]) {
    if (bloodWording) subject.insert(2, "bloody ");  // "a bloody doctor"
    else subject += " covered in blood";
  }
  if (a.unsafe[static_cast<int>(Unsafe::Knife)]) subject += knifeWording ? " holding a knife" : " with a knife";
  s.caption = applyTemplate(templ, subject);
  return s;
}

}  // namespace respo::toyworld
