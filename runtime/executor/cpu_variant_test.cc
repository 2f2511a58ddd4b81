#include "runtime/executor/cpu_variant.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kiln::executor {
namespace {

using ::testing::HasSubstr;

artifact::Executable Cpu(const std::string& target,
                         std::vector<std::string> features) {
  artifact::Executable e;
  e.target = target;
  e.format = "elf-shared-object";
  e.cpu_features = std::move(features);
  return e;
}

artifact::Executable Cuda() {
  artifact::Executable e;
  e.target = "cuda-sm_90a";
  e.format = "ptx";
  return e;
}

// A CPU that has exactly `have`.
CpuFeatureCheck Has(std::vector<std::string> have) {
  return [have](const std::vector<std::string>& needed) {
    for (const std::string& f : needed) {
      if (std::find(have.begin(), have.end(), f) == have.end())
        return absl::FailedPreconditionError("this CPU lacks " + f);
    }
    return absl::OkStatus();
  };
}

const std::vector<artifact::Executable> kLevels = {
    Cpu("cpu-x86_64-avx2", {"avx2", "fma"}), Cuda(),
    Cpu("cpu-x86_64-avx512", {"avx2", "fma", "avx512f"}),
    Cpu("cpu-x86_64-avx512bf16", {"avx2", "fma", "avx512f", "avx512bf16"})};

TEST(ChooseCpuExecutable, PicksTheMostCapableLevelThisCpuHas) {
  auto zen3 = ChooseCpuExecutable("m.kiln", kLevels, "", Has({"avx2", "fma"}));
  ASSERT_TRUE(zen3.ok()) << zen3.status();
  EXPECT_EQ(**zen3, 0u);
  auto skx = ChooseCpuExecutable("m.kiln", kLevels, "",
                                 Has({"avx2", "fma", "avx512f"}));
  ASSERT_TRUE(skx.ok()) << skx.status();
  EXPECT_EQ(**skx, 2u);
  auto spr = ChooseCpuExecutable(
      "m.kiln", kLevels, "", Has({"avx2", "fma", "avx512f", "avx512bf16"}));
  ASSERT_TRUE(spr.ok()) << spr.status();
  EXPECT_EQ(**spr, 3u);
}

TEST(ChooseCpuExecutable, ForcedTargetIsTakenOrExplained) {
  auto all = Has({"avx2", "fma", "avx512f", "avx512bf16"});
  auto avx2 = ChooseCpuExecutable("m.kiln", kLevels, "cpu-x86_64-avx2", all);
  ASSERT_TRUE(avx2.ok()) << avx2.status();
  EXPECT_EQ(**avx2, 0u);

  auto missing = ChooseCpuExecutable("m.kiln", kLevels, "cpu-x86_64", all);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(),
              HasSubstr("m.kiln: KILN_CPU_TARGET=cpu-x86_64 but the "
                        "artifact's CPU targets are cpu-x86_64-avx2, "
                        "cpu-x86_64-avx512, cpu-x86_64-avx512bf16"));

  auto unsupported = ChooseCpuExecutable(
      "m.kiln", kLevels, "cpu-x86_64-avx512bf16", Has({"avx2", "fma"}));
  ASSERT_FALSE(unsupported.ok());
  EXPECT_THAT(unsupported.status().message(),
              HasSubstr("m.kiln: executable 3 (cpu-x86_64-avx512bf16) "
                        "(KILN_CPU_TARGET=cpu-x86_64-avx512bf16): this CPU "
                        "lacks avx512f"));
}

TEST(ChooseCpuExecutable, NoRunnableLevelNamesTheFirstsMissingFeature) {
  auto none = ChooseCpuExecutable("m.kiln", kLevels, "", Has({"sse2"}));
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(),
              HasSubstr("m.kiln: executable 0 (cpu-x86_64-avx2): this CPU "
                        "lacks avx2"));
}

TEST(ChooseCpuExecutable, GpuOnlyArtifactHasNoCpuChoice) {
  auto choice = ChooseCpuExecutable("m.kiln", {Cuda()}, "", Has({}));
  ASSERT_TRUE(choice.ok()) << choice.status();
  EXPECT_FALSE(choice->has_value());
}

TEST(KernelInExecutable, OwnKernelOrVariant) {
  artifact::Dispatch d;
  d.executable = 0;
  d.kernel = "kiln_kernel_f__dispatch_0";
  d.variants = {{2, "kiln_kernel_f__dispatch_0_v"}};
  EXPECT_EQ(KernelInExecutable(d, 0), "kiln_kernel_f__dispatch_0");
  EXPECT_EQ(KernelInExecutable(d, 2), "kiln_kernel_f__dispatch_0_v");
  EXPECT_EQ(KernelInExecutable(d, 3), std::nullopt);
}

}  // namespace
}  // namespace kiln::executor
