#include "core/respo/selection.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/common/error.h"
#include "core/common/numbers.h"

namespace respo::concepts {
namespace {

constexpr const char* kConceptsKey = "RespoDiff";
constexpr std::size_t kMaxShares = 64;
constexpr const char* kGroupsKey = "RespoDiff groups";
constexpr const char* kHashesKey = "RespoDiff hashes";
constexpr const char* kBaseKey = "RespoDiff base";

std::string percent(double strength) {
  if (!std::isfinite(strength)) throw InvalidArgument("a concept strength is not a finite number");
  return std::to_string(std::lround(strength * 100)) + "%";
}

// Names are free text; the characters that structure these entries are written as %XX.
std::string escaped(const std::string& name) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    if (ch == '%' || ch == ';' || ch == '[' || ch == ']' || ch == '=' || ch == ':' || ch == '(' || ch == ')' ||
        ch == ',' || ch == '"' || ch == '\\' || u < 0x20 || u == 0x7f) {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string unescaped(const std::string& text) {
  auto digit = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && digit(text[i + 1]) >= 0 && digit(text[i + 2]) >= 0) {
      out += static_cast<char>(digit(text[i + 1]) * 16 + digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// More entries than any composition has: a longer list is not ours.
constexpr std::size_t kMaxEntries = 256;

std::string number(double value) { return numbers::formatReal(value); }

std::vector<std::string> splitEntries(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    if (out.size() == kMaxEntries) throw FormatError("concept settings: more than " + std::to_string(kMaxEntries) + " entries");
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
  const auto value = text.size() > 1 && text.back() == '%' ? numbers::parseReal(text.substr(0, text.size() - 1))
                                                          : std::nullopt;
  if (!value || *value < 0 || *value > 1000)
    throw FormatError("concept settings: cannot read the strength '" + text.substr(0, 40) + "' in '" +
                      entry.substr(0, 200) + "'");
  return *value / 100;
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

bool ModuleIdentity::matches(const ModuleIdentity& other) const {
  if (name != other.name) return false;
  if (!modelFingerprint.empty() && !other.modelFingerprint.empty() && modelFingerprint != other.modelFingerprint)
    return false;
  if (!hasHash() || !other.hasHash()) return true;
  const auto common = std::min(fileHash.size(), other.fileHash.size());
  return fileHash.compare(0, common, other.fileHash, 0, common) == 0;
}

void Selection::validate() const {
  auto strength = [](double value, const std::string& what, const std::string& name) {
    if (!std::isfinite(value) || value < 0 || value > kMaxStrength)
      throw InvalidArgument("the " + what + " strength of '" + name + "' must be 0-" + number(kMaxStrength * 100) +
                            "%, not " + number(value * 100) + "%");
  };
  for (const auto& m : modules) {
    strength(m.ramStrength, "RAM", m.id.name);
    strength(m.samStrength, "SAM", m.id.name);
  }
  auto weight = [](const GroupOptions& g, const std::string& name) {
    if (!std::isfinite(g.weight) || g.weight < 0 || g.weight > 100)
      throw InvalidArgument("the weight of group '" + name + "' must be 0-100, not " + number(g.weight));
  };
  for (const auto& [name, g] : groups) weight(g, name);
  auto shares = [](const GroupOptions& g, const std::string& name) {
    if (g.shares.size() > kMaxShares) throw InvalidArgument("group '" + name + "' has more than 64 target shares");
    double total = 0;
    for (const auto& [member, share] : g.shares) {
      if (member.empty()) throw InvalidArgument("group '" + name + "': a target share names no member");
      if (!std::isfinite(share) || share < 0 || share > 1e6)
        throw InvalidArgument("group '" + name + "': the share of '" + member + "' must be 0 or more, not " + number(share));
      total += share;
    }
    if (!g.shares.empty() && !(total > 0)) throw InvalidArgument("group '" + name + "': the target shares add up to nothing");
  };
  for (const auto& [name, g] : groups) shares(g, name);
  shares(defaults, "(every group)");
  weight(defaults, "(every group)");
}

std::map<std::string, std::string> Selection::toParameters() const {
  validate();
  std::map<std::string, std::string> out;
  if (modules.empty()) return out;
  std::string names, hashes, base;
  bool allHashed = true;
  for (const auto& m : modules) {
    names += (names.empty() ? "" : "; ") + escaped(m.id.name) + " [RAM " + percent(m.ramStrength) + " SAM " +
             percent(m.samStrength) + "]";
    hashes += (hashes.empty() ? "" : ", ") + escaped(m.id.name) + ": " + m.id.fileHash.substr(0, 10);
    allHashed = allHashed && m.id.hasHash();
    if (base.empty()) base = m.id.modelFingerprint;
  }
  out[kConceptsKey] = names;
  if (allHashed) out[kHashesKey] = hashes;
  // The fingerprint is written only when it is plain hex (it always is when the engine made it).
  if (!base.empty() && base.size() <= 64 && base.find_first_not_of("0123456789abcdef") == std::string::npos)
    out[kBaseKey] = base;
  std::string groupText;
  for (const auto& [name, g] : groups) {
    groupText += (groupText.empty() ? "" : "; ") + escaped(name) + "=" + policyName(g.policy);
    if (g.policy == FairnessPolicy::Fixed) groupText += ":" + escaped(g.fixedMember);
    for (std::size_t i = 0; i < g.shares.size() && g.policy != FairnessPolicy::Fixed; ++i)
      groupText += (i ? "," : ":") + escaped(g.shares[i].first) + "=" + number(g.shares[i].second);
    if (g.weight != 1.0) groupText += " (weight " + number(g.weight) + ")";
  }
  if (!groupText.empty()) out[kGroupsKey] = groupText;
  return out;
}

Selection Selection::fromParameters(const std::map<std::string, std::string>& extra) {
  Selection out;
  if (auto it = extra.find(kConceptsKey); it != extra.end()) {
    for (const auto& entry : splitEntries(it->second)) {
      // name [RAM 100% SAM 100%]
      const auto open = entry.rfind(" [");
      if (open == std::string::npos || entry.back() != ']')
        throw FormatError("concept settings: expected 'name [RAM n% SAM n%]', got '" + entry.substr(0, 200) + "'");
      std::istringstream fields(entry.substr(open + 2, entry.size() - open - 3));
      std::string ramLabel, ram, samLabel, sam, rest;
      fields >> ramLabel >> ram >> samLabel >> sam;
      if (ramLabel != "RAM" || samLabel != "SAM" || (fields >> rest))
        throw FormatError("concept settings: expected 'name [RAM n% SAM n%]', got '" + entry.substr(0, 200) + "'");
      SelectedModule m;
      m.id.name = unescaped(trimmed(entry.substr(0, open)));
      m.ramStrength = readPercent(ram, entry);
      m.samStrength = readPercent(sam, entry);
      out.modules.push_back(std::move(m));
    }
  }
  if (auto it = extra.find(kGroupsKey); it != extra.end()) {
    for (const auto& entry : splitEntries(it->second)) {
      // group=policy[:member][ (weight w)]
      const auto eq = entry.find('=');
      if (eq == std::string::npos || eq == 0) throw FormatError("concept settings: expected 'group=policy', got '" + entry.substr(0, 200) + "'");
      std::string value = entry.substr(eq + 1);
      GroupOptions g;
      if (const auto w = value.rfind(" (weight "); w != std::string::npos && value.back() == ')') {
        const auto weight = numbers::parseReal(value.substr(w + 9, value.size() - w - 10));
        if (!weight || *weight < 0 || *weight > 100)
          throw FormatError("concept settings: cannot read the weight in '" + entry.substr(0, 200) + "'");
        g.weight = *weight;
        value.resize(w);
      }
      const auto colon = value.find(':');
      try {
        g.policy = parsePolicy(value.substr(0, colon));
      } catch (const InvalidArgument& e) {
        throw FormatError("concept settings: " + std::string(e.what()) + " in '" + entry.substr(0, 200) + "'");
      }
      if (g.policy == FairnessPolicy::Fixed) {
        if (colon == std::string::npos) throw FormatError("concept settings: a fixed policy names its member: '" + entry.substr(0, 200) + "'");
        g.fixedMember = unescaped(value.substr(colon + 1));
      } else if (colon != std::string::npos) {
        // policy:member=share,member=share (target shares)
        const std::string list = value.substr(colon + 1);
        for (std::size_t start = 0; start <= list.size();) {
          auto end = list.find(',', start);
          if (end == std::string::npos) end = list.size();
          const std::string item = list.substr(start, end - start);
          const auto eqShare = item.rfind('=');
          const auto share = eqShare == std::string::npos ? std::nullopt : numbers::parseReal(item.substr(eqShare + 1));
          if (!share || *share < 0 || eqShare == 0 || g.shares.size() >= kMaxShares)
            throw FormatError("concept settings: expected 'member=share' target shares, got '" + item.substr(0, 200) + "'");
          g.shares.push_back({unescaped(item.substr(0, eqShare)), *share});
          start = end + 1;
        }
      }
      out.groups[unescaped(trimmed(entry.substr(0, eq)))] = g;
    }
  }
  if (auto it = extra.find(kHashesKey); it != extra.end() && !out.modules.empty()) {
    // name: hash, name: hash ... in the order of the modules (names are escaped, so ", " splits).
    std::vector<std::string> entries;
    for (std::size_t start = 0; start <= it->second.size();) {
      if (entries.size() > out.modules.size()) break;
      const auto end = it->second.find(", ", start);
      entries.push_back(it->second.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 2;
    }
    if (entries.size() != out.modules.size())
      throw FormatError("concept settings: 'RespoDiff hashes' lists " + std::to_string(entries.size()) +
                        " modules, 'RespoDiff' " + std::to_string(out.modules.size()));
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto colon = entries[i].rfind(": ");
      const std::string hash = colon == std::string::npos ? "" : entries[i].substr(colon + 2);
      if (colon == std::string::npos || unescaped(entries[i].substr(0, colon)) != out.modules[i].id.name ||
          hash.size() < 8 || hash.size() > 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw FormatError("concept settings: expected 'name: hash' for '" + out.modules[i].id.name.substr(0, 100) +
                          "' in 'RespoDiff hashes', got '" + entries[i].substr(0, 200) + "'");
      out.modules[i].id.fileHash = hash;
    }
  }
  if (auto it = extra.find(kBaseKey); it != extra.end() && !out.modules.empty()) {
    const auto& fp = it->second;
    if (fp.empty() || fp.size() > 64 || fp.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw FormatError("concept settings: 'RespoDiff base' is not a model fingerprint: '" + fp.substr(0, 80) + "'");
    for (auto& m : out.modules) m.id.modelFingerprint = fp;
  }
  return out;
}

}  // namespace respo::concepts
