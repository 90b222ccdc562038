#include "core/respo/composition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <torch/torch.h>

#include "core/common/error.h"

namespace respo::concepts {
namespace {

std::string shapeText(const std::vector<int64_t>& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

torch::Tensor contribution(const ConceptUse& use, const std::vector<int64_t>& hShape) {
  const auto& m = *use.module;
  if (m.hShape() != hShape)
    throw InvalidArgument("concept '" + m.settings.name + "' was trained for a " + shapeText(m.hShape()) +
                          " bottleneck, but this model at this image size has " + shapeText(hShape) +
                          " (train it at this resolution or change the size)");
  return (use.ramStrength * m.ram + use.samStrength * m.sam).squeeze(0);
}

// The group's target shares per member (normalised), or empty for uniform. Throws InvalidArgument for
// a share naming no member of the group.
std::vector<double> memberShares(const FairnessGroup& group) {
  if (group.shares.empty()) return {};
  std::vector<double> out(group.members.size(), 0.0);
  double total = 0;
  for (const auto& [name, share] : group.shares) {
    const auto it = std::find_if(group.members.begin(), group.members.end(),
                                 [&](const ConceptUse& u) { return u.module->settings.name == name; });
    if (it == group.members.end())
      throw InvalidArgument("group '" + group.name + "' has no member '" + name + "' (its target shares name it)");
    if (!std::isfinite(share) || share < 0) throw InvalidArgument("group '" + group.name + "': a share must be 0 or more");
    out[static_cast<std::size_t>(it - group.members.begin())] += share;
    total += share;
  }
  if (!(total > 0)) throw InvalidArgument("group '" + group.name + "': the target shares add up to nothing");
  for (auto& x : out) x /= total;
  return out;
}

// Exact counts for a batch (largest remainder; equal remainders in a seeded order), shuffled.
std::vector<int> apportion(const std::vector<double>& shares, int batch, std::mt19937_64& rng) {
  const int n = static_cast<int>(shares.size());
  std::vector<int> counts(n);
  std::vector<std::pair<double, int>> remainders;
  int given = 0;
  for (int i = 0; i < n; ++i) {
    const double quota = shares[i] * batch;
    counts[i] = static_cast<int>(std::floor(quota));
    given += counts[i];
    remainders.push_back({quota - counts[i], i});
  }
  std::shuffle(remainders.begin(), remainders.end(), rng);
  std::stable_sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (int k = 0; given < batch && k < n; ++k, ++given) ++counts[remainders[k].second];
  std::vector<int> chosen;
  for (int i = 0; i < n; ++i) chosen.insert(chosen.end(), counts[i], i);
  std::shuffle(chosen.begin(), chosen.end(), rng);
  return chosen;
}

}  // namespace

Composition groupConcepts(const std::vector<ConceptUse>& uses, std::uint64_t seed,
                          const std::map<std::string, GroupOptions>& groups, const GroupOptions& defaults) {
  Composition composition;
  composition.seed = seed;
  for (const auto& use : uses) {
    if (use.module->settings.kind == ConceptKind::Safety) {
      composition.safety.push_back(use);
      continue;
    }
    const auto& name = use.module->settings.group;
    auto group = std::find_if(composition.fairness.begin(), composition.fairness.end(),
                              [&](const FairnessGroup& g) { return g.name == name; });
    if (group == composition.fairness.end()) {
      const auto found = groups.find(name);
      const GroupOptions& options = found == groups.end() ? defaults : found->second;
      composition.fairness.push_back({name, {}, options.policy, options.fixedMember, options.weight, options.shares});
      group = composition.fairness.end() - 1;
    }
    group->members.push_back(use);
  }
  return composition;
}

ComposedDeltas composeDeltas(const Composition& c, int batch, const std::vector<int64_t>& hShape) {
  torch::NoGradGuard noGrad;
  ComposedDeltas out;
  out.perImage = torch::zeros({batch, hShape[0], hShape[1], hShape[2]});
  out.members.assign(batch, {});
  std::mt19937_64 rng(c.seed);
  for (const auto& use : c.safety) out.perImage += contribution(use, hShape).unsqueeze(0);
  for (const auto& group : c.fairness) {
    if (group.members.empty()) continue;
    const int n = static_cast<int>(group.members.size());
    std::vector<int> chosen(batch);
    const auto shares = memberShares(group);
    if (!shares.empty() && group.policy != FairnessPolicy::Fixed) {
      if (group.policy == FairnessPolicy::RandomPerImage) {
        std::discrete_distribution<int> pick(shares.begin(), shares.end());
        for (auto& x : chosen) x = pick(rng);
      } else {
        chosen = apportion(shares, batch, rng);
      }
    } else switch (group.policy) {
      case FairnessPolicy::RandomPerImage: {
        std::uniform_int_distribution<int> pick(0, n - 1);
        for (auto& x : chosen) x = pick(rng);
        break;
      }
      case FairnessPolicy::BalancedBatch: {
        // Exactly even counts (the remainder spread over distinct members), in a shuffled order.
        for (int i = 0; i < batch; ++i) chosen[i] = i % n;
        std::vector<int> order(n);
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        for (auto& x : chosen) x = order[x];
        std::shuffle(chosen.begin(), chosen.end(), rng);
        break;
      }
      case FairnessPolicy::Fixed: {
        int index = -1;
        for (int i = 0; i < n; ++i)
          if (group.members[i].module->settings.name == group.fixedMember) index = i;
        if (index < 0)
          throw InvalidArgument("group '" + group.name + "' has no member '" + group.fixedMember + "'");
        std::fill(chosen.begin(), chosen.end(), index);
        break;
      }
    }
    std::vector<torch::Tensor> deltas;
    for (const auto& member : group.members) deltas.push_back(contribution(member, hShape));
    for (int b = 0; b < batch; ++b) {
      out.perImage[b] += group.weight * deltas[chosen[b]];
      out.members[b].push_back(group.members[chosen[b]].module->settings.name);
    }
  }
  return out;
}

models::BottleneckHook makeConceptHook(const torch::Tensor& perImage) {
  return [perImage, cached = torch::Tensor(), cachedBranches = std::vector<models::GuidanceBranch>()](
             const torch::Tensor& h, const models::BottleneckContext& context) mutable {
    // Row r of h gets the delta of the image it belongs to, if it is a conditional row. (The rows'
    // branches are part of the key: guided runs may pass the two branches separately.)
    if (!cached.defined() || cached.size(0) != h.size(0) || cached.device() != h.device() ||
        cachedBranches != context.branches) {
      cachedBranches = context.branches;
      std::vector<int64_t> source;
      std::vector<float> mask;
      int64_t image = 0;
      for (int64_t r = 0; r < h.size(0); ++r) {
        const bool conditional = context.branches.empty() ||
                                 context.branches[static_cast<std::size_t>(r)] == models::GuidanceBranch::Conditional;
        source.push_back(conditional ? image % perImage.size(0) : 0);
        mask.push_back(conditional ? 1.0f : 0.0f);
        if (conditional) ++image;
      }
      auto rows = perImage.index_select(0, torch::tensor(source, torch::kLong));
      cached = (rows * torch::tensor(mask).view({-1, 1, 1, 1})).to(h.device(), h.scalar_type());
    }
    return h + cached;
  };
}

Selection describeComposition(const Composition& composition) {
  Selection out;
  auto add = [&](const ConceptUse& m) { out.modules.push_back({m.module->identity(), {}, m.ramStrength, m.samStrength}); };
  for (const auto& g : composition.fairness) {
    for (const auto& m : g.members) add(m);
    out.groups[g.name] = {g.policy, g.fixedMember, g.weight};
  }
  for (const auto& m : composition.safety) add(m);
  return out;
}

models::BottleneckHook conceptHook(const Composition& composition, std::uint64_t seed, int batch,
                                   const std::vector<int64_t>& hShape, std::vector<std::vector<std::string>>* members) {
  if (composition.empty()) {
    if (members) members->clear();
    return {};
  }
  auto drawn = composition;
  drawn.seed = seed;
  auto deltas = composeDeltas(drawn, batch, hShape);
  if (members) *members = std::move(deltas.members);
  return makeConceptHook(deltas.perImage);
}

}  // namespace respo::concepts
