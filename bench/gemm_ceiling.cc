// gemm_ceiling: this machine's fp32 GEMM ceiling, measured with OpenBLAS's
// cblas_sgemm (Debian's libopenblas-dev: a benchmark-only dependency, never part
// of Kiln's build, its CMake project or CI).
//
// Build (see bench/README.md):
//   g++ -O2 -std=c++17 bench/gemm_ceiling.cc -o build/bench/gemm_ceiling -lopenblas
// Run:
//   OPENBLAS_NUM_THREADS=2 build/bench/gemm_ceiling [--threads N] [--rounds R]
//                                                   [--round-time S] [--json-only]
//
// It times square 1024^3 and 2048^3 products and the GEMM shapes of the medium
// FLUX denoise step (bench/make_medium_flux.py: hidden 1536, MLP 6144, 1024 image
// + 256 text tokens) in R interleaved rounds (default 5; in each round every
// shape runs for >= S seconds, default 0.25, and >= 2 calls), and reports per
// shape the median / fastest / slowest call over all rounds as GFLOP/s
// (2*M*N*K / time).
//
//   ceiling  = the best per-shape *median* GFLOP/s: "the fp32 GEMM ceiling"
//              that Kiln's step is measured against; its spread is the range
//              of the per-round best (printed, and in the JSON);
//   peak     = the best single call of a shape of at least 1 GFLOP (for
//              reference; noisier);
//   step mix = the step's linear-layer FLOPs / the time these shapes take at
//              their median rates, weighted by how often the step runs each
//              shape (what PyTorch could reach if its linears ran at
//              OpenBLAS's speed and nothing else took time).
//
// The step's linears compute y = x W^T with W stored [N, K] (torch.nn.Linear),
// so those shapes run as RowMajor, A NoTrans, B Trans; the squares run
// NoTrans/NoTrans. Every product is checked at a few entries against a double
// dot product (OpenBLAS with a wrong OPENBLAS_CORETYPE can compute garbage).
//
// OpenBLAS reads OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE when it loads, so to
// measure without them unset both in that command alone:
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 build/bench/gemm_ceiling
// The program prints what it saw and the kernel OpenBLAS picked.
//
// The last line of the output is one JSON object (for machine comparison).

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

// Declared here rather than through <cblas.h>: Debian's cblas.h is an
// alternatives link that may point at the reference (netlib) header, which
// lacks the openblas_* functions. These are the CBLAS / OpenBLAS ABI.
extern "C" {
void cblas_sgemm(int order, int transa, int transb, int m, int n, int k,
                 float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
char *openblas_get_corename(void);
char *openblas_get_config(void);
int openblas_get_num_threads(void);
void openblas_set_num_threads(int);
}
namespace {
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

struct Shape {
  const char *name;  // what it is in the medium step
  int m, n, k;
  bool transB;  // B stored [N, K] (nn.Linear weight) and used transposed
  int stepCount;  // how many times one medium denoise step runs it (0: not in the step)
};

// Medium config: D = 1536, F = 4*D = 6144, 1024 image + 256 text tokens,
// 2 double-stream blocks, 4 single-stream blocks, joint_attention_dim 4096.
const Shape kShapes[] = {
    {"square 1024", 1024, 1024, 1024, false, 0},
    {"square 2048", 2048, 2048, 2048, false, 0},
    {"single q/k/v  (1280x1536x1536)", 1280, 1536, 1536, true, 3 * 4},
    {"single mlp up (1280x6144x1536)", 1280, 6144, 1536, true, 1 * 4},
    {"single out    (1280x1536x7680)", 1280, 1536, 7680, true, 1 * 4},
    {"double img qkvo (1024x1536x1536)", 1024, 1536, 1536, true, 4 * 2},
    {"double img ff up (1024x6144x1536)", 1024, 6144, 1536, true, 1 * 2},
    {"double img ff down (1024x1536x6144)", 1024, 1536, 6144, true, 1 * 2},
    {"double txt qkvo (256x1536x1536)", 256, 1536, 1536, true, 4 * 2},
    {"double txt ff up (256x6144x1536)", 256, 6144, 1536, true, 1 * 2},
    {"double txt ff down (256x1536x6144)", 256, 1536, 6144, true, 1 * 2},
    {"context_embedder (256x1536x4096)", 256, 1536, 4096, true, 1},
    {"x_embedder (1024x1536x64)", 1024, 1536, 64, true, 1},
    {"proj_out (1024x64x1536)", 1024, 64, 1536, true, 1},
};

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Busy and steal time of the whole machine, in seconds (from /proc/stat).
struct CpuStat {
  double busy = 0, steal = 0;
};
CpuStat readProcStat() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  long long v[10] = {0};
  f >> cpu;
  for (long long &x : v) f >> x;
  // user nice system idle iowait irq softirq steal guest guest_nice
  double hz = double(sysconf(_SC_CLK_TCK));
  CpuStat s;
  s.busy = double(v[0] + v[1] + v[2] + v[5] + v[6]) / hz;
  s.steal = double(v[7]) / hz;
  return s;
}
double ownCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

std::string cpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0) {
      size_t p = line.find(':');
      return p == std::string::npos ? line : line.substr(p + 2);
    }
  return "unknown";
}

std::string jsonEscape(const std::string &s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o += c;
  }
  return o;
}
std::string envOr(const char *name) {
  const char *v = std::getenv(name);
  return v ? std::string("\"") + jsonEscape(v) + "\"" : "null";
}

float *allocFloats(size_t n) {
  size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  auto *p = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (!p) {
    std::fprintf(stderr, "out of memory\n");
    std::exit(2);
  }
  return p;
}

// One shape's operands, allocated once and reused by every round.
struct Problem {
  const Shape *s;
  float *a, *b, *c;
  std::vector<std::vector<double>> rounds;  // the timed calls of each round
  std::vector<double> times;                // the calls of the undisturbed rounds
  double maxRelErr = 0;
  double flop() const { return 2.0 * s->m * s->n * double(s->k); }
  void call() const {
    const int ldb = s->transB ? s->k : s->n;  // B is [N, K] when transposed, else [K, N]
    cblas_sgemm(kRowMajor, kNoTrans, s->transB ? kTrans : kNoTrans, s->m, s->n, s->k, 1.f, a,
                s->k, b, ldb, 0.f, c, s->n);
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void setUp(Problem &p, std::mt19937 &rng) {
  const Shape &s = *p.s;
  const int m = s.m, n = s.n, k = s.k;
  p.a = allocFloats(size_t(m) * k);
  p.b = allocFloats(size_t(k) * n);
  p.c = allocFloats(size_t(m) * n);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (size_t i = 0; i < size_t(m) * k; ++i) p.a[i] = dist(rng);
  for (size_t i = 0; i < size_t(k) * n; ++i) p.b[i] = dist(rng);
  std::memset(p.c, 0, sizeof(float) * size_t(m) * n);
  p.call();  // warm-up: first touch, OpenBLAS buffers, thread start

  // Check a few entries against a double-precision dot product.
  const int probes[4][2] = {{0, 0}, {m - 1, n - 1}, {m / 2, n / 3}, {m / 3, n - 1}};
  for (const auto &pr : probes) {
    int i = pr[0], j = pr[1];
    double ref = 0, mag = 0;
    for (int q = 0; q < k; ++q) {
      double bv = s.transB ? p.b[size_t(j) * k + q] : p.b[size_t(q) * n + j];
      ref += double(p.a[size_t(i) * k + q]) * bv;
      mag += std::fabs(double(p.a[size_t(i) * k + q]) * bv);
    }
    p.maxRelErr = std::max(p.maxRelErr, std::fabs(double(p.c[size_t(i) * n + j]) - ref) / mag);
  }
}

// One round of one shape: at least `reps` calls and `minTime` seconds.
void runRound(Problem &p, double minTime, int reps) {
  std::vector<double> t;
  double start = now();
  while (int(t.size()) < reps || (now() - start < minTime && t.size() < 500)) {
    double t0 = now();
    p.call();
    t.push_back(now() - t0);
  }
  p.rounds.push_back(std::move(t));
}

void usage() {
  std::fprintf(stderr,
               "usage: gemm_ceiling [--threads N] [--rounds R] [--round-time S] [--json-only]\n"
               "  --threads N     OpenBLAS threads (default: $OPENBLAS_NUM_THREADS, else 2)\n"
               "  --rounds R      rounds over all shapes, interleaved (default 5)\n"
               "  --round-time S  each shape runs >= S seconds and >= 2 calls per round (default 0.25)\n"
               "  --max-other-cores C  a round during which other processes used more than C\n"
               "                  cores is disturbed and not counted (default 0.1)\n");
}
}  // namespace

int main(int argc, char **argv) {
  int threads = 0;
  double roundTime = 0.25;
  int rounds = 5;
  double maxOther = 0.1;
  bool jsonOnly = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--threads") threads = std::atoi(next());
    else if (a == "--rounds") rounds = std::max(1, std::atoi(next()));
    else if (a == "--round-time") roundTime = std::atof(next());
    else if (a == "--max-other-cores") maxOther = std::atof(next());
    else if (a == "--json-only") jsonOnly = true;
    else {
      usage();
      return a == "--help" || a == "-h" ? 0 : 2;
    }
  }
  if (threads <= 0) {
    const char *e = std::getenv("OPENBLAS_NUM_THREADS");
    threads = e && std::atoi(e) > 0 ? std::atoi(e) : 2;
  }
  openblas_set_num_threads(threads);

  const std::string core = openblas_get_corename();
  const std::string config = openblas_get_config();
  const std::string cpu = cpuModel();
  if (!jsonOnly) {
    std::printf("cpu: %s (%ld online)\n", cpu.c_str(), sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("openblas: %s; kernel (openblas_get_corename): %s; threads: %d\n",
                config.c_str(), core.c_str(), openblas_get_num_threads());
    std::printf("env: OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s OPENBLAS_NUM_THREADS=%s\n",
                std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "(unset)",
                std::getenv("OPENBLAS_L2_SIZE") ? std::getenv("OPENBLAS_L2_SIZE") : "(unset)",
                std::getenv("OPENBLAS_NUM_THREADS") ? std::getenv("OPENBLAS_NUM_THREADS") : "(unset)");
    std::fflush(stdout);
  }

  std::mt19937 rng(20261125);
  std::vector<Problem> problems;
  for (const Shape &s : kShapes) problems.push_back(Problem{&s, nullptr, nullptr, nullptr, {}, {}, 0});
  for (Problem &p : problems) setUp(p, rng);

  // Rounds over all shapes, interleaved, so that a slow spell of the machine
  // touches every shape alike and shows up as the spread between rounds. The
  // machine is small and shared: a round during which other processes used more
  // than --max-other-cores (from /proc/stat) is disturbed and does not count;
  // rounds go on until R undisturbed ones are done or 3R in all (then every
  // round counts, with a warning).
  CpuStat st0 = readProcStat();
  double own0 = ownCpuSeconds(), wall0 = now();
  std::vector<double> roundCeiling;  // best shape of each undisturbed round
  std::vector<int> cleanRounds;
  int done = 0;
  for (; int(cleanRounds.size()) < rounds && done < 3 * rounds; ++done) {
    CpuStat r0 = readProcStat();
    double o0 = ownCpuSeconds(), w0 = now();
    double best = 0;
    for (Problem &p : problems) {
      runRound(p, roundTime, 2);
      best = std::max(best, p.flop() / median(p.rounds.back()) * 1e-9);
    }
    CpuStat r1 = readProcStat();
    double other = std::max(0.0, (r1.busy - r0.busy) - (ownCpuSeconds() - o0)) / (now() - w0);
    bool clean = other <= maxOther;
    if (clean) {
      cleanRounds.push_back(done);
      roundCeiling.push_back(best);
    }
    if (!jsonOnly) {
      std::printf("round %d: best shape %.1f GFLOP/s, other processes %.2f cores%s\n", done + 1, best,
                  other, clean ? "" : " (disturbed)");
      std::fflush(stdout);
    }
  }
  const bool allClean = int(cleanRounds.size()) >= rounds;
  if (!allClean) {
    cleanRounds.clear();
    roundCeiling.clear();
    for (int r = 0; r < done; ++r) {
      cleanRounds.push_back(r);
      double best = 0;
      for (const Problem &p : problems) best = std::max(best, p.flop() / median(p.rounds[r]) * 1e-9);
      roundCeiling.push_back(best);
    }
  }
  for (Problem &p : problems)
    for (int r : cleanRounds) p.times.insert(p.times.end(), p.rounds[r].begin(), p.rounds[r].end());
  CpuStat st1 = readProcStat();
  double wall = now() - wall0, own = ownCpuSeconds() - own0;
  // CPU time other processes used while we ran, in cores (0 = the machine was ours).
  double otherCores = std::max(0.0, (st1.busy - st0.busy) - own) / wall;
  double stealCores = (st1.steal - st0.steal) / wall;

  struct Summary {
    const Problem *p;
    double med, lo, hi, gflops;
  };
  std::vector<Summary> sum;
  for (const Problem &p : problems) {
    double med = median(p.times);
    sum.push_back({&p, med, *std::min_element(p.times.begin(), p.times.end()),
                   *std::max_element(p.times.begin(), p.times.end()), p.flop() / med * 1e-9});
  }
  const Summary *best = &sum[0], *bestPeak = &sum[0];
  double stepFlop = 0, stepTime = 0;
  bool ok = true;
  for (const Summary &x : sum) {
    if (x.gflops > best->gflops) best = &x;
    // Calls under 1 GFLOP take a few ms: too short for a trustworthy single-call peak.
    if (x.p->flop() >= 1e9 && x.p->flop() / x.lo > bestPeak->p->flop() / bestPeak->lo) bestPeak = &x;
    stepFlop += x.p->s->stepCount * x.p->flop();
    stepTime += x.p->s->stepCount * x.med;
    if (!(x.p->maxRelErr < 1e-4)) ok = false;
  }
  const double ceiling = best->gflops;
  const double peak = bestPeak->p->flop() / bestPeak->lo * 1e-9;
  const double mix = stepFlop / stepTime * 1e-9;
  const double rcMin = *std::min_element(roundCeiling.begin(), roundCeiling.end());
  const double rcMax = *std::max_element(roundCeiling.begin(), roundCeiling.end());
  if (!jsonOnly) {
    std::printf("%-38s %6s %9s %8s %8s %8s %5s %8s\n", "shape (M x N x K)", "GFLOP", "median ms",
                "GFLOP/s", "worst/s", "best/s", "calls", "rel.err");
    for (const Summary &x : sum)
      std::printf("%-38s %6.2f %9.2f %8.1f %8.1f %8.1f %5zu %8.1e\n", x.p->s->name,
                  x.p->flop() * 1e-9, x.med * 1e3, x.gflops, x.p->flop() / x.hi * 1e-9,
                  x.p->flop() / x.lo * 1e-9, x.p->times.size(), x.p->maxRelErr);
    std::printf("(GFLOP/s at the median call of all rounds; worst/s, best/s: the slowest and fastest call)\n");
    std::printf("fp32 GEMM ceiling: %.1f GFLOP/s (best per-shape median: %s), %d thread(s), kernel %s;"
                " per-round best %.1f..%.1f\n",
                ceiling, best->p->s->name, threads, core.c_str(), rcMin, rcMax);
    std::printf("peak single call: %.1f GFLOP/s (%s)\n", peak, bestPeak->p->s->name);
    std::printf("step GEMM mix: %.1f GFLOP/s (%.1f GFLOP of the medium step's linears in %.3f s)\n",
                mix, stepFlop * 1e-9, stepTime);
    std::printf("machine during the run: other processes %.2f cores, steal %.2f cores, "
                "this process %.2f cores, %.1f s; %zu undisturbed round(s) of %d\n", otherCores,
                stealCores, own / wall, wall, allClean ? cleanRounds.size() : size_t(0), done);
    if (!allClean)
      std::printf("WARNING: fewer than %d undisturbed rounds in %d: the numbers use every round "
                  "and are not clean\n", rounds, done);
    if (!ok) std::printf("ERROR: sgemm results are wrong (relative error >= 1e-4)\n");
  }
  std::printf("{\"bench\":\"gemm_ceiling\",\"blas\":\"openblas\",\"openblas_config\":\"%s\","
              "\"corename\":\"%s\",\"threads\":%d,\"cpu\":\"%s\","
              "\"env\":{\"OPENBLAS_CORETYPE\":%s,\"OPENBLAS_L2_SIZE\":%s},"
              "\"ceiling_gflops\":%.2f,\"ceiling_shape\":\"%s\",\"round_ceiling_min\":%.2f,"
              "\"round_ceiling_max\":%.2f,\"rounds\":%zu,\"rounds_total\":%d,\"clean\":%s,"
              "\"peak_gflops\":%.2f,"
              "\"step_mix_gflops\":%.2f,\"other_cores\":%.3f,\"steal_cores\":%.3f,\"wall_s\":%.2f,"
              "\"correct\":%s,\"shapes\":[",
              jsonEscape(config).c_str(), jsonEscape(core).c_str(), threads,
              jsonEscape(cpu).c_str(), envOr("OPENBLAS_CORETYPE").c_str(),
              envOr("OPENBLAS_L2_SIZE").c_str(), ceiling, best->p->s->name, rcMin, rcMax,
              cleanRounds.size(), done, allClean ? "true" : "false", peak, mix, otherCores, stealCores, wall, ok ? "true" : "false");
  for (size_t i = 0; i < sum.size(); ++i) {
    const Summary &x = sum[i];
    const Shape &s = *x.p->s;
    std::printf("%s{\"name\":\"%s\",\"m\":%d,\"n\":%d,\"k\":%d,\"trans_b\":%s,\"step_count\":%d,"
                "\"median_s\":%.6g,\"min_s\":%.6g,\"max_s\":%.6g,\"calls\":%zu,\"gflops\":%.2f}",
                i ? "," : "", s.name, s.m, s.n, s.k, s.transB ? "true" : "false", s.stepCount,
                x.med, x.lo, x.hi, x.p->times.size(), x.gflops);
  }
  std::printf("]}\n");
  for (Problem &p : problems) {
    std::free(p.a);
    std::free(p.b);
    std::free(p.c);
  }
  return ok ? 0 : 1;
}
