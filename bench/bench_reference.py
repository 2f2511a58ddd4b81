#!/usr/bin/env python3
"""The reference half of issue 4's benchmark: the medium FLUX transformer's denoise
step (one FluxTransformer2DModel.forward) run by diffusers / PyTorch on the CPU in
float32, timed, with its analytic FLOP count, achieved GFLOP/s and peak RSS.

    ~/.venvs/kiln-ref/bin/python bench/bench_reference.py [--threads 2] [--warmup 2]
        [--runs 7] [--ceiling-json build/bench/gemm_ceiling.*.json | --ceiling GFLOPS]

Model and inputs come from bench/make_medium_flux.py. Human-readable lines first; the
last line of stdout is one JSON object (for machine comparison with Kiln's numbers).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import torch  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
# One definition of "the transformer called on a case" for goldens and bench.
sys.path.insert(0, str(REPO / "test" / "goldens"))
from generator.cases_transformer import flux_forward  # noqa: E402

DEFAULT_MODEL = REPO / "build" / "bench" / "medium-flux"
DEFAULT_CASE = REPO / "build" / "bench" / "cases" / "transformer" / "t2i_32x32.safetensors"


# ----------------------------------------------------------------------------
# Analytic FLOPs of one FluxTransformer2DModel.forward (diffusers 0.42.1 layout).
#
# Only matrix products are counted, at 2 FLOP per multiply-add:
#   every nn.Linear:   2 * M * K * N   with M = the rows it sees (B * tokens, or B
#                      for the embedders / AdaLN modulations), K = in, N = out;
#   every attention:   2 * 2 * B * H * S * S * Dh   (Q K^T and P V) over the joint
#                      sequence S = S_txt + S_img (both block kinds attend jointly).
# Not counted: biases, norms, RoPE, GELU, softmax, gates, residuals (O(S * D) each).
#
# Notation: D = H * Dh hidden, F = mlp_ratio * D = 4D, E = 256 sinusoid channels,
# J = joint_attention_dim, P = pooled_projection_dim, C = in_channels (= out).
#   embedders   x_embedder            B*S_img * C * D
#               context_embedder      B*S_txt * J * D
#               timestep / guidance   B * (E*D + D*D) each
#               text (pooled)         B * (P*D + D*D)
#   double block (x num_layers)
#               norm1, norm1_context  B * D * 6D each
#               q,k,v,out  (image)    4 * B*S_img * D * D
#               add_q,k,v, to_add_out 4 * B*S_txt * D * D
#               ff, ff_context        B*S_img * 2*D*F,  B*S_txt * 2*D*F
#               attention             2 * B * H * S * S * Dh  (x2 FLOP)
#   single block (x num_single_layers)
#               norm.linear           B * D * 3D
#               q,k,v                 3 * B*S * D * D
#               proj_mlp              B*S * D * F
#               proj_out              B*S * (D + F) * D
#               attention             as above
#   final       norm_out.linear       B * D * 2D
#               proj_out              B*S_img * D * C
# Each product term above is multiplied by 2 (FLOP per multiply-add).
# bench_reference.py checks this total against torch.utils.flop_counter on one run.
# ----------------------------------------------------------------------------
def step_flops(cfg: dict, B: int, S_img: int, S_txt: int) -> dict[str, float]:
    H, Dh = cfg["num_attention_heads"], cfg["attention_head_dim"]
    D = H * Dh
    F = 4 * D
    E = 256
    J, P = cfg["joint_attention_dim"], cfg["pooled_projection_dim"]
    C_in = cfg["in_channels"]
    C_out = cfg.get("out_channels") or C_in
    p = cfg.get("patch_size", 1)
    S = S_img + S_txt
    L2, L1 = cfg["num_layers"], cfg["num_single_layers"]
    mm = lambda m, k, n: 2.0 * m * k * n  # noqa: E731

    emb = mm(B * S_img, C_in, D) + mm(B * S_txt, J, D)
    emb += mm(B, E, D) + mm(B, D, D)  # timestep embedder
    if cfg.get("guidance_embeds"):
        emb += mm(B, E, D) + mm(B, D, D)
    emb += mm(B, P, D) + mm(B, D, D)  # pooled text embedder
    attn_one = 2 * (2.0 * B * H * S * S * Dh)  # Q K^T + P V
    modulation = L2 * 2 * mm(B, D, 6 * D) + L1 * mm(B, D, 3 * D) + mm(B, D, 2 * D)
    double_lin = L2 * (4 * mm(B * S_img, D, D) + 4 * mm(B * S_txt, D, D)
                       + mm(B * S_img, D, F) + mm(B * S_img, F, D)
                       + mm(B * S_txt, D, F) + mm(B * S_txt, F, D))
    single_lin = L1 * (3 * mm(B * S, D, D) + mm(B * S, D, F) + mm(B * S, D + F, D))
    final = mm(B * S_img, D, p * p * C_out)
    out = {
        "embedders": emb,
        "modulation": modulation,
        "double_linears": double_lin,
        "single_linears": single_lin,
        "final_linear": final,
        "attention": (L2 + L1) * attn_one,
    }
    out["linears"] = emb + modulation + double_lin + single_lin + final
    out["total"] = out["linears"] + out["attention"]
    return out


# ----------------------------------------------------------------------------
# Measuring helpers.
# ----------------------------------------------------------------------------
def proc_status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Linux >= 4.0: writing 5 to clear_refs resets VmHWM (the peak RSS) to the
    current RSS, so the peak of the denoise runs can be read apart from loading."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def machine_busy_s() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    v = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    hz = os.sysconf("SC_CLK_TCK")
    # user nice system idle iowait irq softirq steal ...
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / hz, v[7] / hz


def own_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def read_ceiling(path: str) -> dict | None:
    """The last gemm_ceiling JSON object in a file (one object per line)."""
    found = None
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line.startswith("{"):
            obj = json.loads(line)
            if obj.get("bench") == "gemm_ceiling":
                found = obj
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(DEFAULT_MODEL), help="diffusers folder (make_medium_flux.py)")
    ap.add_argument("--case", default=str(DEFAULT_CASE), help="input case .safetensors")
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32",
                    help="the model's weights and activations (default float32); with bfloat16 the "
                         "case's float inputs but the position ids are cast, and the output is "
                         "compared with the case's f32 out.sample by relative L2 error")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs first (default 2)")
    ap.add_argument("--runs", type=int, default=7, help="timed runs (default 7)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--ceiling", type=float, help="fp32 GEMM ceiling in GFLOP/s, for the %% of ceiling")
    g.add_argument("--ceiling-json", nargs="+", metavar="FILE",
                   help="files with gemm_ceiling's JSON line (last one per file); the highest ceiling is used")
    ap.add_argument("--max-other-cores", type=float, default=0.1,
                    help="a timed run during which other processes used more CPU than this (in cores) "
                         "is disturbed and does not count (default 0.1)")
    ap.add_argument("--max-runs", type=int, default=0,
                    help="stop after this many timed runs in all, disturbed or not (default 3 * --runs)")
    ap.add_argument("--profile", action="store_true",
                    help="after the timed runs, run one more step under torch.profiler and print where "
                         "the time goes (by op)")
    ap.add_argument("--no-flop-check", action="store_true",
                    help="skip the torch.utils.flop_counter check of the analytic count")
    args = ap.parse_args()
    if args.warmup < 1 or args.runs < 1:
        ap.error("--warmup and --runs must be at least 1")

    torch.set_num_threads(args.threads)

    import diffusers
    from diffusers import FluxTransformer2DModel
    from diffusers.utils import logging as dlogging
    from safetensors.torch import load_file

    dlogging.set_verbosity_error()
    t0 = time.perf_counter()
    dtype = getattr(torch, args.dtype)
    model = FluxTransformer2DModel.from_pretrained(
        args.model, subfolder="transformer", torch_dtype=dtype, low_cpu_mem_usage=False
    ).eval()
    load_s = time.perf_counter() - t0
    case = load_file(args.case)
    if dtype != torch.float32:
        # The position ids stay f32: diffusers computes RoPE from them in f64.
        case = {k: (v.to(dtype) if k.startswith("in.") and v.is_floating_point()
                    and not k.endswith("_ids") else v) for k, v in case.items()}
    cfg = dict(model.config)
    B, S_img, _ = case["in.hidden_states"].shape
    S_txt = case["in.encoder_hidden_states"].shape[1]
    n_params = sum(p.numel() for p in model.parameters())
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    weight_files = sorted((Path(args.model) / "transformer").glob("*.safetensors"))
    weight_file_bytes = sum(f.stat().st_size for f in weight_files)
    flops = step_flops(cfg, B, S_img, S_txt)

    def step():
        with torch.inference_mode():
            return flux_forward(model, case)

    rss_after_load = proc_status_kb("VmRSS")
    hwm_reset = reset_peak_rss()

    # Warm-up. The first run also checks the output against the case's reference
    # (made single-threaded by make_medium_flux.py) and, under flop_counter, the
    # analytic FLOP count (a dispatch mode: untimed, that is why it is a warm-up).
    counted = None
    for i in range(args.warmup):
        if i == 0 and not args.no_flop_check:
            from torch.utils.flop_counter import FlopCounterMode

            with FlopCounterMode(display=False) as fc:
                out = step()
            counted = float(fc.get_total_flops())
        else:
            out = step()
        if i == 0 and "out.sample" in case:
            ref = case["out.sample"]
            out = out.float()
            max_abs = float((out - ref).abs().max())
            rel_l2 = float((out - ref).norm() / ref.norm())
            tol_ok = bool(((out - ref).abs() <= 1e-3 + 1e-3 * ref.abs()).all())
    if counted is not None and abs(counted - flops["total"]) > 1e-9 * flops["total"]:
        print(f"ERROR: analytic FLOPs {flops['total']:.6e} != flop_counter {counted:.6e}", file=sys.stderr)
        return 1

    # Timed runs. The machine is small and shared: a run during which other
    # processes used more than --max-other-cores (read from /proc/stat) is
    # "disturbed" and does not count; runs go on until --runs undisturbed ones are
    # timed, or --max-runs in all (then the statistics use every run, with a warning).
    max_runs = args.max_runs or 3 * args.runs
    all_runs: list[dict] = []
    clean: list[float] = []
    busy0, steal0 = machine_busy_s()
    own0, wall0 = own_cpu_s(), time.perf_counter()
    while len(clean) < args.runs and len(all_runs) < max_runs:
        b0, _ = machine_busy_s()
        o0, t = own_cpu_s(), time.perf_counter()
        step()
        dt = time.perf_counter() - t
        o = own_cpu_s() - o0
        b1, _ = machine_busy_s()
        other = max(0.0, (b1 - b0) - o) / dt
        all_runs.append({"s": round(dt, 6), "other_cores": round(other, 3), "own_cores": round(o / dt, 3)})
        # /proc/stat counts in 10 ms ticks: too coarse to judge runs much shorter than 0.5 s.
        if other <= args.max_other_cores or dt < 0.5:
            clean.append(dt)
    wall = time.perf_counter() - wall0
    own = own_cpu_s() - own0
    busy1, steal1 = machine_busy_s()
    other_cores = max(0.0, (busy1 - busy0) - own) / wall
    steal_cores = (steal1 - steal0) / wall
    all_clean = len(clean) >= args.runs
    times = clean if all_clean else [r["s"] for r in all_runs]

    profile = None
    if args.profile:
        from torch.profiler import ProfilerActivity, profile as tprofile

        with tprofile(activities=[ProfilerActivity.CPU]) as prof:
            step()
        events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
        total_us = sum(e.self_cpu_time_total for e in events)
        profile = [{"op": e.key, "calls": e.count, "self_s": round(e.self_cpu_time_total * 1e-6, 4)}
                   for e in events[:15]]

    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # whole process, incl. loading
    peak_rss_steps = proc_status_kb("VmHWM") * 1024 if hwm_reset else None  # since the reset after loading
    med, lo, hi = statistics.median(times), min(times), max(times)
    gflop = flops["total"] * 1e-9
    gflops = gflop / med

    ceiling = None
    ceiling_info = {}
    if args.ceiling is not None:
        ceiling = args.ceiling
    elif args.ceiling_json:
        found = []
        for f in args.ceiling_json:
            c = read_ceiling(f)
            if c is None:
                print(f"ERROR: no gemm_ceiling JSON line in {f}", file=sys.stderr)
                return 1
            found.append(c)
        c = max(found, key=lambda c: c["ceiling_gflops"])
        ceiling = c["ceiling_gflops"]
        ceiling_info = {k: c.get(k) for k in ("corename", "threads", "env", "ceiling_shape", "step_mix_gflops")}

    mib = lambda b: f"{b / 2**20:,.0f} MiB"  # noqa: E731
    print(f"diffusers {diffusers.__version__} / torch {torch.__version__} "
          f"(cpu capability {torch.backends.cpu.get_cpu_capability()}), "
          f"{torch.get_num_threads()} thread(s), "
          f"cpu: {cpu_model()}")
    print(f"model: {args.model}: {n_params:,} parameters, {param_bytes:,} bytes {args.dtype} "
          f"(safetensors files {weight_file_bytes:,} bytes); from_pretrained took {load_s:.2f} s "
          "(the weights stay memory-mapped: the first run pages them in)")
    print(f"case: {args.case}: batch {B}, {S_img} image + {S_txt} text tokens")
    if "out.sample" in case:
        print(f"output vs case out.sample: max |diff| = {max_abs:.2e} "
              f"({'within' if tol_ok else 'OUTSIDE'} 1e-3 + 1e-3*|ref|), rel L2 {rel_l2:.2e} "
              f"({args.dtype})")
    print(f"denoise step: median {med:.3f} s (min {lo:.3f}, max {hi:.3f}, spread "
          f"{100 * (hi - lo) / med:.1f} % of the median; {len(times)} "
          f"{'undisturbed ' if all_clean else ''}runs after {args.warmup} warm-up)")
    print("  runs (s, * = disturbed: other processes > "
          f"{args.max_other_cores} cores): "
          + " ".join(f"{r['s']:.3f}{'*' if r['other_cores'] > args.max_other_cores and r['s'] >= 0.5 else ''}"
                     for r in all_runs))
    parts = ", ".join(f"{k} {flops[k] * 1e-9:.2f}" for k in
                      ("embedders", "modulation", "double_linears", "single_linears", "final_linear", "attention"))
    print(f"analytic: {gflop:.2f} GFLOP per step ({parts})"
          + ("" if counted is None else f"; torch flop_counter agrees ({counted * 1e-9:.2f})"))
    print(f"achieved: {gflops:.1f} GFLOP/s at the median (best run {gflop / lo:.1f})")
    if ceiling is not None:
        print(f"fp32 GEMM ceiling: {ceiling:.1f} GFLOP/s -> diffusers reaches {100 * gflops / ceiling:.0f} % of it"
              + (f" (OpenBLAS kernel {ceiling_info.get('corename')}, env {ceiling_info.get('env')})"
                 if ceiling_info else ""))
    print(f"peak RSS: {mib(peak_rss)} for the whole process (loading included); "
          + (f"{mib(peak_rss_steps)} during the step runs; " if peak_rss_steps else "")
          + f"{mib(rss_after_load * 1024)} after from_pretrained; weights {mib(param_bytes)}")
    if profile:
        print(f"where the time goes (one profiled step, {total_us * 1e-6:.2f} s of self time by op; "
              "the profiler adds overhead):")
        for e in profile:
            print(f"  {e['op']:50s} {e['calls']:5d} calls {e['self_s']:8.3f} s "
                  f"{100 * e['self_s'] / (total_us * 1e-6):5.1f} %")
    print(f"machine during the timed runs: other processes {other_cores:.2f} cores, steal {steal_cores:.2f} "
          f"cores, this process {own / wall:.2f} cores; {len(clean)} of {len(all_runs)} runs undisturbed")
    if not all_clean:
        print(f"WARNING: fewer than {args.runs} undisturbed runs in {len(all_runs)}: the statistics use "
              "every run and are not clean")

    result = {
        "bench": "denoise_step",
        "impl": "diffusers",
        "entry": "denoise",
        "threads": torch.get_num_threads(),
        "cpu": cpu_model(),
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "batch": B,
        "image_tokens": S_img,
        "text_tokens": S_txt,
        "warmup": args.warmup,
        "runs": len(times),
        "clean": all_clean,
        "times_s": [round(t, 6) for t in times],
        "all_runs": all_runs,
        "median_s": round(med, 6),
        "min_s": round(lo, 6),
        "max_s": round(hi, 6),
        "gflop": round(gflop, 4),
        "gflop_breakdown": {k: round(v * 1e-9, 4) for k, v in flops.items()},
        "gflops": round(gflops, 2),
        "ceiling_gflops": ceiling,
        "fraction_of_ceiling": None if ceiling is None else round(gflops / ceiling, 4),
        "ceiling_info": ceiling_info or None,
        "peak_rss_bytes": peak_rss,
        "peak_rss_steps_bytes": peak_rss_steps,
        "rss_after_load_bytes": rss_after_load * 1024 if rss_after_load else None,
        "parameters": n_params,
        "param_bytes": param_bytes,
        "weight_file_bytes": weight_file_bytes,
        "load_s": round(load_s, 3),
        "output_max_abs_diff": max_abs if "out.sample" in case else None,
        "profile": profile,
        "other_cores": round(other_cores, 3),
        "steal_cores": round(steal_cores, 3),
    }
    print(json.dumps(result, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
