#include "core/respo/concept_parameters.h"

#include <cmath>
#include <sstream>

#include "core/common/error.h"

namespace respo::concepts {
namespace {

constexpr const char* kConceptsKey = "RespoDiff";
constexpr const char* kGroupsKey = "RespoDiff groups";

std::string percent(double strength) { return std::to_string(std::lround(strength * 100)) + "%"; }

std::string number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::vector<std::string> splitEntries(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = text.find("; ", start);
    out.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 2;
  }
  return out;
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// "100%" -> 1.0
double readPercent(const std::string& text, const std::string& entry) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || text.substr(used) != "%" || value < 0 || value > 1000)
    throw FormatError("concept settings: cannot read the strength '" + text + "' in '" + entry + "'");
  return value / 100;
}

}  // namespace

FairnessPolicy parsePolicy(const std::string& text) {
  if (text == "random") return FairnessPolicy::RandomPerImage;
  if (text == "balanced") return FairnessPolicy::BalancedBatch;
  if (text == "fixed") return FairnessPolicy::Fixed;
  throw InvalidArgument("unknown fairness policy '" + text + "' (random, balanced or fixed)");
}

const char* policyName(FairnessPolicy policy) {
  switch (policy) {
    case FairnessPolicy::RandomPerImage: return "random";
    case FairnessPolicy::BalancedBatch: return "balanced";
    case FairnessPolicy::Fixed: return "fixed";
  }
  return "random";
}

std::map<std::string, std::string> formatConceptParameters(const ConceptParameters& parameters) {
  std::map<std::string, std::string> out;
  if (parameters.concepts.empty()) return out;
  std::string names;
  for (const auto& c : parameters.concepts)
    names += (names.empty() ? "" : "; ") + c.name + " [RAM " + percent(c.ramStrength) + " SAM " + percent(c.samStrength) + "]";
  out[kConceptsKey] = names;
  std::string groups;
  for (const auto& [name, g] : parameters.groups) {
    groups += (groups.empty() ? "" : "; ") + name + "=" + policyName(g.policy);
    if (g.policy == FairnessPolicy::Fixed) groups += ":" + g.fixedMember;
    if (g.weight != 1.0) groups += " (weight " + number(g.weight) + ")";
  }
  if (!groups.empty()) out[kGroupsKey] = groups;
  return out;
}

ConceptParameters parseConceptParameters(const std::map<std::string, std::string>& extra) {
  ConceptParameters out;
  if (auto it = extra.find(kConceptsKey); it != extra.end()) {
    for (const auto& entry : splitEntries(it->second)) {
      // name [RAM 100% SAM 100%]
      const auto open = entry.rfind(" [");
      if (open == std::string::npos || entry.back() != ']')
        throw FormatError("concept settings: expected 'name [RAM n% SAM n%]', got '" + entry + "'");
      std::istringstream fields(entry.substr(open + 2, entry.size() - open - 3));
      std::string ramLabel, ram, samLabel, sam, rest;
      fields >> ramLabel >> ram >> samLabel >> sam;
      if (ramLabel != "RAM" || samLabel != "SAM" || (fields >> rest))
        throw FormatError("concept settings: expected 'name [RAM n% SAM n%]', got '" + entry + "'");
      out.concepts.push_back({trimmed(entry.substr(0, open)), readPercent(ram, entry), readPercent(sam, entry)});
    }
  }
  if (auto it = extra.find(kGroupsKey); it != extra.end()) {
    for (const auto& entry : splitEntries(it->second)) {
      // group=policy[:member][ (weight w)]
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) throw FormatError("concept settings: expected 'group=policy', got '" + entry + "'");
      std::string value = entry.substr(eq + 1);
      GroupOptions g;
      if (const auto w = value.rfind(" (weight "); w != std::string::npos && value.back() == ')') {
        try {
          g.weight = std::stod(value.substr(w + 9, value.size() - w - 10));
        } catch (const std::exception&) {
          throw FormatError("concept settings: cannot read the weight in '" + entry + "'");
        }
        value.resize(w);
      }
      const auto colon = value.find(':');
      try {
        g.policy = parsePolicy(value.substr(0, colon));
      } catch (const InvalidArgument& e) {
        throw FormatError("concept settings: " + std::string(e.what()) + " in '" + entry + "'");
      }
      if (g.policy == FairnessPolicy::Fixed) {
        if (colon == std::string::npos) throw FormatError("concept settings: a fixed policy names its member: '" + entry + "'");
        g.fixedMember = value.substr(colon + 1);
      }
      out.groups[trimmed(entry.substr(0, eq))] = g;
    }
  }
  return out;
}

}  // namespace respo::concepts
