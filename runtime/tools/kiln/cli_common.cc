#include "runtime/tools/kiln/cli_common.h"

#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace kiln::cli {

std::string OneLine(const absl::Status& status) {
  return absl::StrReplaceAll(status.message(), {{"\n", " "}, {"\r", " "}});
}

absl::StatusOr<Arguments> Parse(
    const std::vector<std::string>& args, const std::set<std::string>& valued,
    const std::set<std::string>& flags, const std::set<std::string>& repeated,
    const std::map<std::string, std::string>& short_names) {
  Arguments out;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (auto it = short_names.find(arg); it != short_names.end())
      arg = "--" + it->second;
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      out.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (repeated.count(name)) {
      if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, " needs a value"));
        }
        value = args[++i];
      }
      out.lists[name].push_back(*value);
    } else if (valued.count(name)) {
      if (!value.has_value()) {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("--", name, " needs a value"));
        }
        value = args[++i];
      }
      if (out.values.count(name)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " is given twice"));
      }
      out.values[name] = *value;
    } else if (flags.count(name)) {
      if (value.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      out.flags.insert(name);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown option '", arg, "'"));
    }
  }
  return out;
}

int UsageError(const std::string& command, const std::string& message) {
  std::cerr << "kiln " << command << ": " << message << " (see 'kiln "
            << command << " --help')\n";
  return kUsage;
}

int Failed(const std::string& command, const absl::Status& status) {
  std::cerr << "kiln " << command << ": " << OneLine(status) << "\n";
  return kFailed;
}

}  // namespace kiln::cli
