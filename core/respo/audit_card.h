#pragma once
// The audit card: a report's findings as one self-contained HTML file that reads offline (images
// inline as PNG data, charts as SVG, no scripts, no external references) and as JSON for machines.
// Deterministic: the same audit gives the same bytes. Torch-free: the caller hands over the images.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io/image.h"
#include "core/respo/fairness_summary.h"

namespace respo::report {

// One prompt's example row: its first image without any method, then with each method in order.
struct AuditExample {
  std::size_t prompt = 0;  // index in the settings' prompt list
  std::vector<io::RgbImage> images;
};

struct AuditCard {
  std::string title = "Responsible-generation audit";
  std::string model;             // the model as the user named it (folder or file name)
  std::string modelHash;         // weightsHash of the model's files
  std::string modelFingerprint;  // the UNet's fingerprint (concept modules name the model by it)
  std::vector<std::string> labels;     // one per method
  std::vector<FairnessReport> reports; // one per method, against one shared baseline
  // Per method, what it is: the entries it records in a picture's parameters (modules and their
  // hashes, SLD settings, edit hashes...).
  std::vector<std::map<std::string, std::string>> methodDetails;
  std::vector<std::string> readerNotes;  // the readers, their thresholds and categories
  std::string tradeoffMetric;            // set for a sweep: the trade-off's metric
  std::vector<AuditExample> examples;
};

// The weights' identity: a single file's SHA-256; for a folder, the SHA-256 of the lines
// "<relative path> <SHA-256 of the file>\n" of every .safetensors file in it, by path.
std::string weightsHash(const std::filesystem::path& model);
// SHA-256 of the prompts, one per line in order: which prompt set an audit ran on.
std::string promptSetHash(const std::vector<std::string>& prompts);
// What changed with each method: its metrics before -> after and how far its images moved.
std::vector<std::string> changes(const AuditCard& card, std::size_t method);

// InvalidArgument when the card is inconsistent (no reports, labels or details of another count,
// examples of another width than 1 + methods).
std::string auditHtml(const AuditCard& card);
// The comparison JSON (comparisonJson) with the card's identity, methods and readers; no images.
nlohmann::json auditJson(const AuditCard& card);

}  // namespace respo::report
