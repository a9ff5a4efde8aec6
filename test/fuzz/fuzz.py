#!/usr/bin/env python3
"""A structure-aware fuzzer for loom-opt and loom-compile.

Inputs are the .mlir files under test/ (split at `// -----`) and modules
generated here (random chains of loom ops with random shapes, attributes
and return patterns), each put through 0-4 mutations that know MLIR's
surface: integers in shapes and attributes (0, -1, powers of two, 2^31,
2^62, 2^63 - 1, ...), whole tensor types rewritten consistently (so absurd
sizes reach the verifiers and the lowerings), attribute values, element
types, dropped/duplicated/swapped lines, duplicated results, reserved
function names, nested modules and brackets, and a few raw byte edits.

Every input runs through one tool: `loom-opt` (parse and verify only, or
`--loom-cpu-pipeline`) or, for every --compile-every-th input,
`loom-compile` to a shared object. A run fails when the tool
- crashes: killed by a signal, an exit code other than 0 and 1, or a
  crash report (stack dump, "LLVM ERROR", a sanitizer report);
- hangs: runs past --timeout seconds;
- reports an unlocated diagnostic: exit code 1 without a
  `file:line:col: error:` line, or any error/warning line without one.
Failing inputs are written to --out with the command and its stderr.

The same --seed gives the same inputs; `--only I` reruns input I. Ends
with one line: `fuzz: N inputs, C crashes, H hangs, U unlocated ...`,
and exit code 1 when any of those is non-zero.
"""

import argparse
import concurrent.futures
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Sizes a mutation picks from: the edges of every check a verifier or a
# lowering makes, and values that overflow 32 and 64 bits when multiplied.
INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 64, 128, 255, 256,
               1000, 1024, 4095, 4096, 4097, 8192, 65536, 2**20, 2**24,
               2**24 + 1, 2**30, 2**31 - 1, 2**31, 2**32, 2**32 + 1, 2**40,
               2**47, 2**48, 2**62, 2**63 - 1, -1, -2]
SMALL = [1, 2, 3, 4, 5, 8, 16]
FLOATS = ["0.0", "-1.0", "1.0e+30", "-1.0e+30", "1.0e-30", "3.4e+38",
          "0x7FC00000", "0x7F800000", "0xFF800000", "1.0e+300"]
ELEMENT_TYPES = ["f16", "bf16", "f64", "i32", "i1", "index", "complex<f32>",
                 "f8E4M3FN", "vector<4xf32>"]
RESERVED_NAMES = ["loom_manifest", "loom_last_error", "loom_set_num_threads",
                  "loom_thread_count", "malloc", "free", "memcpy", "expf",
                  "_init", "__kmpc_fork_call", "omp_get_num_threads",
                  "_mlir_ciface_f", "sysconf", "aligned_alloc"]
CRASH_MARKERS = ["Stack dump:", "LLVM ERROR", "PLEASE submit a bug report",
                 "UNREACHABLE executed", "Assertion", "AddressSanitizer",
                 "runtime error:", "LeakSanitizer", "terminate called",
                 "std::bad_alloc", "Segmentation fault"]
# The first half of loom-cpu-pipeline: the kernels see every size a
# mutation makes, bufferization and out-params every return pattern.
FRONT_PIPELINE = (
    "builtin.module(loom-verify-symbol-names,func.func(loom-tile-fft-conv),"
    "func.func(loom-tile-attention{fit-groups heaviest-first}),"
    "func.func(loom-tile-monarch{item-rows=64}),"
    "func.func(convert-elementwise-to-linalg,loom-read-only-arguments),"
    "canonicalize,cse,eliminate-empty-tensors,"
    "one-shot-bufferize{bufferize-function-boundaries "
    "function-boundary-type-conversion=identity-layout-map},cse,"
    "convert-attention-tiles-to-vector,convert-monarch-tiles-to-vector,"
    "convert-fft-conv-tiles-to-vector,"
    "func.func(loom-distinct-result-buffers),"
    "buffer-results-to-out-params{modify-public-functions hoist-static-allocs},"
    "buffer-deallocation-pipeline)")
LOCATED = re.compile(r"^[^\s:][^:]*:\d+:\d+: (error|warning): ")
DIAGNOSTIC = re.compile(r"\b(error|warning): ")


# --- the corpus ------------------------------------------------------------

def load_corpus():
    """Every chunk of every .mlir test, comments dropped."""
    chunks = []
    for dirpath, _, files in sorted(os.walk(os.path.join(ROOT, "test"))):
        if os.path.sep + "fuzz" in dirpath:
            continue
        for name in sorted(files):
            if not name.endswith(".mlir"):
                continue
            with open(os.path.join(dirpath, name)) as f:
                text = f.read()
            for chunk in re.split(r"^// -----.*$", text, flags=re.M):
                lines = [l for l in chunk.splitlines() if not l.lstrip().startswith("//")]
                body = "\n".join(lines).strip()
                if body:
                    chunks.append(body + "\n")
    return chunks


# --- generated modules -----------------------------------------------------

def ttype(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


class Gen:
    """A random module: one public function of loom ops (and adds) on its
    arguments, sometimes through a private helper, returning a random
    selection of its values (repeats, arguments and constants included)."""

    def __init__(self, rng):
        self.rng = rng
        self.args, self.lines, self.values = [], [], []
        self.count = 0

    def arg(self, shape):
        name = f"%a{len(self.args)}"
        self.args.append((name, tuple(shape)))
        return name, tuple(shape)

    def emit(self, text, shape):
        self.count += 1
        name = f"%v{self.count}"
        self.lines.append(f"    {name} = {text}")
        self.values.append((name, tuple(shape)))
        return name, tuple(shape)

    def pick(self, shape):
        """An existing value of this shape, or a new argument."""
        same = [v for v in self.values + self.args if v[1] == tuple(shape)]
        if same and self.rng.random() < 0.5:
            return self.rng.choice(same)
        return self.arg(shape)

    def attention(self):
        r = self.rng
        b, h, t, n = r.choice([1, 2]), r.choice([1, 2, 3]), r.choice([1, 2, 3, 4]), r.choice([1, 2, 4, 8, 16])
        d, e = r.choice([1, 2, 4, 8, 16, 17, 32, 64]), r.choice([1, 3, 4, 16, 32])
        q, k, v = self.pick((b, h, t * n, d)), self.pick((b, h, t * n, d)), self.pick((b, h, t * n, e))
        attrs = f"group_size = {n}"
        if r.random() < 0.5:
            attrs += f" lookback = {r.choice([-1, 0, 1, 2])}"
        if r.random() < 0.5:
            attrs += " causal = true"
        if r.random() < 0.3:
            attrs += f" scale = {r.choice(['0.5', '1.0', '2.0e+00', '-1.0'])}"
        mem = ""
        if r.random() < 0.3:
            f = r.choice([0, 1, 2])
            mk, mv = self.pick((b, h, t * f, d)), self.pick((b, h, t * f, e))
            mem = f" memory({mk[0]}, {mv[0]} : {ttype(mk[1])}, {ttype(mv[1])})"
        out = (b, h, t * n, e)
        self.emit(f"loom.grouped_attention {q[0]}, {k[0]}, {v[0]}{mem} {attrs} : "
                  f"{ttype(q[1])}, {ttype(k[1])}, {ttype(v[1])} -> {ttype(out)}", out)

    def route(self):
        r = self.rng
        b, h, t = r.choice([1, 2]), r.choice([1, 2]), r.choice([1, 2, 4])
        nq, nk = r.choice([1, 2, 4, 8]), r.choice([1, 2, 4, 8])
        d, e = r.choice([1, 4, 8, 16, 33]), r.choice([1, 4, 16])
        q, k, v = self.pick((b, h, t * nq, d)), self.pick((b, h, t * nk, d)), self.pick((b, h, t * nk, e))
        attrs = f"groups = {t}"
        if r.random() < 0.5:
            attrs += f" shift = {r.choice([0, 1, 2, 5])}"
        out = (b, h, t * nq, e)
        self.emit(f"loom.latent_route {q[0]}, {k[0]}, {v[0]} {attrs} : "
                  f"{ttype(q[1])}, {ttype(k[1])}, {ttype(v[1])} -> {ttype(out)}", out)

    def lead(self):
        return tuple(self.rng.choice(SMALL) for _ in range(self.rng.choice([0, 1, 1, 2])))

    def blockdiag(self):
        r = self.rng
        k, q, p = r.choice([1, 2, 3, 4, 8]), r.choice([1, 2, 4, 16, 17, 32]), r.choice([1, 2, 4, 16, 17])
        lead = self.lead()
        x, w = self.pick(lead + (k * p,)), self.pick((k, q, p))
        out = lead + (k * q,)
        self.emit(f"loom.blockdiag_matmul {x[0]}, {w[0]} : {ttype(x[1])}, {ttype(w[1])} -> {ttype(out)}", out)

    def monarch(self):
        r = self.rng
        k, q, p = r.choice([1, 2, 4, 8]), r.choice([1, 2, 4, 16]), r.choice([1, 2, 4, 16])
        kq = k * q
        l = r.choice([d for d in (1, 2, 4, 8, 16, 32) if kq % d == 0])
        s = r.choice([1, 2, 4, 16, 17])
        lead = self.lead()
        x, w1, w2 = self.pick(lead + (k * p,)), self.pick((k, q, p)), self.pick((l, s, kq // l))
        out = lead + (s * l,)
        self.emit(f"loom.monarch {x[0]}, {w1[0]}, {w2[0]} : {ttype(x[1])}, {ttype(w1[1])}, "
                  f"{ttype(w2[1])} -> {ttype(out)}", out)

    def fft(self):
        r = self.rng
        n, c = r.choice([16, 32, 64, 256]), r.choice([1, 2, 3])
        lead = self.lead()
        u, kern = self.pick(lead + (c, n)), self.pick((c, n))
        attrs = " causal = false" if r.random() < 0.4 else ""
        self.emit(f"loom.fft_conv {u[0]}, {kern[0]}{attrs} : {ttype(u[1])}, {ttype(kern[1])} "
                  f"-> {ttype(u[1])}", u[1])

    def add(self):
        if not self.values:
            return
        a = self.rng.choice(self.values)
        b = self.pick(a[1])
        op = self.rng.choice(["arith.addf", "arith.mulf", "arith.subf"])
        self.emit(f"{op} {a[0]}, {b[0]} : {ttype(a[1])}", a[1])

    def module(self):
        r = self.rng
        for _ in range(r.choice([1, 1, 2, 3, 4])):
            r.choice([self.attention, self.route, self.blockdiag, self.monarch,
                      self.fft, self.add])()
        if not self.values:
            self.attention()
        results = [r.choice(self.values) for _ in range(r.choice([1, 1, 2, 3]))]
        if r.random() < 0.2:
            results.append(r.choice(self.args))
        if r.random() < 0.15:
            shape = r.choice(self.values)[1]
            self.lines.append(f"    %cst = arith.constant dense<1.5> : {ttype(shape)}")
            results += [("%cst", shape)] * r.choice([1, 2])
        r.shuffle(results)
        args = ", ".join(f"{n}: {ttype(s)}" for n, s in self.args)
        types = ", ".join(ttype(s) for _, s in results)
        names = ", ".join(n for n, _ in results)
        body = "\n".join(self.lines)
        fn = r.choice(["f", "forward", "layer_0"])
        if r.random() < 0.2:
            # The body as a private helper, called (twice) by the public one.
            argtypes = ", ".join(ttype(s) for _, s in self.args)
            anames = ", ".join(n for n, _ in self.args)
            calls = r.choice([1, 2])
            call_lines = "\n".join(
                f"    %r{i}:{len(results)} = func.call @helper({anames}) : ({argtypes}) -> ({types})"
                if len(results) > 1 else
                f"    %r{i} = func.call @helper({anames}) : ({argtypes}) -> ({types})"
                for i in range(calls))
            ret = ", ".join(f"%r{calls - 1}#{i}" if len(results) > 1 else f"%r{calls - 1}"
                            for i in range(len(results)))
            return (f"func.func private @helper({args}) -> ({types}) {{\n{body}\n"
                    f"    return {names} : {types}\n}}\n"
                    f"func.func @{fn}({args}) -> ({types}) {{\n{call_lines}\n"
                    f"    return {ret} : {types}\n}}\n")
        return (f"func.func @{fn}({args}) -> ({types}) {{\n{body}\n"
                f"    return {names} : {types}\n}}\n")


# --- mutations -------------------------------------------------------------

def interesting_int(rng):
    return rng.choice(INTERESTING) if rng.random() < 0.7 else rng.randint(0, 300)


def mutate_integer(text, rng):
    """One integer literal (a dimension, an attribute, a constant) changed."""
    spots = [m for m in re.finditer(r"(?<![\w.#%@])-?\d+(?![\w.])", text)]
    if not spots:
        return text
    m = rng.choice(spots)
    return text[:m.start()] + str(interesting_int(rng)) + text[m.end():]


def mutate_tensor_type(text, rng):
    """Every occurrence of one tensor type gets one dimension changed, so the
    module stays consistent and reaches the verifiers and lowerings."""
    types = sorted(set(re.findall(r"tensor<[0-9x?]*x?f32>", text)))
    if not types:
        return text
    old = rng.choice(types)
    dims = old[len("tensor<"):-len("f32>")].rstrip("x").split("x")
    if dims == [""]:
        return text
    i = rng.randrange(len(dims))
    dims[i] = str(interesting_int(rng)) if rng.random() < 0.9 else "?"
    return text.replace(old, "tensor<" + "x".join(dims) + "xf32>")


def mutate_attribute(text, rng):
    spots = list(re.finditer(r"\b(group_size|lookback|groups|shift)\s*=\s*-?\d+", text))
    spots += list(re.finditer(r"\bscale\s*=\s*[-+0-9.e]+(?::\s*f32)?", text))
    spots += list(re.finditer(r"\bcausal\s*=\s*(true|false)", text))
    if not spots:
        return text
    m = rng.choice(spots)
    key = m.group(0).split("=")[0].strip()
    if key == "scale":
        value = rng.choice(FLOATS)
    elif key == "causal":
        value = rng.choice(["true", "false"])
    else:
        value = str(interesting_int(rng))
    return text[:m.start()] + f"{key} = {value}" + text[m.end():]


def mutate_element_type(text, rng):
    if "f32" not in text:
        return text
    new = rng.choice(ELEMENT_TYPES)
    spots = [m.start() for m in re.finditer(r"f32", text)]
    if rng.random() < 0.5:
        return text.replace("f32", new)
    at = rng.choice(spots)
    return text[:at] + new + text[at + 3:]


def mutate_lines(text, rng):
    lines = text.splitlines()
    if len(lines) < 2:
        return text
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    kind = rng.choice(["drop", "dup", "swap"])
    if kind == "drop":
        del lines[i]
    elif kind == "dup":
        lines.insert(j, lines[i])
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines) + "\n"


def mutate_return(text, rng):
    """`return %x : T` -> `return %x, %x : T, T` with the signature fixed."""
    m = re.search(r"func\.func (?:public )?@(\w+)\(([^)]*)\) -> \(?([^{]*?)\)? \{", text)
    r = re.search(r"return (%[\w#]+) : (tensor<[^>]*>)\s*$", text, flags=re.M)
    if not m or not r:
        return text
    name, ty = r.group(1), r.group(2)
    n = rng.choice([2, 3])
    text = text[:r.start()] + f"return {', '.join([name] * n)} : {', '.join([ty] * n)}" + text[r.end():]
    sig = m.group(0)
    return text.replace(sig, sig[:sig.index("->")] + f"-> ({', '.join([ty] * n)}) {{", 1)


def mutate_name(text, rng):
    names = re.findall(r"func\.func (?:private )?@([\w.$]+)", text)
    if not names:
        return text
    old = rng.choice(names)
    new = rng.choice(RESERVED_NAMES + ['"two words"', '"a.b"', "f", "_x", "main"])
    return re.sub(r"@" + re.escape(old) + r"\b", "@" + new, text)


def mutate_nesting(text, rng):
    r = rng.random()
    if r < 0.6:
        depth = rng.choice([1, 2, 3, 10])
        return "module {\n" * depth + text + "}\n" * depth
    if r < 0.8:
        depth = rng.choice([100, 1000, 5000, 20000])
        return "module {\n" * depth + text + "}\n" * depth
    # A deeply nested attribute on a function.
    depth = rng.choice([10, 1000, 8000, 50000])
    attr = "[" * depth + "1" + "]" * depth
    return re.sub(r"(func\.func [^{]*?)(\{)", lambda m: m.group(1) + f"attributes {{deep = {attr}}} {{", text, count=1)


def mutate_bytes(text, rng):
    if not text:
        return text
    i = rng.randrange(len(text))
    kind = rng.choice(["delete", "insert", "truncate"])
    if kind == "delete":
        return text[:i] + text[i + rng.randint(1, 8):]
    if kind == "insert":
        return text[:i] + rng.choice(list("{}()<>[],:=%@#x0-\"")) + text[i:]
    return text[:i]


def mutate_splice(text, rng, corpus):
    donor = rng.choice(corpus).splitlines()
    lines = text.splitlines()
    if not donor or not lines:
        return text
    lines.insert(rng.randrange(len(lines) + 1), rng.choice(donor))
    return "\n".join(lines) + "\n"


MUTATIONS = [(mutate_integer, 5), (mutate_tensor_type, 6), (mutate_attribute, 4),
             (mutate_element_type, 2), (mutate_lines, 2), (mutate_return, 2),
             (mutate_name, 1), (mutate_nesting, 1), (mutate_bytes, 1)]


def make_input(seed, index, corpus):
    rng = random.Random(seed * 1_000_003 + index)
    text = Gen(rng).module() if rng.random() < 0.5 else rng.choice(corpus)
    weights = [w for _, w in MUTATIONS]
    for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 2, 3])):
        if rng.random() < 0.05:
            text = mutate_splice(text, rng, corpus)
        else:
            fn = rng.choices([m for m, _ in MUTATIONS], weights)[0]
            text = fn(text, rng)
    return text, rng


# --- running ---------------------------------------------------------------

def limit_memory(gib):
    def apply():
        if gib:
            limit = gib << 30
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def classify(rc, stderr, timed_out):
    if timed_out:
        return "hang"
    if rc < 0 or rc not in (0, 1) or any(m in stderr for m in CRASH_MARKERS):
        return "crash"
    lines = [l for l in stderr.splitlines() if DIAGNOSTIC.search(l)]
    # Source excerpts under a located message repeat input lines; the
    # mutations never write "error:" into an input.
    if any(not LOCATED.match(l) for l in lines):
        return "unlocated"
    if rc == 1 and not lines:
        return "unlocated"
    return "ok"


def pick_mode(args, index, rng):
    """compile, or one of loom-opt's: verify (parse and verify, a few
    milliseconds), front (the kernels, bufferization and out-params, a few
    tenths of a second) or full (the whole pipeline, about a second)."""
    if args.compile_every and index % args.compile_every == 0:
        return "compile"
    return rng.choices(["verify", "front", "full"], args.weights)[0]


def run_tool(args, cmd):
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=args.timeout,
                              preexec_fn=limit_memory(args.memory_gib))
        return proc.returncode, proc.stderr.decode(errors="replace"), False
    except subprocess.TimeoutExpired as e:
        return None, (e.stderr or b"").decode(errors="replace"), True


def run_batch(args, batch, workdir):
    """Parses and verifies many inputs in one loom-opt (-split-input-file);
    when that is not clean, or an input's nesting hid the others, each
    input runs alone."""
    path = os.path.join(workdir, f"batch{batch[0][0]}.mlir")
    with open(path, "w") as f:
        f.write("\n// -----\n".join(text for _, text, _ in batch))
    rc, stderr, timed_out = run_tool(args, [os.path.join(args.bin, "loom-opt"), path,
                                            "-split-input-file", "-o", os.devnull])
    os.unlink(path)
    if classify(rc, stderr, timed_out) == "ok" and "nesting deeper than" not in stderr:
        return [(i, None, "ok", None, "", 0.0) for i, _, _ in batch]
    return [run_one(args, i, text, "verify", workdir) for i, text, _ in batch]


def run_one(args, index, text, mode, workdir):
    path = os.path.join(workdir, f"input{index}.mlir")
    with open(path, "w") as f:
        f.write(text)
    compile_run = mode == "compile"
    if compile_run:
        out = os.path.join(workdir, f"out{index}.so")
        cmd = [os.path.join(args.bin, "loom-compile"), path, "-o", out]
    else:
        extra = {"verify": [], "front": ["--pass-pipeline=" + FRONT_PIPELINE],
                 "full": ["--loom-cpu-pipeline"]}[mode]
        cmd = [os.path.join(args.bin, "loom-opt"), path] + extra + ["-o", os.devnull]
    start = time.monotonic()
    rc, stderr, timed_out = run_tool(args, cmd)
    seconds = time.monotonic() - start
    verdict = classify(rc, stderr, timed_out)
    if compile_run:
        for p in (out,):
            if os.path.exists(p):
                os.unlink(p)
    os.unlink(path)
    return index, cmd, verdict, rc, stderr, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--start", type=int, default=0, help="index of the first input")
    ap.add_argument("--only", type=int, help="run input I alone and print it")
    ap.add_argument("--compile-every", type=int, default=10,
                    help="every K-th input goes through loom-compile (0: never)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per input")
    ap.add_argument("--memory-gib", type=int, default=8,
                    help="address-space limit per run (0: none, e.g. under ASan)")
    ap.add_argument("--weights", default="35,50,15",
                    help="how often loom-opt only parses and verifies, runs the front of "
                         "the pipeline, or runs all of it")
    ap.add_argument("--batch", type=int, default=1,
                    help="parse and verify this many inputs per loom-opt "
                         "(-split-input-file); a batch that is not clean reruns each")
    ap.add_argument("--progress", type=int, default=0,
                    help="print the counts every this many inputs")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--out", default=os.path.join(ROOT, "build", "fuzz-failures"))
    ap.add_argument("--dump", help="write every input to this directory too")
    ap.add_argument("--junit", help="write the run as one JUnit test case to this file")
    args = ap.parse_args()
    args.weights = [float(w) for w in args.weights.split(",")]

    corpus = load_corpus()
    indices = [args.only] if args.only is not None else range(args.start, args.start + args.count)
    workdir = tempfile.mkdtemp(prefix="loom-fuzz-")
    counts = {"ok": 0, "crash": 0, "hang": 0, "unlocated": 0}
    accepted = 0
    failures = []
    slowest = (0.0, None)
    start = time.monotonic()
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures, batch = [], []
            for i in indices:
                text, rng = make_input(args.seed, i, corpus)
                mode = pick_mode(args, i, rng)
                if args.only is not None:
                    sys.stdout.write(text)
                if args.dump:
                    os.makedirs(args.dump, exist_ok=True)
                    with open(os.path.join(args.dump, f"{i}.mlir"), "w") as f:
                        f.write(text)
                if mode == "verify" and args.batch > 1:
                    batch.append((i, text, mode))
                    if len(batch) == args.batch:
                        futures.append(pool.submit(run_batch, args, batch, workdir))
                        batch = []
                else:
                    futures.append(pool.submit(lambda *a: [run_one(*a)], args, i, text,
                                               mode, workdir))
            if batch:
                futures.append(pool.submit(run_batch, args, batch, workdir))
            results = (r for fut in concurrent.futures.as_completed(futures)
                       for r in fut.result())
            for i, cmd, verdict, rc, stderr, seconds in results:
                counts[verdict] += 1
                accepted += rc == 0
                done = sum(counts.values())
                if args.progress and done % args.progress == 0:
                    print(f"fuzz: {done} inputs so far: {counts['crash']} crashes, "
                          f"{counts['hang']} hangs, {counts['unlocated']} unlocated, "
                          f"{accepted} accepted ({time.monotonic() - start:.0f} s)", flush=True)
                slowest = max(slowest, (seconds, i))
                if verdict != "ok":
                    text, _ = make_input(args.seed, i, corpus)
                    os.makedirs(args.out, exist_ok=True)
                    base = os.path.join(args.out, f"seed{args.seed}-{i}-{verdict}")
                    with open(base + ".mlir", "w") as f:
                        f.write(text)
                    with open(base + ".txt", "w") as f:
                        f.write(" ".join(cmd) + f"\nexit code: {rc}\n\n" + stderr)
                    first = next((l for l in stderr.splitlines() if l.strip()), "")
                    failures.append(f"input {i}: {verdict}: {base}.mlir")
                    print(f"fuzz: input {i}: {verdict} (exit {rc}): {first[:200]}\n"
                          f"      replay: {sys.argv[0]} --seed {args.seed} --only {i}; "
                          f"saved as {base}.mlir", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total = sum(counts.values())
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"fuzz: {total} inputs, {counts['crash']} crashes, {counts['hang']} hangs, "
          f"{counts['unlocated']} unlocated; {accepted} accepted alone (seed {args.seed}, "
          f"{time.monotonic() - start:.0f} s, {cpu:.0f} CPU s, slowest input {slowest[1]}: "
          f"{slowest[0]:.1f} s)")
    failed = counts["crash"] + counts["hang"] + counts["unlocated"]
    if args.junit:
        write_junit(args.junit, f"seed {args.seed}, {total} inputs", failures)
    return 1 if failed else 0


def write_junit(path, name, failures):
    from xml.sax.saxutils import quoteattr, escape
    case = f'<testcase classname="fuzz" name={quoteattr(name)}'
    if failures:
        case += f'><failure message="{len(failures)} failing inputs">' + escape(
            "\n".join(failures)) + "</failure></testcase>"
    else:
        case += "/>"
    with open(path, "w") as f:
        f.write(f'<testsuite name="fuzz" tests="1" failures="{int(bool(failures))}">'
                f"{case}</testsuite>\n")


if __name__ == "__main__":
    sys.exit(main())
