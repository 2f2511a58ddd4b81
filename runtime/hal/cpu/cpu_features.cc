#include "runtime/hal/cpu/cpu_features.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace kiln::hal::cpu {
namespace {

enum class Reg { kEax, kEbx, kEcx, kEdx };

// Where cpuid reports a feature, the XCR0 state bits the OS must have
// enabled for it, and __builtin_cpu_supports for it where the compiler
// knows the name (GCC 12 knows all of them; clang 14, which builds the fuzz
// targets, lacks f16c, avx512fp16 and amx-*).
struct Feature {
  const char* name;
  uint32_t leaf;
  uint32_t subleaf;
  Reg reg;
  int bit;
  uint64_t xcr0;
  bool (*builtin)();
};

// XCR0 state components.
constexpr uint64_t kAvxState = 0x6;      // SSE, AVX (YMM upper halves)
constexpr uint64_t kAvx512State = 0xe6;  // + opmask, ZMM0-15 upper, ZMM16-31
constexpr uint64_t kAmxState = 0x60000;  // XTILECFG, XTILEDATA

#if defined(__x86_64__)
#define KILN_BUILTIN(name) \
  +[]() -> bool { return __builtin_cpu_supports(name) != 0; }
#if defined(__clang__)
#define KILN_GCC_BUILTIN(name) nullptr
#else
#define KILN_GCC_BUILTIN(name) KILN_BUILTIN(name)
#endif
#else
#define KILN_BUILTIN(name) nullptr
#define KILN_GCC_BUILTIN(name) nullptr
#endif

// Bits from the Intel SDM, volume 2, CPUID; leaf 7 subleaf 1 for bf16.
const Feature kFeatures[] = {
    {"sse4.2", 1, 0, Reg::kEcx, 20, 0, KILN_BUILTIN("sse4.2")},
    {"avx", 1, 0, Reg::kEcx, 28, kAvxState, KILN_BUILTIN("avx")},
    {"avx2", 7, 0, Reg::kEbx, 5, kAvxState, KILN_BUILTIN("avx2")},
    {"fma", 1, 0, Reg::kEcx, 12, kAvxState, KILN_BUILTIN("fma")},
    {"f16c", 1, 0, Reg::kEcx, 29, kAvxState, KILN_GCC_BUILTIN("f16c")},
    {"bmi", 7, 0, Reg::kEbx, 3, 0, KILN_BUILTIN("bmi")},
    {"bmi2", 7, 0, Reg::kEbx, 8, 0, KILN_BUILTIN("bmi2")},
    {"avx512f", 7, 0, Reg::kEbx, 16, kAvx512State, KILN_BUILTIN("avx512f")},
    {"avx512bw", 7, 0, Reg::kEbx, 30, kAvx512State, KILN_BUILTIN("avx512bw")},
    {"avx512dq", 7, 0, Reg::kEbx, 17, kAvx512State, KILN_BUILTIN("avx512dq")},
    {"avx512vl", 7, 0, Reg::kEbx, 31, kAvx512State, KILN_BUILTIN("avx512vl")},
    {"avx512bf16", 7, 1, Reg::kEax, 5, kAvx512State,
     KILN_BUILTIN("avx512bf16")},
    {"avx512fp16", 7, 0, Reg::kEdx, 23, kAvx512State,
     KILN_GCC_BUILTIN("avx512fp16")},
    {"avx512vnni", 7, 0, Reg::kEcx, 11, kAvx512State,
     KILN_BUILTIN("avx512vnni")},
    {"amx-tile", 7, 0, Reg::kEdx, 24, kAmxState, KILN_GCC_BUILTIN("amx-tile")},
    {"amx-bf16", 7, 0, Reg::kEdx, 22, kAmxState, KILN_GCC_BUILTIN("amx-bf16")},
    {"amx-int8", 7, 0, Reg::kEdx, 25, kAmxState, KILN_GCC_BUILTIN("amx-int8")},
};

#undef KILN_BUILTIN
#undef KILN_GCC_BUILTIN

const Feature* Find(const std::string& name) {
  for (const Feature& feature : kFeatures) {
    if (name == feature.name) return &feature;
  }
  return nullptr;
}

absl::Status UnknownFeatures(const std::vector<std::string>& names) {
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown CPU feature", names.size() > 1 ? "s " : " ",
      absl::StrJoin(names, ", "),
      "; known features: ", absl::StrJoin(KnownCpuFeatures(), ", ")));
}

#if defined(__x86_64__)

struct Cpuid {
  uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
};

// Zeros for a leaf the CPU does not have.
Cpuid QueryCpuid(uint32_t leaf, uint32_t subleaf) {
  Cpuid r;
  if (!__get_cpuid_count(leaf, subleaf, &r.eax, &r.ebx, &r.ecx, &r.edx)) {
    return Cpuid();
  }
  return r;
}

// The OS-enabled state components, 0 without OSXSAVE.
uint64_t Xcr0() {
  constexpr uint32_t kOsxsave = 1u << 27;
  if ((QueryCpuid(1, 0).ecx & kOsxsave) == 0) return 0;
  uint32_t eax, edx;
  __asm__("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t{edx} << 32) | eax;
}

bool ByCpuid(const Feature& feature) {
  Cpuid r = QueryCpuid(feature.leaf, feature.subleaf);
  uint32_t word = feature.reg == Reg::kEax   ? r.eax
                  : feature.reg == Reg::kEbx ? r.ebx
                  : feature.reg == Reg::kEcx ? r.ecx
                                             : r.edx;
  return (word >> feature.bit) & 1;
}

bool OsEnabled(const Feature& feature) {
  return (Xcr0() & feature.xcr0) == feature.xcr0;
}

bool Has(const Feature& feature) {
  if (feature.builtin != nullptr) {
    __builtin_cpu_init();
    if (!feature.builtin()) return false;
  } else if (!ByCpuid(feature)) {
    return false;
  }
  return OsEnabled(feature);
}

// Linux (5.16+) hands out the AMX tile-data state only on request.
absl::Status RequestAmxPermission() {
  constexpr int kArchReqXcompPerm = 0x1023;
  constexpr int kXfeatureXtiledata = 18;
  if (::syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the compiled code uses AMX, and Linux refused this process the AMX "
        "tile state (arch_prctl ARCH_REQ_XCOMP_PERM): ",
        std::strerror(errno), "; Linux 5.16 or newer is needed"));
  }
  return absl::OkStatus();
}

#else  // !__x86_64__: no x86 feature is present.

bool ByCpuid(const Feature&) { return false; }
bool Has(const Feature&) { return false; }
absl::Status RequestAmxPermission() { return absl::OkStatus(); }

#endif

}  // namespace

const std::vector<std::string>& KnownCpuFeatures() {
  static const auto* names = [] {
    auto* list = new std::vector<std::string>;
    for (const Feature& feature : kFeatures) list->push_back(feature.name);
    return list;
  }();
  return *names;
}

absl::StatusOr<bool> HasCpuFeature(const std::string& feature) {
  const Feature* known = Find(feature);
  if (known == nullptr) return UnknownFeatures({feature});
  return Has(*known);
}

namespace internal {
absl::StatusOr<bool> HasCpuFeatureByCpuid(const std::string& feature) {
  const Feature* known = Find(feature);
  if (known == nullptr) return UnknownFeatures({feature});
#if defined(__x86_64__)
  return ByCpuid(*known) && OsEnabled(*known);
#else
  return false;
#endif
}
}  // namespace internal

absl::Status CheckCpuFeatures(const std::vector<std::string>& required) {
  std::vector<std::string> unknown, missing;
  bool needs_amx = false;
  for (const std::string& name : required) {
    const Feature* feature = Find(name);
    if (feature == nullptr) {
      unknown.push_back(name);
    } else if (!Has(*feature)) {
      missing.push_back(name);
    } else if (feature->xcr0 == kAmxState) {
      needs_amx = true;
    }
  }
  if (!unknown.empty()) return UnknownFeatures(unknown);
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("this CPU (", CpuDescription(), ") lacks ",
                     absl::StrJoin(missing, ", "),
                     " required by the compiled code; recompile with --target=",
                     SuggestedCpuTarget()));
  }
  if (needs_amx) return RequestAmxPermission();
  return absl::OkStatus();
}

std::string CpuDescription() {
#if defined(__x86_64__)
  Cpuid vendor_regs = QueryCpuid(0, 0);
  char vendor[13] = {};
  std::memcpy(vendor, &vendor_regs.ebx, 4);
  std::memcpy(vendor + 4, &vendor_regs.edx, 4);
  std::memcpy(vendor + 8, &vendor_regs.ecx, 4);

  char brand[49] = {};
  if (QueryCpuid(0x80000000, 0).eax >= 0x80000004) {
    for (uint32_t i = 0; i < 3; ++i) {
      Cpuid r = QueryCpuid(0x80000002 + i, 0);
      std::memcpy(brand + 16 * i, &r, 16);
    }
  }
  std::string brand_text(absl::StripAsciiWhitespace(brand));
  std::string vendor_text(absl::StripAsciiWhitespace(vendor));
  if (brand_text.empty()) brand_text = "unknown model";
  if (vendor_text.empty()) vendor_text = "unknown vendor";
  return absl::StrCat(brand_text, ", ", vendor_text);
#else
  return "not an x86-64 CPU";
#endif
}

std::string SuggestedCpuTarget() {
  auto has_all = [](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (!Has(*Find(name))) return false;
    }
    return true;
  };
  if (!has_all({"avx2", "fma", "f16c", "bmi", "bmi2"})) return "cpu-x86_64";
  if (!has_all({"avx512f", "avx512bw", "avx512dq", "avx512vl"})) {
    return "cpu-x86_64-avx2";
  }
  return "cpu-x86_64-avx512";
}

}  // namespace kiln::hal::cpu
