#pragma once
// The LoRA options `generate` and `eval` share: --lora FILE[:W][,FILE[:W]...] and --lora-dir DIR[;DIR...].
#include "app/command_line.h"
#include "core/pipeline/generation_request.h"

namespace respo::app {

// LoRAs: the prompt's <lora:name:w> tags find their files in --lora-dir (';'-separated) and the user's
// LoRA folder; --lora FILE[:W][,FILE[:W]...] adds a tag per file (and its folder), as typing it would.
// Adds the folders to request.loraFolders (the user's LoRA folder last) and a tag per --lora file to
// request.prompt; checks every tag of the prompt (syntax, file found) before anything is loaded.
void addLoras(const CommandLine& cl, pipeline::GenerationRequest& request);

}  // namespace respo::app
