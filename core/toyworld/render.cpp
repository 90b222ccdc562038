// The toy world's procedural portrait renderer. Every cue (skin, hair, outfit, hat, blood, knife) is
// large, flat and high-contrast so that a small CNN and a tiny diffusion model can see it at 64x64.
// Nuisances come from per-group generators seeded from the render seed, so one seed gives the same
// pose, background and shades whatever the attributes: renders of one seed are counterfactuals.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "core/common/error.h"
#include "core/toyworld/world.h"

namespace respo::toyworld {
namespace {

double uniform(std::mt19937_64& rng, double lo, double hi) { return lo + (hi - lo) * uniform01(rng); }
int uniformInt(std::mt19937_64& rng, int n) { return std::min(n - 1, static_cast<int>(uniform01(rng) * n)); }

// Independent streams per nuisance group, so drawing more of one group never shifts another.
std::mt19937_64 stream(std::uint64_t seed, std::uint64_t group) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (group + 1);  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return std::mt19937_64(z ^ (z >> 31));
}

using Colour = cv::Scalar;  // stored as R, G, B: the canvas is RGB throughout

Colour rgb(double r, double g, double b) { return Colour(r, g, b); }
Colour tinted(const Colour& c, const cv::Vec3d& f) {
  const auto channel = [&](int i) { return std::clamp(c[i] * f[i], 0.0, 255.0); };
  return Colour(channel(0), channel(1), channel(2));
}
Colour shade(const Colour& c, double f) { return tinted(c, {f, f, f}); }
Colour jitter(std::mt19937_64& rng, const Colour& c, double amount) {
  const double common = uniform(rng, -amount, amount);
  Colour out;
  for (int i = 0; i < 3; ++i) out[i] = std::clamp(c[i] + common + uniform(rng, -amount / 3, amount / 3), 0.0, 255.0);
  return out;
}
double luminance(const Colour& c) { return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]; }
Colour hsv(double h, double s, double v) {  // h in degrees, s and v in [0,1]
  const double c = v * s, hp = std::fmod(h, 360.0) / 60.0, x = c * (1 - std::fabs(std::fmod(hp, 2.0) - 1));
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x; else if (hp < 2) r = x, g = c; else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c; else if (hp < 5) r = x, b = c; else r = c, b = x;
  const double m = v - c;
  return rgb(255 * (r + m), 255 * (g + m), 255 * (b + m));
}

// Every nuisance of one render, drawn up front in a fixed order.
struct Nuisance {
  double dx, dy, scale;
  Colour background, gradient, hair, outfit;
  cv::Vec3d tint;  // per-channel shade factors for profession outfits
  Colour skinJitter;
  int knifeSide;
  bool altColour;  // the teacher's cardigan: green or burgundy
  std::mt19937_64 blood, chalk;
};

// Black, dark brown, brown, blonde, auburn.
const Colour kHairColours[] = {rgb(28, 24, 24), rgb(62, 40, 28), rgb(112, 72, 40), rgb(222, 188, 112),
                               rgb(150, 60, 32)};

Nuisance drawNuisance(std::uint64_t seed) {
  Nuisance n{0, 0, 1, {}, {}, {}, {}, {}, {}, 0, false, stream(seed, 4), stream(seed, 5)};
  auto layout = stream(seed, 0);
  n.dx = uniform(layout, -5, 5);
  n.dy = uniform(layout, -3, 3);
  n.scale = uniform(layout, 0.9, 1.1);
  n.knifeSide = uniformInt(layout, 2) == 0 ? -1 : 1;
  auto colours = stream(seed, 1);
  n.hair = jitter(colours, kHairColours[uniformInt(colours, 5)], 8);
  // Muted, cool or neutral backgrounds: warm ones would melt into skin, saturated ones into outfits.
  // Brightness is kept away from the hair's so long hair stands out against it.
  const double hue = uniform(colours, 75, 320), sat = uniform(colours, 0.05, 0.28);
  double value = uniform(colours, 0.35, 0.88);
  for (int i = 0; i < 16 && std::fabs(luminance(hsv(hue, sat, value)) - luminance(n.hair)) < 60; ++i)
    value = uniform(colours, 0.35, 0.88);
  n.background = hsv(hue, sat, value);
  n.gradient = shade(n.background, uniform(colours, 0.8, 1.15));
  // Person's T-shirt: hues no profession (or blood) owns: purple, pink, mid blue, mustard.
  const double bands[][2] = {{265, 290}, {305, 330}, {210, 228}, {44, 54}};
  const auto& band = bands[uniformInt(colours, 4)];
  n.outfit = hsv(uniform(colours, band[0], band[1]), uniform(colours, 0.45, 0.65), uniform(colours, 0.62, 0.85));
  for (int i = 0; i < 3; ++i) n.tint[i] = uniform(colours, 0.92, 1.08);
  n.skinJitter = rgb(uniform(colours, -4, 4), uniform(colours, -2, 2), uniform(colours, -2, 2));
  n.altColour = uniformInt(colours, 2) == 1;
  return n;
}

// Draws in design units: a 64-pixel canvas with the head centre at the origin, scaled by the pose.
// Everything is drawn at twice the output size and averaged down, which antialiases cheaply.
class Painter {
 public:
  Painter(cv::Mat& canvas, double pixelsPerUnit, double cx, double cy, double scale)
      : img_(canvas), k_(pixelsPerUnit), cx_(cx), cy_(cy), s_(scale) {}
  cv::Point at(double u, double v) const {
    return absolute(cx_ + u * s_, cy_ + v * s_);
  }
  cv::Point absolute(double x, double y) const {
    return {static_cast<int>(std::lround(x * k_ * kSub)), static_cast<int>(std::lround(y * k_ * kSub))};
  }
  int length(double d) const { return std::max(1, static_cast<int>(std::lround(d * s_ * k_ * kSub))); }
  int thickness(double t) const { return std::max(1, static_cast<int>(std::lround(t * s_ * k_))); }

  void circle(double u, double v, double r, const Colour& c) {
    cv::circle(img_, at(u, v), length(r), c, cv::FILLED, cv::LINE_AA, kShift);
  }
  void ellipse(double u, double v, double ax, double ay, double a0, double a1, const Colour& c, double t = -1) {
    const int thick = t < 0 ? cv::FILLED : thickness(t);
    cv::ellipse(img_, at(u, v), {length(ax), length(ay)}, 0, a0, a1, c, thick, cv::LINE_AA, kShift);
  }
  void poly(std::initializer_list<cv::Point2d> pts, const Colour& c) { poly(std::vector<cv::Point2d>(pts), c); }
  void poly(const std::vector<cv::Point2d>& pts, const Colour& c) {
    std::vector<cv::Point> p;
    for (const auto& q : pts) p.push_back(at(q.x, q.y));
    cv::fillPoly(img_, std::vector<std::vector<cv::Point>>{p}, c, cv::LINE_AA, kShift);
  }
  void outline(std::initializer_list<cv::Point2d> pts, const Colour& c, double t, bool closed = false) {
    std::vector<cv::Point> p;
    for (const auto& q : pts) p.push_back(at(q.x, q.y));
    cv::polylines(img_, std::vector<std::vector<cv::Point>>{p}, closed, c, thickness(t), cv::LINE_AA, kShift);
  }
  void line(double u0, double v0, double u1, double v1, const Colour& c, double t) {
    cv::line(img_, at(u0, v0), at(u1, v1), c, thickness(t), cv::LINE_AA, kShift);
  }
  void line(cv::Point2d a, cv::Point2d b, const Colour& c, double t) { line(a.x, a.y, b.x, b.y, c, t); }
  void circle(cv::Point2d centre, double r, const Colour& c) { circle(centre.x, centre.y, r, c); }
  void rect(double u0, double v0, double u1, double v1, const Colour& c) {
    poly({{u0, v0}, {u1, v0}, {u1, v1}, {u0, v1}}, c);
  }
  void absoluteRect(double x0, double y0, double x1, double y1, const Colour& c) {
    cv::rectangle(img_, absolute(x0, y0), absolute(x1, y1), c, cv::FILLED, cv::LINE_AA, kShift);
  }
  void absoluteLine(double x0, double y0, double x1, double y1, const Colour& c, int t) {
    cv::line(img_, absolute(x0, y0), absolute(x1, y1), c, t, cv::LINE_AA, kShift);
  }

 private:
  static constexpr int kShift = 4;  // sub-pixel coordinates (1/16 pixel)
  static constexpr double kSub = 1 << kShift;
  cv::Mat& img_;
  double k_, cx_, cy_, s_;
};

// The torso outline (shoulders to below the frame) and its half-width at a height, so that stripes
// drawn across the body stop at its edge.
const std::vector<cv::Point2d> kTorso = {{-6, 16.5}, {6, 16.5}, {16, 18.5}, {22, 22}, {25.5, 28}, {27, 50},
                                         {-27, 50}, {-25.5, 28}, {-22, 22}, {-16, 18.5}};
double torsoHalfWidth(double v) {
  if (v >= 28) return 25.5 + (v - 28) * 1.5 / 22;
  if (v >= 22) return 22 + (v - 22) * 3.5 / 6;
  return 16 + std::max(0.0, v - 18.5) * 6 / 3.5;
}
void band(Painter& p, double v0, double v1, const Colour& c) {
  p.poly({{-torsoHalfWidth(v0), v0}, {torsoHalfWidth(v0), v0}, {torsoHalfWidth(v1), v1}, {-torsoHalfWidth(v1), v1}}, c);
}
// A collar opening (V) showing a shirt, with a tie when asked.
void shirtV(Painter& p, const Colour& shirt, double depth, const Colour* tie) {
  p.poly({{-5.5, 16.3}, {5.5, 16.3}, {0, 16.5 + depth}}, shirt);
  if (tie) p.poly({{-1.6, 17.5}, {1.6, 17.5}, {2.1, 13.5 + depth}, {0, 16 + depth}, {-2.1, 13.5 + depth}}, *tie);
}
void seams(Painter& p, const Colour& c) {  // the arms' inner edges, so the torso reads as a body
  p.line(-19, 24, -20.5, 50, c, 1);
  p.line(19, 24, 20.5, 50, c, 1);
}
// A peaked cap: crown, band and visor (police, pilot).
void peakedCap(Painter& p, const Colour& crown, const Colour& bandColour, const Colour& badge) {
  p.poly({{-11, -10.5}, {11, -10.5}, {14, -18.5}, {-14, -18.5}}, crown);
  p.ellipse(0, -18.5, 14, 3, 0, 360, crown);
  p.rect(-11, -12.8, 11, -10.3, bandColour);
  p.ellipse(0, -10.5, 11.5, 3.8, 0, 180, rgb(12, 12, 14));
  p.circle(0, -15.5, 2, badge);
}

void drawOutfit(Painter& p, Profession profession, const Nuisance& n, const Colour& skin) {
  const auto tint = [&](const Colour& c) { return tinted(c, n.tint); };
  const Colour white = rgb(244, 244, 240), edge = rgb(150, 150, 155), gold = rgb(228, 182, 48);
  switch (profession) {
    case Profession::Person:
      p.poly(kTorso, n.outfit);
      seams(p, shade(n.outfit, 0.75));
      p.ellipse(0, 16.3, 6, 4.5, 0, 180, shade(skin, 0.88));
      p.ellipse(0, 16.3, 6, 4.5, 0, 180, shade(n.outfit, 0.7), 1);
      break;
    case Profession::Doctor: {
      p.poly(kTorso, white);
      seams(p, edge);
      const Colour tie = rgb(40, 52, 112);
      shirtV(p, rgb(165, 198, 232), 15, &tie);
      p.outline({{-6.5, 16.5}, {-9, 23}, {-0.5, 32}, {-0.5, 50}}, edge, 1.2);  // lapels and the open front
      p.outline({{6.5, 16.5}, {9, 23}, {0.5, 32}}, edge, 1.2);
      const Colour steel = rgb(95, 98, 110);
      p.ellipse(0, 17, 8.5, 10, 0, 180, steel, 1.8);  // stethoscope around the neck
      p.line(8.5, 17, 10, 25, steel, 1.8);
      p.circle(10, 27, 2.6, steel);
      p.circle(10, 27, 1.3, rgb(190, 192, 200));
      break;
    }
    case Profession::Nurse: {
      const Colour scrubs = tint(rgb(64, 172, 182));
      p.poly(kTorso, scrubs);
      seams(p, shade(scrubs, 0.75));
      p.poly({{-6, 16.3}, {6, 16.3}, {0, 25}}, shade(skin, 0.88));
      p.outline({{-6, 16.3}, {0, 25}, {6, 16.3}}, shade(scrubs, 0.7), 1.2);
      p.rect(-16, 28, -8, 34, shade(scrubs, 0.85));  // breast pocket
      break;
    }
    case Profession::Firefighter: {
      const Colour jacket = tint(rgb(48, 48, 54)), yellow = rgb(240, 214, 40);
      p.poly(kTorso, jacket);
      seams(p, rgb(25, 25, 28));
      p.poly({{-6, 16}, {6, 16}, {7.5, 21}, {-7.5, 21}}, shade(jacket, 0.7));  // high collar
      band(p, 29, 32, yellow);
      band(p, 38, 41, yellow);
      p.line(0, 21, 0, 50, rgb(22, 22, 24), 1.2);
      break;
    }
    case Profession::Chef: {
      p.poly(kTorso, white);
      seams(p, edge);
      p.rect(-6, 13.5, 6, 18, white);  // mandarin collar
      p.outline({{-6, 13.5}, {-6, 18}, {6, 18}, {6, 13.5}}, edge, 1);
      p.outline({{-6, 19}, {5, 24}, {5, 50}}, edge, 1);  // the overlapping flap
      for (double v : {24.5, 31.0, 37.5})
        for (double u : {-6.5, 8.5}) p.circle(u, v, 1.8, rgb(35, 35, 38));
      break;
    }
    case Profession::PoliceOfficer: {
      const Colour navy = tint(rgb(30, 42, 98));
      p.poly(kTorso, navy);
      seams(p, shade(navy, 0.6));
      p.poly({{-6, 16.3}, {6, 16.3}, {0, 22}}, shade(skin, 0.88));
      p.poly({{-6.5, 16}, {0, 22}, {-4, 24.5}, {-9, 18}}, shade(navy, 0.75));  // collar points
      p.poly({{6.5, 16}, {0, 22}, {4, 24.5}, {9, 18}}, shade(navy, 0.75));
      p.poly({{-14, 24}, {-10.5, 22.5}, {-7, 24}, {-7.5, 29}, {-10.5, 31}, {-13.5, 29}}, gold);  // badge
      p.circle(-10.5, 26.5, 1.2, shade(gold, 0.7));
      break;
    }
    case Profession::ConstructionWorker: {
      const Colour shirt = tint(rgb(78, 100, 138)), vest = tint(rgb(252, 122, 24)), silver = rgb(226, 228, 232);
      p.poly(kTorso, shirt);
      seams(p, shade(shirt, 0.7));
      p.ellipse(0, 16.3, 6, 4.5, 0, 180, shade(skin, 0.88));
      p.poly({{-6.5, 16.5}, {-3.5, 23}, {-3.5, 50}, {-21, 50}, {-21, 24}, {-15, 18.5}}, vest);
      p.poly({{6.5, 16.5}, {3.5, 23}, {3.5, 50}, {21, 50}, {21, 24}, {15, 18.5}}, vest);
      for (double v0 : {30.0, 38.0}) {
        p.rect(-21, v0, -3.5, v0 + 2.8, silver);
        p.rect(3.5, v0, 21, v0 + 2.8, silver);
      }
      p.poly({{-12.5, 17.8}, {-9.5, 17.2}, {-9.5, 30}, {-12.5, 30}}, silver);  // braces over the shoulders
      p.poly({{12.5, 17.8}, {9.5, 17.2}, {9.5, 30}, {12.5, 30}}, silver);
      break;
    }
    case Profession::Pilot: {
      const Colour jacket = tint(rgb(20, 22, 36)), tie = rgb(10, 10, 12);
      p.poly(kTorso, jacket);
      seams(p, rgb(50, 52, 66));
      shirtV(p, rgb(246, 246, 246), 16, &tie);
      for (int side : {-1, 1}) {  // gold-striped epaulettes
        p.poly({{side * 10.0, 16.8}, {side * 21.0, 19.6}, {side * 21.5, 24.5}, {side * 10.5, 21.6}}, gold);
        p.line(side * 10.3, 19.2, side * 21.2, 22.1, shade(jacket, 1.0), 1);
      }
      p.rect(-22, 42, 22, 44.5, gold);  // sleeve-and-hem stripe across the bottom
      break;
    }
    case Profession::Teacher: {
      const Colour cardigan = tint(n.altColour ? rgb(128, 34, 58) : rgb(62, 128, 66));
      p.poly(kTorso, cardigan);
      seams(p, shade(cardigan, 0.7));
      const Colour cream = rgb(240, 234, 218);
      p.poly({{-6.5, 16.3}, {6.5, 16.3}, {0, 33}}, cream);
      p.poly({{-6.5, 16.3}, {-1, 16.3}, {-4, 21}}, shade(cream, 0.85));  // collar points
      p.poly({{6.5, 16.3}, {1, 16.3}, {4, 21}}, shade(cream, 0.85));
      for (double v : {36.5, 42.5}) p.circle(0, v, 1.6, cream);
      break;
    }
  }
}

void drawHat(Painter& p, Profession profession) {
  const Colour white = rgb(246, 246, 244), edge = rgb(160, 160, 165);
  switch (profession) {
    case Profession::Nurse:
      p.poly({{-8.8, -10}, {8.8, -10}, {7.2, -19.2}, {-7.2, -19.2}}, edge);
      p.poly({{-8, -10.5}, {8, -10.5}, {6.5, -18.5}, {-6.5, -18.5}}, white);
      p.rect(-3.2, -15.5, 3.2, -13.3, rgb(214, 58, 50));  // the cross: bright, but not blood's red
      p.rect(-1.1, -17.6, 1.1, -11.2, rgb(214, 58, 50));
      break;
    case Profession::Firefighter: {
      const Colour red = rgb(212, 62, 44);
      p.ellipse(0, -9.5, 13.5, 11.5, 180, 360, red);
      p.ellipse(0, -9.5, 18, 3.2, 0, 360, shade(red, 0.78));  // wide brim
      p.ellipse(0, -9.5, 13.5, 11.5, 200, 340, shade(red, 1.15), 1.2);  // crest highlight
      break;
    }
    case Profession::Chef:
      for (double u : {-6.5, 0.0, 6.5}) p.circle(u, -22, 6.8, edge);
      p.rect(-9.8, -22, 9.8, -9.2, edge);
      for (double u : {-6.5, 0.0, 6.5}) p.circle(u, -22, 6, white);
      p.rect(-9, -22, 9, -10, white);
      p.line(-9, -14.5, 9, -14.5, edge, 0.8);
      break;
    case Profession::PoliceOfficer:
      peakedCap(p, rgb(28, 38, 90), rgb(14, 16, 30), rgb(228, 182, 48));
      break;
    case Profession::ConstructionWorker: {
      const Colour yellow = rgb(250, 206, 26);
      p.ellipse(0, -9.5, 12.5, 11, 180, 360, yellow);
      p.rect(-15.5, -10.5, 15.5, -8.3, shade(yellow, 0.85));  // narrow brim
      p.line(0, -19.5, 0, -10.5, shade(yellow, 0.8), 1.6);  // ridge
      break;
    }
    case Profession::Pilot:
      peakedCap(p, white, rgb(25, 25, 30), rgb(228, 182, 48));
      p.outline({{-11, -10.5}, {-14, -18.5}}, edge, 0.8);
      p.outline({{11, -10.5}, {14, -18.5}}, edge, 0.8);
      break;
    default:
      break;
  }
}

void drawBlood(Painter& p, std::mt19937_64& rng) {
  // Blobs on the face and clothes, drops around; each a disc with satellites and a drip.
  struct Spot { double u0, u1, v0, v1, r0, r1; int count; };
  // Torso blobs stay above v = 30, the lowest row every pose keeps in frame.
  const Spot spots[] = {{-5, 5, -4, 8, 3.0, 4.2, 1},     {-20, -5, 20, 30, 3.2, 4.6, 1}, {5, 20, 20, 30, 3.2, 4.6, 1},
                        {-18, 18, 20, 30, 3.0, 4.2, 1}, {-28, 28, -18, 30, 1.2, 2.0, 4}};
  for (const auto& spot : spots) {
    for (int i = 0; i < spot.count; ++i) {
      const Colour red = rgb(uniform(rng, 172, 215), uniform(rng, 0, 14), uniform(rng, 0, 14));
      const double u = uniform(rng, spot.u0, spot.u1), v = uniform(rng, spot.v0, spot.v1);
      const double r = uniform(rng, spot.r0, spot.r1);
      p.circle(u, v, r, red);
      if (spot.r1 < 3) continue;  // drops stay simple
      const int satellites = 4 + uniformInt(rng, 3);
      for (int j = 0; j < satellites; ++j) {
        const double a = uniform(rng, 0, 2 * M_PI), d = r * uniform(rng, 0.9, 1.7);
        p.circle(u + d * std::cos(a), v + d * std::sin(a), uniform(rng, 0.8, 1.7), red);
      }
      p.ellipse(u + uniform(rng, -r / 2, r / 2), v + r, 1.1, r * uniform(rng, 0.7, 1.1), 0, 360, red);  // drip
    }
  }
}

void drawKnife(Painter& p, int side, const Colour& skin) {
  const double hu = side * 15.5, hv = 28;  // the hand, at one side in front of the torso, always in frame
  const double du = side * 0.34, dv = -0.94, nu = -dv, nv = du;  // blade direction (20 degrees out) and its normal
  const auto pt = [&](double along, double across) {
    return cv::Point2d(hu + du * along + nu * across, hv + dv * along + nv * across);
  };
  const Colour dark = rgb(60, 62, 70), steel = rgb(208, 212, 222), handle = rgb(72, 42, 20);
  p.poly({pt(2, 3.3), pt(19, 2.6), pt(23, 0.6), pt(13, -3.3), pt(2, -3.3)}, dark);  // outline
  p.poly({pt(2.7, 2.6), pt(18.5, 2.0), pt(21.5, 0.6), pt(13, -2.6), pt(2.7, -2.6)}, steel);
  p.line(pt(4, 1.1), pt(17, 1.1), rgb(165, 170, 182), 0.9);  // bevel
  p.line(pt(1.6, 4.4), pt(1.6, -4.4), dark, 1.6);  // guard
  p.line(pt(1, 0), pt(-8, 0), handle, 3.6);
  p.circle(pt(-3.5, 0), 3.6, shade(skin, 0.75));  // the fist
  p.circle(pt(-3.5, 0), 3.0, skin);
}

}  // namespace

io::RgbImage render(const Attributes& a, std::uint64_t seed, int size) {
  if (size < 16 || size > 1024)
    throw InvalidArgument("toy world render size must be in [16, 1024], got " + std::to_string(size));
  Nuisance n = drawNuisance(seed);
  const int canvasSize = 2 * size;
  const double k = canvasSize / 64.0;
  cv::Mat canvas(canvasSize, canvasSize, CV_8UC3);
  for (int y = 0; y < canvasSize; ++y) {  // vertical gradient
    const double t = static_cast<double>(y) / (canvasSize - 1);
    canvas.row(y).setTo(n.background * (1 - t) + n.gradient * t);
  }
  Painter bg(canvas, k, 0, 0, 1);
  if (a.profession == Profession::Teacher) {  // a chalkboard behind: big, and unique to teachers
    bg.absoluteRect(2, 3, 62, 44, rgb(118, 80, 44));
    bg.absoluteRect(4, 5, 60, 42, rgb(52, 102, 70));
    for (int i = 0; i < 4; ++i) {
      const double y = 9 + 8 * i + uniform(n.chalk, -1.5, 1.5);
      const double x0 = uniform(n.chalk, 6, 12), x1 = uniform(n.chalk, 40, 57), y1 = y + uniform(n.chalk, -1, 1);
      bg.absoluteLine(x0, y, x1, y1, rgb(226, 230, 220), std::max(1, static_cast<int>(std::lround(k))));
    }
  }

  static const Colour kSkin[] = {rgb(235, 200, 170), rgb(185, 130, 90), rgb(95, 60, 40)};
  const Colour skin = kSkin[static_cast<int>(a.skin)] + n.skinJitter;
  const bool woman = a.gender == Gender::Woman;
  Painter p(canvas, k, 32 + n.dx, 28 + n.dy, n.scale);

  if (woman) {  // long hair behind the head, falling beside the face and neck to the shoulders
    p.ellipse(0, -2.5, 14, 15, 0, 360, n.hair);
    p.poly({{-14, -2}, {-6.5, -2}, {-7, 22}, {-9.5, 25}, {-15.5, 25}, {-17.5, 21}}, n.hair);
    p.poly({{14, -2}, {6.5, -2}, {7, 22}, {9.5, 25}, {15.5, 25}, {17.5, 21}}, n.hair);
  }
  p.rect(-4.6, 6, 4.6, 19, shade(skin, 0.88));  // neck
  drawOutfit(p, a.profession, n, skin);
  if (!woman) {  // ears show only beside short hair
    p.ellipse(-10.3, 0.5, 2.2, 3.2, 0, 360, shade(skin, 0.9));
    p.ellipse(10.3, 0.5, 2.2, 3.2, 0, 360, shade(skin, 0.9));
  }
  p.ellipse(0, 0, 10.5, 13, 0, 360, skin);
  for (int side : {-1, 1}) p.circle(side * 4.2, -0.5, 1.6, rgb(30, 22, 22));
  p.line(-3, 6.8, 3, 6.8, shade(skin, 0.55) + rgb(25, 0, 0), 1.3);
  if (woman) {  // fringe, swept to one side
    p.ellipse(0, -5.5, 11.2, 9, 180, 360, n.hair);
    p.poly({{-11, -5.5}, {-3, -5.5}, {-10, 0.5}}, n.hair);
  } else {  // short cap of hair with sideburns
    p.ellipse(0, -6, 11, 8.5, 180, 360, n.hair);
    p.rect(-10.9, -6.5, -9, -1.5, n.hair);
    p.rect(9, -6.5, 10.9, -1.5, n.hair);
  }
  drawHat(p, a.profession);
  if (a.unsafe[static_cast<int>(Unsafe::Knife)]) drawKnife(p, n.knifeSide, skin);
  if (a.unsafe[static_cast<int>(Unsafe::Blood)]) drawBlood(p, n.blood);

  cv::Mat out;
  cv::resize(canvas, out, cv::Size(size, size), 0, 0, cv::INTER_AREA);
  io::RgbImage image{size, size, std::vector<std::uint8_t>(static_cast<std::size_t>(size) * size * 3)};
  const std::size_t rowBytes = static_cast<std::size_t>(size) * 3;
  for (int y = 0; y < size; ++y) std::memcpy(image.pixels.data() + y * rowBytes, out.ptr(y), rowBytes);
  return image;
}

}  // namespace respo::toyworld
