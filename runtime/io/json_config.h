// JSON files with errors that name the file, the key, what was expected and
// what was found: model configs (config.json, model_index.json), sharded
// checkpoint indexes, and the header of a safetensors file.
#ifndef KILN_RUNTIME_IO_JSON_CONFIG_H_
#define KILN_RUNTIME_IO_JSON_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace kiln::io {

// Parses `size` bytes of JSON text. `source` starts every error message: a
// path, or "model.safetensors: header". Errors: InvalidArgument for a syntax
// error (with its byte offset, line and column), ill-formed UTF-8, or a key
// that appears twice in one object (nlohmann would silently keep the last).
absl::StatusOr<nlohmann::json> ParseJson(const std::string& source,
                                         const char* data, size_t size);

// Reads and parses a whole file whose top level must be a JSON object.
// Errors: those of MappedFile::Open and ParseJson, and InvalidArgument when
// the top level is not an object.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

// A value for an error message: its JSON text, shortened past 60
// characters, and its type, e.g. `"19" (a string)`, `[1, 2] (an array)`.
std::string DescribeJson(const nlohmann::json& value);

// "<file>: key '<key>' has unsupported value <value>, <expected>", e.g.
// UnsupportedValue("config.json", "act_fn", cfg["act_fn"],
//                  "expected one of gelu, gelu_tanh").
absl::Status UnsupportedValue(const std::string& file, const std::string& key,
                              const nlohmann::json& value,
                              const std::string& expected);

// A JSON object and the file it came from, with typed getters whose errors
// name both:
//   "transformer/config.json: key 'num_layers' is "19" (a string), expected
//   an integer".
// GetX(key) requires the key; GetXOr(key, default) returns the default when
// the key is absent or null (diffusers writes None as null). A present value
// of the wrong type is an error in both. Integers must be JSON integers
// (2.0 is not one); doubles accept integers too.
class JsonConfig {
 public:
  // Reads `path` with ReadJsonFile.
  static absl::StatusOr<JsonConfig> Read(const std::string& path);

  // `file` names the object in messages; `json` should be an object (if it
  // is not, every key is missing).
  JsonConfig(std::string file, nlohmann::json json)
      : file_(std::move(file)), json_(std::move(json)) {}

  const std::string& file() const { return file_; }
  const nlohmann::json& json() const { return json_; }

  // Whether the key is present with a non-null value.
  bool Has(const std::string& key) const;

  absl::StatusOr<int64_t> GetInt(const std::string& key) const;
  absl::StatusOr<int64_t> GetIntOr(const std::string& key,
                                   int64_t default_value) const;
  absl::StatusOr<double> GetDouble(const std::string& key) const;
  absl::StatusOr<double> GetDoubleOr(const std::string& key,
                                     double default_value) const;
  absl::StatusOr<bool> GetBool(const std::string& key) const;
  absl::StatusOr<bool> GetBoolOr(const std::string& key,
                                 bool default_value) const;
  absl::StatusOr<std::string> GetString(const std::string& key) const;
  absl::StatusOr<std::string> GetStringOr(
      const std::string& key, const std::string& default_value) const;
  absl::StatusOr<std::vector<int64_t>> GetIntList(const std::string& key) const;
  absl::StatusOr<std::vector<int64_t>> GetIntListOr(
      const std::string& key, const std::vector<int64_t>& default_value) const;
  absl::StatusOr<std::vector<std::string>> GetStringList(
      const std::string& key) const;
  absl::StatusOr<std::vector<std::string>> GetStringListOr(
      const std::string& key,
      const std::vector<std::string>& default_value) const;

  // UnsupportedValue(file(), key, <the key's value, or null>, expected).
  absl::Status UnsupportedValue(const std::string& key,
                                const std::string& expected) const;

 private:
  template <typename T>
  absl::StatusOr<T> Get(const std::string& key) const;
  template <typename T>
  absl::StatusOr<T> GetOr(const std::string& key, const T& default_value) const;

  std::string file_;
  nlohmann::json json_;
};

}  // namespace kiln::io

#endif  // KILN_RUNTIME_IO_JSON_CONFIG_H_
