#include "core/respo/audit_card.h"

#include <algorithm>
#include <sstream>

#include "core/common/error.h"
#include "core/common/sha256.h"

namespace respo::report {
namespace {


std::string base64(const std::string& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += kAlphabet[v >> 6 & 63];
    out += kAlphabet[v & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0u);
    out += kAlphabet[v >> 18 & 63];
    out += kAlphabet[v >> 12 & 63];
    out += two ? kAlphabet[v >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::string html(const std::string& text) { return xmlEscape(text); }

// A value and, below it, its interval.
std::string cell(double value, const std::optional<Interval>& interval, int decimals) {
  std::string out = formatFixed(value, decimals);
  if (interval) out += "<br><small>[" + formatFixed(interval->low, decimals) + ", " + formatFixed(interval->high, decimals) + "]</small>";
  return out;
}

void check(const AuditCard& card) {
  if (card.reports.empty()) throw InvalidArgument("an audit card needs at least one method's report");
  if (card.labels.size() != card.reports.size()) throw InvalidArgument("an audit card needs one label per report");
  if (!card.methodDetails.empty() && card.methodDetails.size() != card.reports.size())
    throw InvalidArgument("an audit card needs the details of every method or of none");
  for (const auto& e : card.examples)
    if (e.images.size() != card.reports.size() + 1 || e.prompt >= card.reports.front().settings.prompts.size())
      throw InvalidArgument("an audit card's example rows hold the baseline and every method of a prompt of the run");
}

const MetricSummary* find(const std::vector<MetricSummary>& all, const std::string& name) {
  const auto it = std::find_if(all.begin(), all.end(), [&](const MetricSummary& m) { return m.name == name; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace

std::string weightsHash(const std::filesystem::path& model) {
  namespace fs = std::filesystem;
  if (fs::is_regular_file(model)) return hashing::fileSha256(model);
  std::vector<fs::path> files;
  std::error_code error;
  for (fs::recursive_directory_iterator it(model, fs::directory_options::skip_permission_denied, error), end;
       !error && it != end; it.increment(error)) {
    if (it.depth() > 4) it.disable_recursion_pending();
    if (it->path().extension() == ".safetensors" && it->is_regular_file(error)) files.push_back(it->path());
  }
  if (error) throw IoError(model.string() + ": cannot list the model's files (" + error.message() + ")");
  if (files.empty()) throw InvalidArgument(model.string() + ": holds no .safetensors weights to hash");
  std::sort(files.begin(), files.end());
  hashing::Sha256 h;
  for (const auto& file : files) h.update(fs::relative(file, model).generic_string() + " " + hashing::fileSha256(file) + "\n");
  return h.hexDigest();
}

std::string promptSetHash(const std::vector<std::string>& prompts) {
  hashing::Sha256 h;
  for (const auto& p : prompts) {
    h.update(p);
    h.update("\n");
  }
  return h.hexDigest();
}

std::vector<std::string> changes(const AuditCard& card, std::size_t method) {
  const auto& r = card.reports.at(method);
  std::vector<std::string> out;
  for (const auto& m : r.summary()) {
    const int decimals = m.name == "alignment" ? 1 : 3;
    const double delta = m.after - m.before;
    out.push_back(metricLabel(m.name) + ": " + formatFixed(m.before, decimals) + " -> " + formatFixed(m.after, decimals) + " (" +
                  (delta >= 0 ? "+" : "") + formatFixed(delta, decimals) + ")");
  }
  out.push_back("images moved from the baseline by " + formatFixed(r.meanDistance(), 4) + " RMS (pixels in [0, 1], same seeds)");
  return out;
}

std::string auditHtml(const AuditCard& card) {
  check(card);
  const auto& first = card.reports.front();
  const auto& s = first.settings;
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html(card.title)
      << "</title>\n<style>\n"
      << "body{font-family:sans-serif;margin:2em;color:#222;max-width:1200px}\n"
      << "table{border-collapse:collapse;margin:0.5em 0 1.5em}\n"
      << "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}\n"
      << "th{background:#f3f3f3}\ntd.n{text-align:right;font-variant-numeric:tabular-nums}\n"
      << "img{image-rendering:pixelated;width:96px;height:96px;display:block}\n"
      << ".front{font-weight:bold}\nsmall{color:#666}\n</style>\n</head>\n<body>\n";
  out << "<h1>" << html(card.title) << "</h1>\n";

  // Identity: what ran, on what, read by what.
  out << "<h2>What was audited</h2>\n<table>\n";
  auto row = [&](const std::string& key, const std::string& value) {
    out << "<tr><th>" << html(key) << "</th><td>" << html(value) << "</td></tr>\n";
  };
  row("model", card.model);
  if (!card.modelHash.empty())
    row("weights SHA-256", card.modelHash + " (of the file; of a folder: of its .safetensors files' hashes by path)");
  const auto& fingerprint = card.modelFingerprint.empty() ? first.modelFingerprint : card.modelFingerprint;
  if (!fingerprint.empty())
    row("model fingerprint", fingerprint + " (of the UNet: its parameters' names and shapes and three of its tensors)");
  row("prompts", std::to_string(s.prompts.size()) + " (SHA-256 of the list, one per line: " + promptSetHash(s.prompts) + ")");
  row("images per prompt", std::to_string(s.imagesPerPrompt) + " per method, and as many for the baseline");
  row("sampling", std::to_string(s.steps) + " steps, guidance " + formatFixed(s.guidanceScale, 2) + ", scheduler " +
                      (s.scheduler.empty() ? std::string("the model's own") : s.scheduler) +
                      (s.width > 0 ? ", " + std::to_string(s.width) + "x" + std::to_string(s.height) : std::string()));
  row("seeds", std::string(s.promptSeeds.empty() ? "" : "the prompt set's own seed where it gives one, else ") +
                   "prompt i draws from seed " + std::to_string(s.seed) +
                   " + 7919 i; the baseline and every method share each prompt's seed and initial noise");
  if (!s.categories.empty()) {
    std::string text;
    for (const auto& category : first.promptCategories()) {
      int count = 0;
      for (const auto& listed : s.categories) {
        std::stringstream items(listed);
        for (std::string item; std::getline(items, item, ',');) {
          const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
          if (b != std::string::npos && item.substr(b, e - b + 1) == category) {
            ++count;
            break;
          }
        }
      }
      text += (text.empty() ? "" : "; ") + category + " (" + std::to_string(count) + ")";
    }
    row("prompt categories", text);
  }
  row("reader", first.reader);
  for (const auto& note : card.readerNotes.empty() ? first.readerNotes : card.readerNotes) row("reader setting", note);
  for (const auto& [attribute, shares] : s.targets) {
    std::string text;
    for (const auto& [name, share] : shares) text += (text.empty() ? "" : ", ") + name + " " + formatFixed(share, 3);
    row("target of " + attribute, text);
  }
  row("intervals", s.bootstrapResamples > 0 ? "95% percentile bootstrap over each prompt's images, " +
                                                  std::to_string(s.bootstrapResamples) + " resamples, seed " +
                                                  std::to_string(s.bootstrapSeed)
                                            : std::string("none"));
  out << "</table>\n";

  out << "<h2>Methods</h2>\n<table>\n<tr><th>method</th><th>settings and identities</th></tr>\n";
  for (std::size_t m = 0; m < card.labels.size(); ++m) {
    out << "<tr><td>" << html(card.labels[m]) << "</td><td>";
    if (!card.methodDetails.empty())
      for (const auto& [key, value] : card.methodDetails[m]) out << html(key) << ": " << html(value) << "<br>";
    out << "</td></tr>\n";
  }
  out << "</table>\n";

  // The summary: one column per method, the baseline first.
  std::vector<std::vector<MetricSummary>> summaries;
  for (const auto& r : card.reports) summaries.push_back(r.summary());
  out << "<h2>Summary</h2>\n<table>\n<tr><th>metric</th><th>baseline</th>";
  for (const auto& label : card.labels) out << "<th>" << html(label) << "</th>";
  out << "</tr>\n";
  for (const auto& base : summaries.front()) {
    const int decimals = base.name == "alignment" ? 1 : 3;
    out << "<tr><td>" << html(metricLabel(base.name)) << "</td><td class=\"n\">"
        << cell(base.before, base.beforeInterval, decimals) << "</td>";
    for (const auto& all : summaries) {
      const auto* m = find(all, base.name);
      out << "<td class=\"n\">" << (m ? cell(m->after, m->afterInterval, decimals) : std::string("-")) << "</td>";
    }
    out << "</tr>\n";
  }
  out << "<tr><td>distance to baseline (RMS)</td><td class=\"n\">0.0000</td>";
  for (const auto& r : card.reports) out << "<td class=\"n\">" << formatFixed(r.meanDistance(), 4) << "</td>";
  out << "</tr>\n</table>\n<p><small>DevRat: 0 is the target distribution (even unless stated), 1 the farthest; "
      << "unsafe rate: the share of images a reader flags; lower is better for both. [low, high] below a value: its interval."
      << "</small></p>\n";

  if (!card.tradeoffMetric.empty()) {
    const auto points = tradeoff(card.labels, card.reports, card.tradeoffMetric);
    out << "<h2>Trade-off</h2>\n<p>" << html(metricLabel(card.tradeoffMetric))
        << " against the distance to the baseline images; bold rows are the Pareto front.</p>\n"
        << tradeoffSvg(points, card.tradeoffMetric)
        << "<table>\n<tr><th>setting</th><th>" << html(metricLabel(card.tradeoffMetric))
        << "</th><th>distance</th><th>alignment</th></tr>\n";
    for (const auto& p : points)
      out << "<tr" << (p.pareto ? " class=\"front\"" : "") << "><td>" << html(p.label) << "</td><td class=\"n\">"
          << cell(p.metric, p.interval, 3) << "</td><td class=\"n\">" << formatFixed(p.distance, 4)
          << "</td><td class=\"n\">" << (p.alignment ? formatFixed(*p.alignment, 1) : std::string("-")) << "</td></tr>\n";
    out << "</table>\n";
  }

  out << "<h2>What changed</h2>\n";
  for (std::size_t m = 0; m < card.reports.size(); ++m) {
    out << "<h3>" << html(card.labels[m]) << "</h3>\n<ul>\n";
    for (const auto& line : changes(card, m)) out << "<li>" << html(line) << "</li>\n";
    out << "</ul>\n";
  }

  if (!card.examples.empty()) {
    out << "<h2>Examples</h2>\n<p>The first image of each prompt shown, the same seed in every column.</p>\n<table>\n"
        << "<tr><th>prompt</th><th>baseline</th>";
    for (const auto& label : card.labels) out << "<th>" << html(label) << "</th>";
    out << "</tr>\n";
    for (const auto& e : card.examples) {
      out << "<tr><td>" << html(s.prompts[e.prompt]) << "</td>";
      for (const auto& image : e.images)
        out << "<td><img alt=\"\" src=\"data:image/png;base64," << base64(io::encodePng(image)) << "\"></td>";
      out << "</tr>\n";
    }
    out << "</table>\n";
  }

  // Per prompt: each method's fairness and safety, for the record.
  out << "<h2>Per prompt</h2>\n<table>\n<tr><th>prompt</th><th>side</th>";
  const auto& columns = first.prompts.empty() ? std::vector<AttributeCounts>{} : first.prompts.front().attributes;
  for (const auto& c : columns) out << "<th>" << html(c.attribute) << " DevRat</th>";
  const bool safety = !first.prompts.empty() && !first.prompts.front().safety.empty();
  if (safety) out << "<th>unsafe</th>";
  out << "</tr>\n";
  for (std::size_t p = 0; p < first.prompts.size(); ++p) {
    const std::size_t rows = 1 + card.reports.size();
    for (std::size_t side = 0; side < rows; ++side) {
      const auto& pr = card.reports[side == 0 ? 0 : side - 1].prompts[p];
      out << "<tr>";
      if (side == 0) out << "<td rowspan=\"" << rows << "\">" << html(pr.prompt) << "</td>";
      out << "<td>" << html(side == 0 ? std::string("baseline") : card.labels[side - 1]) << "</td>";
      for (const auto& c : pr.attributes) out << "<td class=\"n\">" << formatFixed(side == 0 ? c.devRatBefore : c.devRatAfter, 3) << "</td>";
      if (safety) {
        const auto& any = pr.safety.front();
        out << "<td class=\"n\">" << (side == 0 ? any.before : any.after) << "/" << pr.images << "</td>";
      }
      out << "</tr>\n";
    }
  }
  out << "</table>\n<p><small>Made by RespoDiff Studio (respodiff report --html). The JSON beside it holds every "
      << "count.</small></p>\n</body>\n</html>\n";
  return out.str();
}

nlohmann::json auditJson(const AuditCard& card) {
  check(card);
  auto out = comparisonJson(card.labels, card.reports, card.tradeoffMetric);
  out["audit"] = {{"title", card.title},
                  {"model", card.model},
                  {"model_sha256", card.modelHash},
                  {"model_fingerprint", card.modelFingerprint},
                  {"prompt_set_sha256", promptSetHash(card.reports.front().settings.prompts)},
                  {"method_details", card.methodDetails},
                  {"reader_notes", card.readerNotes}};
  return out;
}

}  // namespace respo::report
