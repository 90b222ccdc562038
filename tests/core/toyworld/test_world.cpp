// core/toyworld renderer and dataset: renders are deterministic and show their attributes (skin
// brightness, long hair, blood, knife, outfit); the dataset has the intended biases and shares, and
// every caption is true of its image. With --sheet FILE it also writes a contact sheet to look at.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

#include "core/common/error.h"
#include "core/io/image.h"
#include "core/toyworld/world.h"
#include "tests/support/testing.h"

using namespace respo;
using namespace respo::toyworld;

namespace {

struct Rgb { int r, g, b; };
Rgb pixel(const io::RgbImage& im, int x, int y) {
  const auto* p = im.pixels.data() + (static_cast<std::size_t>(y) * im.width + x) * 3;
  return {p[0], p[1], p[2]};
}
double luma(Rgb c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; }

Attributes person(Gender g, SkinTone s, Profession p = Profession::Person) {
  Attributes a;
  a.profession = p;
  a.gender = g;
  a.skin = s;
  return a;
}

// Median brightness of a small box around where the face always is (whatever the pose).
double faceBrightness(const io::RgbImage& im) {
  std::vector<double> v;
  for (int y = 24; y <= 34; ++y)
    for (int x = 29; x <= 35; ++x) v.push_back(luma(pixel(im, x, y)));
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Pixels at face and neck height that differ from the background (the row's edge pixel): face,
// neck, ears and, for long hair, the hair beside them.
int foregroundBesideFace(const io::RgbImage& im) {
  int count = 0;
  for (int y = 24; y <= 40; ++y) {
    const Rgb edge = pixel(im, 0, y);
    for (int x = 1; x < im.width - 1; ++x) {
      const Rgb c = pixel(im, x, y);
      if (std::abs(c.r - edge.r) + std::abs(c.g - edge.g) + std::abs(c.b - edge.b) > 45) ++count;
    }
  }
  return count;
}

int bloodRedPixels(const io::RgbImage& im) {
  int count = 0;
  for (int y = 0; y < im.height; ++y)
    for (int x = 0; x < im.width; ++x) {
      const Rgb c = pixel(im, x, y);
      if (c.r > 140 && c.g < 45 && c.b < 45 && c.r > 3 * c.g) ++count;
    }
  return count;
}

int changedPixels(const io::RgbImage& a, const io::RgbImage& b) {
  int count = 0;
  for (std::size_t i = 0; i < a.pixels.size(); i += 3) {
    const int d = std::abs(a.pixels[i] - b.pixels[i]) + std::abs(a.pixels[i + 1] - b.pixels[i + 1]) +
                  std::abs(a.pixels[i + 2] - b.pixels[i + 2]);
    if (d > 30) ++count;
  }
  return count;
}

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}
bool has(const std::vector<std::string>& ws, const std::string& w) {
  return std::find(ws.begin(), ws.end(), w) != ws.end();
}

}  // namespace

RESPO_TEST(render_is_deterministic_and_sized) {
  Attributes a = person(Gender::Woman, SkinTone::Medium, Profession::Chef);
  a.unsafe = {true, true};
  const auto first = render(a, 42), again = render(a, 42), other = render(a, 43);
  EXPECT_EQ(first.width, kImageSize);
  EXPECT_EQ(first.height, kImageSize);
  EXPECT_EQ(first.pixels.size(), std::size_t(kImageSize * kImageSize * 3));
  EXPECT(first.pixels == again.pixels);
  EXPECT(changedPixels(first, other) > 100);
  const auto big = render(a, 42, 128);
  EXPECT_EQ(big.width, 128);
  EXPECT_EQ(big.pixels.size(), std::size_t(128 * 128 * 3));
  EXPECT_THROWS(render(a, 1, 4), InvalidArgument, "size");
}

RESPO_TEST(skin_tone_orders_face_brightness) {
  // Same seed, same everything but the skin: counterfactual renders.
  int ordered = 0;
  double sum[3] = {};
  const int n = 200;
  for (int seed = 0; seed < n; ++seed) {
    const auto g = seed % 2 ? Gender::Man : Gender::Woman;
    const auto p = static_cast<Profession>(seed % kProfessionCount);
    double b[3];
    for (int s = 0; s < 3; ++s) sum[s] += b[s] = faceBrightness(render(person(g, static_cast<SkinTone>(s), p), seed));
    if (b[0] > b[1] + 30 && b[1] > b[2] + 30) ++ordered;
  }
  EXPECT_EQ(ordered, n);
  EXPECT(sum[0] / n > 190 && sum[0] / n < 225);
  EXPECT(sum[1] / n > 125 && sum[1] / n < 160);
  EXPECT(sum[2] / n > 50 && sum[2] / n < 85);
}

RESPO_TEST(women_have_long_hair_beside_the_face) {
  int clear = 0;
  double total = 0;
  const int n = 200;
  for (int seed = 0; seed < n; ++seed) {
    const auto s = static_cast<SkinTone>(seed % 3);
    // The teacher's chalkboard fills the row's edge, so the edge is no background reference there.
    const auto p = static_cast<Profession>(seed % (kProfessionCount - 1));
    const int woman = foregroundBesideFace(render(person(Gender::Woman, s, p), seed));
    const int man = foregroundBesideFace(render(person(Gender::Man, s, p), seed));
    total += woman - man;
    if (woman > man + 40) ++clear;
  }
  for (int seed = 0; seed < 40; ++seed) {  // teachers: hair replaces board pixels beside the face
    const auto woman = render(person(Gender::Woman, SkinTone::Light, Profession::Teacher), seed);
    const auto man = render(person(Gender::Man, SkinTone::Light, Profession::Teacher), seed);
    int changed = 0;
    for (int y = 24; y <= 40; ++y)
      for (int x = 0; x < kImageSize; ++x) {
        const Rgb a = pixel(woman, x, y), b = pixel(man, x, y);
        changed += std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b) > 45;
      }
    EXPECT(changed > 80);
  }
  std::cout << "  long hair adds " << total / n << " foreground pixels beside the face on average\n";
  EXPECT(clear >= n * 95 / 100);
  EXPECT(total / n > 80);
}

RESPO_TEST(blood_is_saturated_red_and_only_there) {
  int minBlood = 1 << 30, maxSafe = 0;
  double coverage = 0;
  const int n = 180;
  for (int seed = 0; seed < n; ++seed) {
    Attributes a = person(seed % 2 ? Gender::Man : Gender::Woman, static_cast<SkinTone>(seed % 3),
                          static_cast<Profession>(seed % kProfessionCount));
    const int safe = bloodRedPixels(render(a, seed));
    a.unsafe[static_cast<int>(Unsafe::Blood)] = true;
    const int bloody = bloodRedPixels(render(a, seed));
    minBlood = std::min(minBlood, bloody);
    maxSafe = std::max(maxSafe, safe);
    coverage += bloody / double(kImageSize * kImageSize);
  }
  std::cout << "  blood covers " << 100 * coverage / n << "% of pixels on average, at least " << minBlood
            << " pixels; safe renders have at most " << maxSafe << " blood-red pixels\n";
  EXPECT(minBlood >= 150);
  EXPECT(maxSafe <= 5);
  EXPECT(coverage / n > 0.04 && coverage / n < 0.12);
}

RESPO_TEST(knife_and_outfits_change_the_picture) {
  for (int seed = 0; seed < 90; ++seed) {
    Attributes a = person(Gender::Man, SkinTone::Light, static_cast<Profession>(seed % kProfessionCount));
    const auto safe = render(a, seed);
    a.unsafe[static_cast<int>(Unsafe::Knife)] = true;
    const int changed = changedPixels(safe, render(a, seed));
    EXPECT(changed > 120 && changed < 400);
  }
  // Every pair of professions differs in many pixels for the same person and pose.
  for (int seed = 0; seed < 5; ++seed) {
    std::vector<io::RgbImage> outfits;
    for (int p = 0; p < kProfessionCount; ++p)
      outfits.push_back(render(person(Gender::Woman, SkinTone::Dark, static_cast<Profession>(p)), seed));
    for (int p = 0; p < kProfessionCount; ++p)
      for (int q = p + 1; q < kProfessionCount; ++q) EXPECT(changedPixels(outfits[p], outfits[q]) > 500);
  }
}

RESPO_TEST(names_and_phrases) {
  for (int p = 0; p < kProfessionCount; ++p)
    EXPECT(professionFromName(professionName(static_cast<Profession>(p))) == static_cast<Profession>(p));
  EXPECT_EQ(professionName(Profession::ConstructionWorker), std::string_view("construction worker"));
  EXPECT(!professionFromName("Doctor").has_value());
  EXPECT(!professionFromName("doctors").has_value());
  EXPECT_EQ(genderName(Gender::Man), std::string_view("man"));
  EXPECT_EQ(skinToneName(SkinTone::Medium), std::string_view("medium"));
  EXPECT_EQ(unsafeName(Unsafe::Knife), std::string_view("knife"));
  EXPECT_EQ(subjectPhrase(Profession::Person, std::nullopt, std::nullopt), "a person");
  EXPECT_EQ(subjectPhrase(Profession::Person, Gender::Woman, std::nullopt), "a woman");
  EXPECT_EQ(subjectPhrase(Profession::Person, std::nullopt, SkinTone::Light), "a light-skinned person");
  EXPECT_EQ(subjectPhrase(Profession::Person, Gender::Man, SkinTone::Dark), "a dark-skinned man");
  EXPECT_EQ(subjectPhrase(Profession::Doctor, std::nullopt, std::nullopt), "a doctor");
  EXPECT_EQ(subjectPhrase(Profession::Doctor, Gender::Woman, std::nullopt), "a female doctor");
  EXPECT_EQ(subjectPhrase(Profession::PoliceOfficer, Gender::Man, std::nullopt), "a male police officer");
  EXPECT_EQ(subjectPhrase(Profession::Doctor, std::nullopt, SkinTone::Dark), "a dark-skinned doctor");
  EXPECT_EQ(subjectPhrase(Profession::Doctor, Gender::Woman, SkinTone::Dark), "a dark-skinned female doctor");
  const std::vector<std::string> expected = {"{}",           "a photo of {}",  "portrait of {}",
                                             "picture of {}", "an image of {}", "headshot of {}"};
  EXPECT(captionTemplates() == expected);
  EXPECT_EQ(applyTemplate("portrait of {}", "a nurse"), "portrait of a nurse");
  EXPECT_EQ(applyTemplate("{}", "a nurse"), "a nurse");
  EXPECT_THROWS(applyTemplate("no slot", "a nurse"), InvalidArgument, "template");
  const WorldBias bias;
  for (int p = 0; p < kProfessionCount; ++p) {
    const auto s = bias.skinProbabilities(static_cast<Profession>(p));
    EXPECT_NEAR(s[0] + s[1] + s[2], 1.0, 1e-9);
    EXPECT(s[0] >= 0.6);
  }
  EXPECT_NEAR(bias.womanProbability(Profession::Nurse), 0.9, 1e-12);
  EXPECT_NEAR(bias.womanProbability(Profession::Person), 0.5, 1e-12);
}

RESPO_TEST(dataset_has_the_intended_shares_and_biases) {
  std::mt19937_64 rng(1234);
  const int n = 20000;
  int empty = 0, unsafe = 0, bloodOnly = 0, knifeOnly = 0, both = 0, persons = 0;
  int nurseNeutral = 0, nurseNeutralWomen = 0, firefighters = 0, firefighterWomen = 0, doctors = 0, lightDoctors = 0;
  int neutral = 0, nonEmpty = 0;
  std::map<Profession, int> perProfession;
  for (int i = 0; i < n; ++i) {
    const Sample s = drawSample(rng);
    const auto& a = s.attributes;
    const bool blood = a.unsafe[0], knife = a.unsafe[1];
    empty += s.caption.empty();
    unsafe += blood || knife;
    bloodOnly += blood && !knife;
    knifeOnly += knife && !blood;
    both += blood && knife;
    persons += a.profession == Profession::Person;
    ++perProfession[a.profession];
    const auto ws = words(s.caption);
    const bool saysGender = has(ws, "female") || has(ws, "male") || has(ws, "woman") || has(ws, "man");
    const bool saysSkin = has(ws, "light-skinned") || has(ws, "medium-skinned") || has(ws, "dark-skinned");
    if (!s.caption.empty()) {
      ++nonEmpty;
      neutral += !saysGender && !saysSkin;
    }
    if (a.profession == Profession::Nurse && !s.caption.empty() && !saysGender && !saysSkin) {
      ++nurseNeutral;
      nurseNeutralWomen += a.gender == Gender::Woman;
    }
    if (a.profession == Profession::Firefighter) ++firefighters, firefighterWomen += a.gender == Gender::Woman;
    if (a.profession == Profession::Doctor) ++doctors, lightDoctors += a.skin == SkinTone::Light;
  }
  EXPECT_NEAR(empty / double(n), 0.10, 0.01);
  EXPECT_NEAR(unsafe / double(n), 0.15, 0.01);
  EXPECT_NEAR(bloodOnly / double(unsafe), 0.45, 0.04);
  EXPECT_NEAR(knifeOnly / double(unsafe), 0.45, 0.04);
  EXPECT_NEAR(both / double(unsafe), 0.10, 0.03);
  EXPECT_NEAR(persons / double(n), 0.2, 0.015);
  for (int p = 1; p < kProfessionCount; ++p)
    EXPECT_NEAR(perProfession[static_cast<Profession>(p)] / double(n), 0.1, 0.012);
  EXPECT_NEAR(neutral / double(nonEmpty), 0.40, 0.02);
  EXPECT_NEAR(nurseNeutralWomen / double(nurseNeutral), 0.9, 0.03);
  EXPECT_NEAR(firefighterWomen / double(firefighters), 0.1, 0.03);
  EXPECT(lightDoctors / double(doctors) >= 0.6);
  EXPECT_NEAR(lightDoctors / double(doctors), 0.7, 0.03);
}

RESPO_TEST(every_caption_is_true_of_its_image) {
  std::mt19937_64 rng(99);
  std::set<std::string> seenWords, seenTemplates;
  for (int i = 0; i < 20000; ++i) {
    const Sample s = drawSample(rng);
    if (s.caption.empty()) continue;
    const auto& a = s.attributes;
    const auto ws = words(s.caption);
    seenWords.insert(ws.begin(), ws.end());
    const bool female = has(ws, "female") || has(ws, "woman"), male = has(ws, "male") || has(ws, "man");
    if (female) EXPECT(a.gender == Gender::Woman);
    if (male) EXPECT(a.gender == Gender::Man);
    EXPECT(!(female && male));
    if (has(ws, "light-skinned")) EXPECT(a.skin == SkinTone::Light);
    if (has(ws, "medium-skinned")) EXPECT(a.skin == SkinTone::Medium);
    if (has(ws, "dark-skinned")) EXPECT(a.skin == SkinTone::Dark);
    EXPECT_EQ(has(ws, "bloody") || has(ws, "blood"), a.unsafe[0]);
    EXPECT_EQ(has(ws, "knife"), a.unsafe[1]);
    for (int p = 1; p < kProfessionCount; ++p) {
      const std::string name(professionName(static_cast<Profession>(p)));
      EXPECT_EQ(s.caption.find(name) != std::string::npos, a.profession == static_cast<Profession>(p));
    }
    if (a.profession == Profession::Person) EXPECT(has(ws, "person") || has(ws, "woman") || has(ws, "man"));
    int matched = 0;
    for (const auto& t : captionTemplates()) {
      const std::string prefix = t.substr(0, t.find("{}"));
      if (s.caption.rfind(prefix + "a ", 0) == 0) ++matched, seenTemplates.insert(t);
    }
    EXPECT(matched >= 1);
  }
  for (const char* w : {"female", "male", "woman", "man", "person", "light-skinned", "medium-skinned", "dark-skinned",
                        "bloody", "blood", "covered", "holding", "with", "knife", "photo", "portrait", "headshot"})
    EXPECT(seenWords.count(w) == 1);
  EXPECT_EQ(seenTemplates.size(), captionTemplates().size());
}

RESPO_TEST(dataset_is_deterministic_for_a_seed) {
  std::mt19937_64 a(7), b(7), c(8);
  bool differs = false;
  for (int i = 0; i < 5; ++i) {
    const Sample x = drawSample(a), y = drawSample(b), z = drawSample(c);
    EXPECT_EQ(x.caption, y.caption);
    EXPECT(x.attributes == y.attributes);
    EXPECT_EQ(x.seed, y.seed);
    differs = differs || x.seed != z.seed || x.caption != z.caption;
  }
  EXPECT(differs);
  // The first captions of seed 7 (pinned: a change here changes every trained model).
  std::mt19937_64 d(7);
  std::ostringstream first;
  for (int i = 0; i < 5; ++i) first << drawSample(d).caption << "|";
  std::cout << "  seed 7 starts: " << first.str() << "\n";
}

RESPO_TEST(render_is_fast) {
  std::mt19937_64 rng(3);
  std::vector<Sample> samples;
  for (int i = 0; i < 2000; ++i) samples.push_back(drawSample(rng));
  std::size_t checksum = 0;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& s : samples) checksum += render(s.attributes, s.seed).pixels[2000];
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / samples.size();
  std::cout << "  render: " << ms << " ms per 64x64 image (checksum " << checksum << ")\n";
  EXPECT(ms < 3.0);  // loose: catches an accidental slow path, not machine noise
}

// A grid for a human: one row per profession; columns vary gender, skin and unsafe content.
RESPO_TEST(contact_sheet) {
  const std::string path = testing::option("sheet");
  if (path.empty()) return;
  const int scale = testing::option("sheet-scale").empty() ? 3 : std::stoi(testing::option("sheet-scale"));
  std::vector<io::RgbImage> rows;
  for (int p = 0; p < kProfessionCount; ++p) {
    std::vector<io::RgbImage> cells;
    for (int c = 0; c < 10; ++c) {
      Attributes a = person(c % 2 ? Gender::Man : Gender::Woman, static_cast<SkinTone>((c / 2) % 3),
                            static_cast<Profession>(p));
      if (c >= 6) a.unsafe = {c == 6 || c == 8, c == 7 || c == 8};
      cells.push_back(render(a, 1000 * p + c));
    }
    rows.push_back(io::sideBySide(cells, 2));
  }
  const int w = rows[0].width * scale, gap = 2 * scale;
  io::RgbImage sheet{w, static_cast<int>(rows.size()) * (kImageSize * scale + gap) - gap, {}};
  sheet.pixels.assign(static_cast<std::size_t>(sheet.width) * sheet.height * 3, 255);
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (int y = 0; y < kImageSize * scale; ++y)
      for (int x = 0; x < w; ++x)
        for (int ch = 0; ch < 3; ++ch)
          sheet.pixels[((r * (kImageSize * scale + gap) + y) * w + x) * 3 + ch] =
              rows[r].pixels[((y / scale) * rows[r].width + x / scale) * 3 + ch];
  io::writePng(path, sheet);
  const auto back = io::readPng(path);
  EXPECT_EQ(back.width, sheet.width);
  EXPECT_EQ(back.height, sheet.height);
  std::cout << "  wrote " << path << "\n";
}
