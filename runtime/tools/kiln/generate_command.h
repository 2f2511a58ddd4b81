// `kiln generate`: images from a prompt, and optionally reference images,
// with a compiled FLUX model (runtime/generate/generator.h).
#ifndef KILN_RUNTIME_TOOLS_KILN_GENERATE_COMMAND_H_
#define KILN_RUNTIME_TOOLS_KILN_GENERATE_COMMAND_H_

#include <string>
#include <vector>

namespace kiln::cli {

extern const char kGenerateHelp[];

// Runs `kiln generate` with the arguments after the command name; returns
// the exit status.
int GenerateCommand(const std::vector<std::string>& args);

}  // namespace kiln::cli

#endif  // KILN_RUNTIME_TOOLS_KILN_GENERATE_COMMAND_H_
