#include "runtime/hal/cpu/cpu_features.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "runtime/io/io_test_util.h"

namespace kiln::hal::cpu {
namespace {

using ::kiln::io::testing::IsErrorWith;

// The first value of `key` in /proc/cpuinfo ("flags", "vendor_id", ...).
std::string CpuinfoField(const std::string& key) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name == key) {
      return colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    }
  }
  return "";
}

// LLVM's feature names and the Linux kernel's, as /proc/cpuinfo lists them.
const std::map<std::string, std::string>& LinuxFlagNames() {
  static const auto* names = new std::map<std::string, std::string>{
      {"sse4.2", "sse4_2"},
      {"avx", "avx"},
      {"avx2", "avx2"},
      {"fma", "fma"},
      {"f16c", "f16c"},
      {"bmi", "bmi1"},
      {"bmi2", "bmi2"},
      {"avx512f", "avx512f"},
      {"avx512bw", "avx512bw"},
      {"avx512dq", "avx512dq"},
      {"avx512vl", "avx512vl"},
      {"avx512bf16", "avx512_bf16"},
      {"avx512fp16", "avx512_fp16"},
      {"avx512vnni", "avx512_vnni"},
      {"amx-tile", "amx_tile"},
      {"amx-bf16", "amx_bf16"},
      {"amx-int8", "amx_int8"},
  };
  return *names;
}

// The known features /proc/cpuinfo says this machine has (present) or
// lacks (absent), in KnownCpuFeatures() order.
void ExpectedFeatures(std::vector<std::string>* present,
                      std::vector<std::string>* absent) {
  std::istringstream words(CpuinfoField("flags"));
  std::set<std::string> flags;
  for (std::string flag; words >> flag;) flags.insert(flag);
  ASSERT_FALSE(flags.empty()) << "no flags line in /proc/cpuinfo";
  for (const std::string& feature : KnownCpuFeatures()) {
    auto linux_name = LinuxFlagNames().find(feature);
    ASSERT_NE(linux_name, LinuxFlagNames().end()) << feature;
    (flags.count(linux_name->second) ? present : absent)->push_back(feature);
  }
}

// Tests that the known names are exactly those the brief lists.
TEST(CpuFeaturesTest, KnowsLlvmNames) {
  EXPECT_EQ(absl::StrJoin(KnownCpuFeatures(), ","),
            "sse4.2,avx,avx2,fma,f16c,bmi,bmi2,avx512f,avx512bw,avx512dq,"
            "avx512vl,avx512bf16,avx512fp16,avx512vnni,amx-tile,amx-bf16,"
            "amx-int8");
}

// Tests every known feature, through the compiler's builtin and through
// cpuid alone, against what Linux reports in /proc/cpuinfo.
TEST(CpuFeaturesTest, AgreesWithProcCpuinfo) {
  std::vector<std::string> present, absent;
  ExpectedFeatures(&present, &absent);
  for (const std::string& feature : present) {
    EXPECT_TRUE(HasCpuFeature(feature).value_or(false)) << feature;
    EXPECT_TRUE(internal::HasCpuFeatureByCpuid(feature).value_or(false))
        << feature;
  }
  for (const std::string& feature : absent) {
    EXPECT_FALSE(HasCpuFeature(feature).value_or(true)) << feature;
    EXPECT_FALSE(internal::HasCpuFeatureByCpuid(feature).value_or(true))
        << feature;
  }
}

// Tests that requiring what this CPU has, or nothing, passes.
TEST(CpuFeaturesTest, PassesForFeaturesThisCpuHas) {
  std::vector<std::string> present, absent;
  ExpectedFeatures(&present, &absent);
  absl::Status status = CheckCpuFeatures(present);
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_TRUE(CheckCpuFeatures({}).ok());
}

// Tests that the error names every missing feature, this CPU, and the
// target to recompile for.
TEST(CpuFeaturesTest, NamesEveryMissingFeature) {
  std::vector<std::string> present, absent;
  ExpectedFeatures(&present, &absent);
  if (absent.empty()) GTEST_SKIP() << "this CPU has every known feature";
  std::vector<std::string> required = present;
  required.insert(required.end(), absent.begin(), absent.end());
  absl::Status status = CheckCpuFeatures(required);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_TRUE(
      IsErrorWith(status, "this CPU (" + CpuDescription() + ") lacks " +
                              absl::StrJoin(absent, ", ") +
                              " required by the compiled code; recompile with "
                              "--target=" +
                              SuggestedCpuTarget()));
}

// Tests that unknown names are reported, all of them, before missing ones.
TEST(CpuFeaturesTest, RejectsUnknownFeatureNames) {
  absl::Status status =
      CheckCpuFeatures({"avx2", "avx9000", "amx-tile", "sse5"});
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(IsErrorWith(status,
                          "unknown CPU features avx9000, sse5; known "
                          "features: sse4.2, avx, avx2,"));
  EXPECT_TRUE(IsErrorWith(HasCpuFeature("AVX2"), "unknown CPU feature AVX2;"));
  EXPECT_TRUE(IsErrorWith(internal::HasCpuFeatureByCpuid("sse4_2"),
                          "unknown CPU feature sse4_2;"));
}

// Tests that the description holds the model name and vendor Linux reports.
TEST(CpuFeaturesTest, DescribesThisCpu) {
  const std::string description = CpuDescription();
  const std::string model = CpuinfoField("model name");
  const std::string vendor = CpuinfoField("vendor_id");
  if (model.empty() || vendor.empty()) GTEST_SKIP() << "no x86 /proc/cpuinfo";
  EXPECT_EQ(description, model + ", " + vendor);
}

// Tests the suggested target against the feature levels /proc/cpuinfo
// implies.
TEST(CpuFeaturesTest, SuggestsTargetForThisCpu) {
  std::vector<std::string> present, absent;
  ExpectedFeatures(&present, &absent);
  std::set<std::string> has(present.begin(), present.end());
  auto all = [&](std::vector<std::string> names) {
    for (const std::string& name : names) {
      if (!has.count(name)) return false;
    }
    return true;
  };
  std::string expected = "cpu-x86_64";
  if (all({"avx2", "fma", "f16c", "bmi", "bmi2"})) {
    expected = all({"avx512f", "avx512bw", "avx512dq", "avx512vl"})
                   ? "cpu-x86_64-avx512"
                   : "cpu-x86_64-avx2";
  }
  EXPECT_EQ(SuggestedCpuTarget(), expected);
}

}  // namespace
}  // namespace kiln::hal::cpu
