#include "runtime/io/json_config.h"

#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/base/status_macros.h"
#include "runtime/io/mapped_file.h"

namespace kiln::io {
namespace {

using nlohmann::json;

// "parse error at line 1, column 6: syntax error ..." from nlohmann's
// "[json.exception.parse_error.101] parse error at line 1, ...".
std::string WithoutExceptionId(const std::string& what) {
  size_t end = what.find("] ");
  return end == std::string::npos ? what : what.substr(end + 2);
}

// Why a JSON value does not convert to the type a getter wants: `where` is
// empty for the value itself or "[i]" for a list element.
struct Mismatch {
  std::string where;
  const json* found;
  const char* expected;
};

std::optional<Mismatch> Convert(const json& value, int64_t* out) {
  if (value.is_number_unsigned() &&
      value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Mismatch{"", &value, "an integer that fits in 64 bits"};
  }
  if (!value.is_number_integer()) return Mismatch{"", &value, "an integer"};
  *out = value.get<int64_t>();
  return std::nullopt;
}

std::optional<Mismatch> Convert(const json& value, double* out) {
  if (!value.is_number()) return Mismatch{"", &value, "a number"};
  *out = value.get<double>();
  return std::nullopt;
}

std::optional<Mismatch> Convert(const json& value, bool* out) {
  if (!value.is_boolean()) return Mismatch{"", &value, "true or false"};
  *out = value.get<bool>();
  return std::nullopt;
}

std::optional<Mismatch> Convert(const json& value, std::string* out) {
  if (!value.is_string()) return Mismatch{"", &value, "a string"};
  *out = value.get<std::string>();
  return std::nullopt;
}

template <typename T>
std::optional<Mismatch> Convert(const json& value, std::vector<T>* out) {
  if (!value.is_array()) return Mismatch{"", &value, "an array"};
  out->clear();
  for (size_t i = 0; i < value.size(); ++i) {
    T element;
    if (std::optional<Mismatch> mismatch = Convert(value[i], &element)) {
      mismatch->where = absl::StrCat("[", i, "]", mismatch->where);
      return mismatch;
    }
    out->push_back(std::move(element));
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<json> ParseJson(const std::string& source, const char* data,
                               size_t size) {
  // nlohmann keeps the last of two equal keys; a file that says one thing
  // twice is malformed, so the parser callback tracks each open object's keys.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto track_keys = [&](int /*depth*/, json::parse_event_t event,
                        json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      open_objects.pop_back();
    } else if (event == json::parse_event_t::key && duplicate.empty() &&
               !open_objects.back().insert(parsed.get<std::string>()).second) {
      duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json result;
  try {
    result = json::parse(data, data + size, track_keys);
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not valid JSON (byte ", e.byte,
                     "): ", WithoutExceptionId(e.what())));
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": not valid JSON: ", WithoutExceptionId(e.what())));
  }
  if (!duplicate.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": key '", duplicate, "' appears twice in one JSON object"));
  }
  return result;
}

absl::StatusOr<json> ReadJsonFile(const std::string& path) {
  KILN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  KILN_ASSIGN_OR_RETURN(
      json value,
      ParseJson(path, reinterpret_cast<const char*>(file.data()), file.size()));
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": top level is ", DescribeJson(value), ", expected an object"));
  }
  return value;
}

std::string DescribeJson(const json& value) {
  if (value.is_null()) return "null";
  constexpr size_t kMaxChars = 60;
  std::string text = value.dump(/*indent=*/-1, ' ', /*ensure_ascii=*/false,
                                json::error_handler_t::replace);
  if (text.size() > kMaxChars)
    text = absl::StrCat(text.substr(0, kMaxChars), "...");
  const char* type = value.is_object()    ? "an object"
                     : value.is_array()   ? "an array"
                     : value.is_string()  ? "a string"
                     : value.is_boolean() ? "a boolean"
                     : value.is_number()  ? "a number"
                                          : value.type_name();
  return absl::StrCat(text, " (", type, ")");
}

absl::Status UnsupportedValue(const std::string& file, const std::string& key,
                              const json& value, const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": key '", key, "' has unsupported value ",
                   DescribeJson(value), ", ", expected));
}

absl::StatusOr<JsonConfig> JsonConfig::Read(const std::string& path) {
  // Member functions spell nlohmann::json out: `json` is also a member here.
  KILN_ASSIGN_OR_RETURN(nlohmann::json value, ReadJsonFile(path));
  return JsonConfig(path, std::move(value));
}

bool JsonConfig::Has(const std::string& key) const {
  auto it = json_.find(key);
  return it != json_.end() && !it->is_null();
}

template <typename T>
absl::StatusOr<T> JsonConfig::Get(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ": missing key '", key, "'"));
  }
  T result;
  if (std::optional<Mismatch> mismatch = Convert(*it, &result)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_, ": key '", key, "'", mismatch->where, " is ",
        DescribeJson(*mismatch->found), ", expected ", mismatch->expected));
  }
  return result;
}

template <typename T>
absl::StatusOr<T> JsonConfig::GetOr(const std::string& key,
                                    const T& default_value) const {
  if (!Has(key)) return default_value;
  return Get<T>(key);
}

absl::StatusOr<int64_t> JsonConfig::GetInt(const std::string& key) const {
  return Get<int64_t>(key);
}
absl::StatusOr<int64_t> JsonConfig::GetIntOr(const std::string& key,
                                             int64_t default_value) const {
  return GetOr<int64_t>(key, default_value);
}
absl::StatusOr<double> JsonConfig::GetDouble(const std::string& key) const {
  return Get<double>(key);
}
absl::StatusOr<double> JsonConfig::GetDoubleOr(const std::string& key,
                                               double default_value) const {
  return GetOr<double>(key, default_value);
}
absl::StatusOr<bool> JsonConfig::GetBool(const std::string& key) const {
  return Get<bool>(key);
}
absl::StatusOr<bool> JsonConfig::GetBoolOr(const std::string& key,
                                           bool default_value) const {
  return GetOr<bool>(key, default_value);
}
absl::StatusOr<std::string> JsonConfig::GetString(
    const std::string& key) const {
  return Get<std::string>(key);
}
absl::StatusOr<std::string> JsonConfig::GetStringOr(
    const std::string& key, const std::string& default_value) const {
  return GetOr<std::string>(key, default_value);
}
absl::StatusOr<std::vector<int64_t>> JsonConfig::GetIntList(
    const std::string& key) const {
  return Get<std::vector<int64_t>>(key);
}
absl::StatusOr<std::vector<int64_t>> JsonConfig::GetIntListOr(
    const std::string& key, const std::vector<int64_t>& default_value) const {
  return GetOr<std::vector<int64_t>>(key, default_value);
}
absl::StatusOr<std::vector<std::string>> JsonConfig::GetStringList(
    const std::string& key) const {
  return Get<std::vector<std::string>>(key);
}
absl::StatusOr<std::vector<std::string>> JsonConfig::GetStringListOr(
    const std::string& key,
    const std::vector<std::string>& default_value) const {
  return GetOr<std::vector<std::string>>(key, default_value);
}

absl::Status JsonConfig::UnsupportedValue(const std::string& key,
                                          const std::string& expected) const {
  auto it = json_.find(key);
  return io::UnsupportedValue(
      file_, key, it == json_.end() ? nlohmann::json() : *it, expected);
}

}  // namespace kiln::io
