"""The vector ISA a benchmark run measures, and the settings that hold
every implementation of the run to it.

`LOOM_MCPU` (read by `loom.runtime.compile` when the caller names no CPU)
picks the CPU Loom compiles for. An AVX2 CPU name on an AVX-512 host
(`LOOM_MCPU=x86-64-v3`) makes the whole run an AVX2 run: Loom builds its
AVX2 tiles, the FMA peak is measured with 256-bit FMAs, and the peers are
capped at AVX2 through their own switches (PyTorch's ATen dispatch and
Inductor, oneDNN, MKL, OpenBLAS, XLA), so that no ratio compares AVX2 code
with AVX-512 code.
"""

import os

# LLVM CPU names whose widest vectors are AVX2 (256-bit, 16 registers).
AVX2_CPUS = {"x86-64-v3", "haswell", "broadwell", "skylake", "alderlake", "raptorlake",
             "znver1", "znver2", "znver3"}
SSE_CPUS = {"x86-64", "x86-64-v2", "nehalem", "westmere", "sandybridge", "ivybridge"}


def mcpu():
    """The CPU Loom compiles for in this run, or None for the host."""
    name = os.environ.get("LOOM_MCPU", "").strip()
    return name if name and name not in ("host", "native") else None


def host_isa():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return "?"
    return "AVX-512" if " avx512f" in flags else "AVX2" if " avx2" in flags else "SSE"


def isa():
    """AVX-512, AVX2 or SSE: what this run's code uses."""
    name = mcpu()
    if name in AVX2_CPUS:
        return "AVX2"
    if name in SSE_CPUS:
        return "SSE"
    return host_isa()


def march():
    """The clang -march of bench/fma_peak.c for this run's ISA."""
    return f"-march={mcpu() or 'native'}"


def capped():
    """Whether the run's ISA is narrower than the host's."""
    order = {"SSE": 0, "AVX2": 1, "AVX-512": 2}
    return order.get(isa(), 2) < order.get(host_isa(), 2)


def cap_peers(env):
    """Holds the peers in a child's environment `env` to this run's ISA."""
    if not capped():
        return env
    if isa() == "AVX2":
        env.update(ATEN_CPU_CAPABILITY="avx2", ONEDNN_MAX_CPU_ISA="AVX2",
                   MKL_ENABLE_INSTRUCTIONS="AVX2", OPENBLAS_CORETYPE="Haswell")
        xla_isa = "AVX2"
    else:
        env.update(ATEN_CPU_CAPABILITY="default", ONEDNN_MAX_CPU_ISA="SSE41",
                   MKL_ENABLE_INSTRUCTIONS="SSE4_2", OPENBLAS_CORETYPE="Nehalem")
        xla_isa = "SSE4_2"
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + f" --xla_cpu_max_isa={xla_isa}").strip()
    env["LOOM_BENCH_INDUCTOR_SIMDLEN"] = "256" if isa() == "AVX2" else "128"
    return env


def hold_inductor():
    """In a peer's child, after `import torch`: Inductor's vector width set
    to the capped ISA's explicitly. ATEN_CPU_CAPABILITY alone makes
    PyTorch 2.15's Inductor pick AVX2 but return NaN or garbage on an
    AVX-512 host (a FIT layer under torch.compile, 2026-12-02); with
    `cpp.simdlen` set as well its output matches eager's."""
    simdlen = os.environ.get("LOOM_BENCH_INDUCTOR_SIMDLEN")
    if simdlen:
        import torch._inductor.config as inductor_config
        inductor_config.cpp.simdlen = int(simdlen)


def cpu_name():
    """The host CPU's model name, as /proc/cpuinfo gives it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def describe():
    """One line for a table's header."""
    how = f"LOOM_MCPU={mcpu()}, peers capped to it" if capped() else "the host's ISA"
    return f"{isa()} on {cpu_name()} ({how})"
