#include "core/models/op_profile.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <map>
#include <set>
#include <unordered_map>

#include <torch/csrc/autograd/profiler_kineto.h>
#include <torch/torch.h>

namespace respo::models::profile {
namespace {

namespace kineto = torch::autograd::profiler;
namespace impl = torch::profiler::impl;

bool has(const std::string& text, const char* part) { return text.find(part) != std::string::npos; }

// Operators whose FLOPs LibTorch's profiler counts and that are matrix-class work. (It also counts
// elementwise mul and add, which a GEMM peak does not bound.)
const std::set<std::string>& countedByProfiler() {
  static const std::set<std::string> names{"aten::conv2d", "aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"};
  return names;
}

bool isFusedAttention(const std::string& op) {
  return op == "aten::_scaled_dot_product_flash_attention_for_cpu" || op == "aten::_scaled_dot_product_flash_attention" ||
         op == "aten::_scaled_dot_product_efficient_attention" || op == "aten::_scaled_dot_product_cudnn_attention";
}

double medianOf(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

// Median rate (FLOP/s) of `run`, doing `flops` per call: one warm-up, then at least 3 calls and about `seconds`.
double rate(const std::function<void()>& run, double flops, double seconds) {
  run();
  std::vector<double> rates;
  const auto begin = std::chrono::steady_clock::now();
  while (rates.size() < 3 || std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count() < seconds) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rates.push_back(flops / std::max(elapsed, 1e-9));
    if (rates.size() >= 1000) break;
  }
  return medianOf(rates);
}

}  // namespace

std::string categoryOf(const std::string& op) {
  const std::string n = op.rfind("aten::", 0) == 0 ? op.substr(6) : op;
  if (has(n, "conv")) return "convolution";
  if (has(n, "scaled_dot_product") || has(n, "flash_attention") || has(n, "softmax") || n == "bmm" || n == "baddbmm")
    return "attention";
  if (n == "addmm" || n == "mm" || n == "matmul" || n == "linear" || n == "t") return "linear";
  if (has(n, "group_norm")) return "GroupNorm";
  if (has(n, "layer_norm")) return "LayerNorm";
  if (has(n, "silu") || has(n, "gelu") || has(n, "sigmoid") || has(n, "tanh") || has(n, "relu")) return "activation";
  static const std::set<std::string> copies{"copy_", "clone", "contiguous", "cat", "_to_copy", "to", "stack",
                                            "empty", "empty_like", "empty_strided", "zeros", "zeros_like", "resize_",
                                            "fill_", "zero_", "repeat"};
  if (copies.count(n)) return "layout copies";
  static const std::set<std::string> views{"view", "reshape", "_reshape_alias", "transpose", "permute", "unsqueeze",
                                           "squeeze", "slice", "select", "chunk", "split", "expand", "as_strided",
                                           "_unsafe_view", "narrow", "flatten", "unflatten", "alias", "detach", "lift_fresh"};
  if (views.count(n)) return "views and dispatch";
  static const std::set<std::string> elementwise{"add", "add_", "mul", "mul_", "sub", "sub_", "div", "div_", "exp",
                                                 "sin", "cos", "neg", "where", "clamp", "rsub", "pow", "sqrt", "rsqrt",
                                                 "arange", "full", "abs"};
  if (elementwise.count(n)) return "elementwise";
  return "other";
}

double attentionFlops(const std::vector<std::vector<int64_t>>& shapes) {
  if (shapes.size() < 2 || shapes[0].size() != 4 || shapes[1].size() != 4) return 0;
  const auto& q = shapes[0];
  const auto& k = shapes[1];
  return 4.0 * static_cast<double>(q[0]) * static_cast<double>(q[1]) * static_cast<double>(q[2]) *
         static_cast<double>(k[2]) * static_cast<double>(q[3]);
}

CallProfile profileCall(const std::function<void()>& call) {
  const impl::ProfilerConfig config(impl::ProfilerState::KINETO, /*report_input_shapes=*/true,
                                    /*profile_memory=*/false, /*with_stack=*/false, /*with_flops=*/true);
  const std::set<impl::ActivityType> activities{impl::ActivityType::CPU};
  // Kineto logs an error when it finds no GPU; on a CPU-only run that is noise (unless the user asked).
  setenv("KINETO_LOG_LEVEL", "5", 0);
  kineto::prepareProfiler(config, activities);
  kineto::enableProfiler(config, activities);
  const auto start = std::chrono::steady_clock::now();
  try {
    call();
  } catch (...) {
    kineto::disableProfiler();
    throw;
  }
  CallProfile out;
  out.profiledSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto result = kineto::disableProfiler();

  struct Event {
    std::string name;
    uint64_t start = 0, end = 0, children = 0;
    double flops = 0;
  };
  std::unordered_map<uint64_t, std::vector<Event>> byThread;
  for (const auto& e : result->events()) {
    if (e.deviceType() != c10::DeviceType::CPU || e.isAsync() || e.durationNs() == 0) continue;
    Event ev{e.name(), e.startNs(), e.startNs() + e.durationNs(), 0, 0};
    if (countedByProfiler().count(ev.name)) ev.flops = static_cast<double>(e.flops());
    if (isFusedAttention(ev.name) && e.hasShapes()) {
      const auto shapes = e.shapes();
      ev.flops = attentionFlops(std::vector<std::vector<int64_t>>(shapes.begin(), shapes.end()));
    }
    byThread[e.startThreadId()].push_back(std::move(ev));
  }
  std::map<std::string, Category> categories;
  std::map<std::string, Op> ops;
  for (auto& [thread, events] : byThread) {
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return a.start != b.start ? a.start < b.start : a.end > b.end;  // a parent before its first child
    });
    std::vector<std::size_t> stack;
    for (std::size_t i = 0; i < events.size(); ++i) {
      while (!stack.empty() && events[stack.back()].end <= events[i].start) stack.pop_back();
      if (!stack.empty()) events[stack.back()].children += events[i].end - events[i].start;
      stack.push_back(i);
    }
    for (const auto& ev : events) {
      const uint64_t total = ev.end - ev.start;
      const double self = static_cast<double>(total > ev.children ? total - ev.children : 0) * 1e-9;
      const auto name = categoryOf(ev.name);
      auto& category = categories[name];
      category.name = name;
      category.selfSeconds += self;
      category.flops += ev.flops;
      ++category.calls;
      auto& op = ops[ev.name];
      op.name = ev.name;
      op.selfSeconds += self;
      ++op.calls;
      out.flops += ev.flops;
    }
  }
  for (auto& [name, category] : categories) out.categories.push_back(category);
  for (auto& [name, op] : ops) out.ops.push_back(op);
  std::sort(out.categories.begin(), out.categories.end(),
            [](const Category& a, const Category& b) { return a.selfSeconds > b.selfSeconds; });
  std::sort(out.ops.begin(), out.ops.end(), [](const Op& a, const Op& b) { return a.selfSeconds > b.selfSeconds; });
  return out;
}

Peak measurePeak(double secondsPerKernel) {
  torch::InferenceMode guard;
  Peak peak;
  auto generator = at::detail::createCPUGenerator(1);
  for (const int64_t n : {512, 1024, 2048}) {
    const auto a = torch::randn({n, n}, generator), b = torch::randn({n, n}, generator);
    auto c = torch::empty({n, n});
    const double r = rate([&] { at::mm_out(c, a, b); }, 2.0 * static_cast<double>(n) * n * n, secondsPerKernel);
    if (r > peak.gemmFlopsPerSecond) peak.gemmFlopsPerSecond = r, peak.gemmSize = n;
  }
  const auto x = torch::randn({2, 320, 64, 64}, generator), w = torch::randn({320, 320, 3, 3}, generator);
  const double convFlops = 2.0 * 2 * 320 * 64 * 64 * 320 * 9;
  peak.convFlopsPerSecond = rate([&] { (void)torch::conv2d(x, w, {}, 1, 1); }, convFlops, secondsPerKernel);
  return peak;
}

std::string formatProfile(const CallProfile& profile, std::size_t topOps) {
  double total = 0;
  for (const auto& c : profile.categories) total += c.selfSeconds;
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %10s %7s %10s %8s\n", "category", "self (s)", "share", "GFLOP", "GFLOP/s");
  out += line;
  for (const auto& c : profile.categories) {
    std::snprintf(line, sizeof line, "%-20s %10.4f %6.1f%% %10.2f %8.1f\n", c.name.c_str(), c.selfSeconds,
                  total > 0 ? 100 * c.selfSeconds / total : 0.0, c.flops * 1e-9,
                  c.selfSeconds > 0 ? c.flops * 1e-9 / c.selfSeconds : 0.0);
    out += line;
  }
  std::snprintf(line, sizeof line, "%-20s %10.4f %6.1f%% %10.2f %8.1f\n", "total", total, 100.0, profile.flops * 1e-9,
                total > 0 ? profile.flops * 1e-9 / total : 0.0);
  out += line;
  out += "slowest operators (self time):\n";
  for (std::size_t i = 0; i < std::min(topOps, profile.ops.size()); ++i) {
    const auto& op = profile.ops[i];
    std::snprintf(line, sizeof line, "  %-52s %9.4f s %6lld calls\n", op.name.c_str(), op.selfSeconds,
                  static_cast<long long>(op.calls));
    out += line;
  }
  return out;
}

}  // namespace respo::models::profile
