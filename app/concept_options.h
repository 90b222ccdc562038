#pragma once
// The command line's concept options, shared by `generate`, `report` and `eval`:
//   --concept FILE_OR_GROUP_OR_NAME[,...] --ram-strength X --sam-strength Y
//   --policy random|balanced|fixed --fixed-member NAME --group-weight gender=0.6,skin tone=0.4
//   --ignore-fingerprint
#include <optional>
#include <string>
#include <vector>

#include "app/command_line.h"
#include "core/pipeline/safe_guidance.h"
#include "core/respo/composition.h"
#include "core/respo/responsible_generation.h"
#include "core/respo/selection.h"

namespace respo::app {

// The selection the options name (empty without --concept), each module known by file and identity.
// Throws InvalidArgument for modules of another model (unless --ignore-fingerprint), unknown names
// and malformed weights.
respo::concepts::Selection selectionFromCommandLine(const CommandLine& cl, respo::responsible::ModuleSource& source,
                                                    const std::string& fingerprint);
// One entry of --method (the interventions of the responsible side, joined by '+'):
//   respodiff                          the modules of --concept (implied by --concept alone)
//   sld[:PRESET][,KEY=VALUE...]        Safe Latent Diffusion (core/pipeline/safe_guidance.h); a
//                                      concept=TEXT setting takes the rest of the option

//   uce:FILE                           a concept edit made by `respodiff edit-concepts`
//   negative:TEXT, prompt-edit:TEXT    text added to the negative prompt / the prompt (the text takes
//                                      the rest of the option)
//   none                               no intervention
struct MethodChoice {
  std::string kind;
  respo::pipeline::SafeLatentGuidance sld;  // kind "sld"
  std::string file;                         // kind "uce"
  std::string text;                         // kinds "negative", "prompt-edit"
  std::optional<double> ram, sam;           // kind "respodiff": strengths for every module (respodiff:ram=X,sam=Y)
};
// Throws InvalidArgument for unknown methods, malformed settings and --concept without respodiff.
std::vector<MethodChoice> methodsFromCommandLine(const CommandLine& cl);
// One method specification (the --method grammar); `haveConcepts`: --concept was given.
std::vector<MethodChoice> parseMethods(const std::string& spec, bool haveConcepts);
// The interventions of `methods` on `model` (modules resolved from the command line's concept options).
respo::responsible::Interventions interventionsFor(const std::vector<MethodChoice>& methods, const CommandLine& cl,
                                                   respo::pipeline::StableDiffusionModel& model);

// The same, resolved into loaded modules.
respo::concepts::Composition conceptsFromCommandLine(const CommandLine& cl, const std::string& fingerprint);

}  // namespace respo::app
