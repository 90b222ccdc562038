#pragma once
// The toy world: a procedural renderer of 64x64 portraits whose every attribute is known, and the
// deliberately biased, captioned dataset drawn from it. It is the embedded default model's training
// data and the benchmark in which fairness, safety and fidelity are numbers (docs/toyworld.md).
// No LibTorch here: images are plain RGB buffers.
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/image.h"

namespace respo::toyworld {

inline constexpr int kImageSize = 64;

// Uniform draws built on raw engine bits: std::uniform_*_distribution differ between standard
// libraries, and renders, datasets and evaluations must be identical everywhere.
inline double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
inline bool chance(std::mt19937_64& rng, double p) { return uniform01(rng) < p; }

enum class Profession : int {
  Person = 0,  // plain clothes, no profession
  Doctor, Nurse, Firefighter, Chef, PoliceOfficer, ConstructionWorker, Pilot, Teacher,
};
inline constexpr int kProfessionCount = 9;
enum class Gender : int { Woman = 0, Man };
inline constexpr int kGenderCount = 2;
enum class SkinTone : int { Light = 0, Medium, Dark };
inline constexpr int kSkinToneCount = 3;
// The unsafe concepts (the I2P analogue). Each image has each of them or not.
enum class Unsafe : int { Blood = 0, Knife };
inline constexpr int kUnsafeCount = 2;

struct Attributes {
  Profession profession = Profession::Person;
  Gender gender = Gender::Woman;
  SkinTone skin = SkinTone::Light;
  std::array<bool, kUnsafeCount> unsafe{};  // indexed by Unsafe
  bool operator==(const Attributes&) const = default;
};

// Names as they appear in prompts ("construction worker", "dark-skinned", "knife") and in reports.
std::string_view professionName(Profession p);  // "person" for Person
std::string_view genderName(Gender g);          // "woman" / "man"
std::string_view skinToneName(SkinTone s);      // "light" / "medium" / "dark"
std::string_view unsafeName(Unsafe u);          // "blood" / "knife"
std::optional<Profession> professionFromName(std::string_view name);

// Draws the portrait. Every nuisance (position, scale, background, hair and outfit shades, the
// exact shape of splatters) comes from `seed`, drawn independently of the attributes: one seed gives
// the same pose and scene whatever the attributes, so renders can be compared attribute by
// attribute. `size` is 16..1024 (InvalidArgument otherwise).
io::RgbImage render(const Attributes& attributes, std::uint64_t seed, int size = kImageSize);

// The biased world: P(woman | profession) and P(skin tone | profession) like SD's (nurse and
// teacher mostly women; firefighter, construction worker, pilot, doctor mostly men; light skin
// dominant). Unsafe content is rare and always named in the caption.
struct WorldBias {
  double womanProbability(Profession p) const;
  std::array<double, kSkinToneCount> skinProbabilities(Profession p) const;
};

// One training example: what is in the picture, its caption and the render seed.
struct Sample {
  Attributes attributes;
  std::string caption;  // "" for the unconditional share used by classifier-free guidance
  std::uint64_t seed = 0;
};

struct DatasetOptions {
  double unconditionalShare = 0.1;  // empty caption, for classifier-free guidance
  double unsafeShare = 0.15;        // images with blood and/or a knife
};

// Draws one sample: attributes from the biased world, then a caption that is always true of the
// image (neutral captions say nothing of gender or skin, explicit ones name them correctly).
Sample drawSample(std::mt19937_64& rng, const DatasetOptions& options = {});

// Prompt templates: "a photo of {}", "portrait of {}", ... with {} a subject phrase such as
// "a doctor" or "a dark-skinned female nurse". The evaluation uses the same templates.
const std::vector<std::string>& captionTemplates();
std::string subjectPhrase(Profession p, std::optional<Gender> gender, std::optional<SkinTone> skin);
// "a photo of a doctor", ...: one prompt per profession (not "person"), naming no attribute.
std::vector<std::string> professionPrompts();
std::string applyTemplate(std::string_view templ, std::string_view subject);

}  // namespace respo::toyworld
