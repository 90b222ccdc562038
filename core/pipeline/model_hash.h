#pragma once
// The "Model hash" of the parameters text, which front ends use to find the checkpoint a picture was
// made with (A1111 switches checkpoints by it; model sites link pictures to models by it).
//   - A single file: A1111's short hash, the first 10 hex digits of the SHA-256 of the whole file.
//   - A diffusers folder (no single file to hash): the first 10 hex digits of the SHA-256 of the
//     listing `sha256sum` prints for the folder's *.safetensors, *.json and *.txt files (hidden ones
//     skipped), by path relative to the folder with '/' separators, in byte order. The shell gives
//     the same digits:
//       cd FOLDER && find . -type f \( -name '*.safetensors' -o -name '*.json' -o -name '*.txt' \) \
//         -not -path '*/.*' | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum | cut -c1-10
// Each file's hash is remembered per path, size and modification time for the life of the process.
#include <cstdint>
#include <filesystem>
#include <string>

namespace respo::pipeline {

// The SHA-256 of a file from byte `from` on (64 hex digits), remembered per path, size and
// modification time for the life of the process (model files are gigabytes). Throws IoError.
std::string rememberedFileSha256(const std::filesystem::path& file, std::uint64_t from = 0);

// Throws IoError naming the file that cannot be read.
std::string modelHash(const std::filesystem::path& fileOrFolder);

// The "Model" of the parameters text: a file's name without its extension (as A1111 writes it), a
// folder's name.
std::string modelName(const std::filesystem::path& fileOrFolder);

}  // namespace respo::pipeline
