#pragma once
// Where the program's data lives, in one place: the shipped data (the toy-world model, its classifier
// and concepts, the CLIP vocabulary) and the user's own folders.
#include <filesystem>

namespace respo::paths {

// RESPODIFF_DATA_DIR if set, else ../share/respodiff beside the executable (as installed, and as
// the build tree lays it out).
std::filesystem::path dataDirectory();

std::filesystem::path toyWorld();           // <data>/toyworld
std::filesystem::path toyModel();           // <data>/toyworld/model: the embedded default model
std::filesystem::path toyClassifier();      // <data>/toyworld/classifier.safetensors
std::filesystem::path shippedConcepts();    // <data>/toyworld/concepts
std::filesystem::path clipVocabulary();     // <data>/clip/bpe_simple_vocab_16e6.txt.gz

// $XDG_DATA_HOME/respodiff (default ~/.local/share/respodiff): where the user's modules are saved.
std::filesystem::path userDataDirectory();
std::filesystem::path userConcepts();       // <user data>/concepts
std::filesystem::path userLoras();          // <user data>/loras: where <lora:name> tags look first

}  // namespace respo::paths
