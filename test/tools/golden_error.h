// The goldens' error measures, shared by kiln-golden-check (JIT) and
// kiln-artifact-check (compiled artifacts): max |out - ref| / max |ref|,
// in double, with NaN anywhere counting as an infinite error.
#ifndef KILN_TEST_TOOLS_GOLDEN_ERROR_H_
#define KILN_TEST_TOOLS_GOLDEN_ERROR_H_

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace kiln::testing {

inline double MaxRelativeError(const float* out, const float* ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    const double diff = std::fabs(double(out[i]) - double(ref[i]));
    if (!(diff <= num)) num = diff;  // NaN must win, not be dropped by max
    den = std::max(den, std::fabs(double(ref[i])));
  }
  if (std::isnan(num)) return INFINITY;
  return den > 0 ? num / den : num;
}

// ||out - ref||_2 / ||ref||_2, in double (NaN: infinite): the measure for
// outputs whose every element carries rounding noise (bf16 weights), where
// the maximum over elements says more about the noise than about the model.
inline double RelativeL2Error(const float* out, const float* ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    const double diff = double(out[i]) - double(ref[i]);
    num += diff * diff;
    den += double(ref[i]) * double(ref[i]);
  }
  if (std::isnan(num)) return INFINITY;
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

}  // namespace kiln::testing

#endif  // KILN_TEST_TOOLS_GOLDEN_ERROR_H_
