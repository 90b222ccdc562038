#include "core/respo/concept_module.h"

#include <torch/torch.h>

#include "core/common/error.h"
#include "core/common/sha256.h"
#include "core/io/safetensors_torch.h"
#include "core/respo/concept_metadata.h"

namespace respo::concepts {

ConceptRecord ConceptModule::record() const {
  ConceptRecord r;
  r.settings = settings;
  r.stepsDone = stepsDone;
  r.lastResponsibleLoss = lastResponsibleLoss;
  r.lastSemanticLoss = lastSemanticLoss;
  r.modelFingerprint = modelFingerprint;
  r.moduleType = moduleType;
  r.hShape = hShape();
  return r;
}

void saveConcept(const std::filesystem::path& path, const ConceptModule& m,
                 const std::map<std::string, torch::Tensor>& extra) {
  if (!m.ram.defined() || !m.sam.defined() || m.ram.sizes() != m.sam.sizes() || m.ram.dim() != 4 || m.ram.size(0) != 1)
    throw InvalidArgument(path.string() + ": a concept module needs RAM and SAM tensors of one [1, C, H, W] shape");
  if (const auto problems = m.settings.validate(); !problems.empty())
    throw InvalidArgument(path.string() + ": cannot save the concept: " + problems.front());
  auto tensors = extra;
  tensors["ram"] = m.ram.detach().to(torch::kCPU, torch::kFloat32);
  tensors["sam"] = m.sam.detach().to(torch::kCPU, torch::kFloat32);
  io::saveTensors(path, tensors, conceptMetadata(m.record()));
}

ConceptModule loadConcept(const std::filesystem::path& path) {
  const auto file = io::SafetensorsFile::open(path);
  const std::string where = path.string();
  const ConceptRecord record = parseConceptMetadata(file.metadata(), where);
  ConceptModule m;
  for (const char* name : {"ram", "sam"}) {
    if (!file.contains(name)) throw FormatError(where + ": a concept module needs tensors 'ram' and 'sam'");
    const auto& info = file.tensor(name);
    if (info.dtype != io::DType::F32) throw FormatError(where + ": tensor '" + name + "' must be float32");
    checkConceptShape(info.shape, where, name);
  }
  if (file.tensor("ram").shape != file.tensor("sam").shape)
    throw FormatError(where + ": 'ram' and 'sam' must have one shape");
  m.ram = io::copyTensor(file, "ram");
  m.sam = io::copyTensor(file, "sam");
  // A module with NaN or infinity would turn every image it touches black (or into noise).
  if (!torch::isfinite(m.ram).all().item<bool>() || !torch::isfinite(m.sam).all().item<bool>())
    throw FormatError(where + ": the module holds values that are not finite numbers (NaN or infinity); it is damaged");
  if (!record.hShape.empty() && record.hShape != m.hShape())
    throw FormatError(where + ": its metadata says h_shape differs from its tensors' shape");
  m.settings = record.settings;
  m.stepsDone = record.stepsDone;
  m.lastResponsibleLoss = record.lastResponsibleLoss;
  m.lastSemanticLoss = record.lastSemanticLoss;
  m.modelFingerprint = record.modelFingerprint;
  m.moduleType = record.moduleType;
  m.fileHash = hashing::fileSha256(path);
  return m;
}

}  // namespace respo::concepts
