// What the kiln subcommands share: argument parsing, exit statuses and the
// one-line error reports every command's help promises.
#ifndef KILN_RUNTIME_TOOLS_KILN_CLI_COMMON_H_
#define KILN_RUNTIME_TOOLS_KILN_CLI_COMMON_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace kiln::cli {

// Exit statuses, as every command's help states.
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kUsage = 2;

// A status message on one line (errors are one line on stderr).
std::string OneLine(const absl::Status& status);

// Arguments of a command: positionals and --options, with "--name value"
// and "--name=value" alike.
struct Arguments {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // --name value
  std::set<std::string> flags;                // --name
  std::map<std::string, std::vector<std::string>> lists;  // repeatable
  bool help = false;
};

// Parses `args` given the options that take a value, the flags, and the
// options that may be repeated (each occurrence takes a value). `short_names`
// maps single-dash names ("-o", "-p") to long ones.
absl::StatusOr<Arguments> Parse(
    const std::vector<std::string>& args, const std::set<std::string>& valued,
    const std::set<std::string>& flags,
    const std::set<std::string>& repeated = {},
    const std::map<std::string, std::string>& short_names = {});

// "kiln <command>: <message> (see 'kiln <command> --help')" on stderr;
// returns kUsage.
int UsageError(const std::string& command, const std::string& message);

// "kiln <command>: <status message>" on stderr; returns kFailed.
int Failed(const std::string& command, const absl::Status& status);

}  // namespace kiln::cli

#endif  // KILN_RUNTIME_TOOLS_KILN_CLI_COMMON_H_
