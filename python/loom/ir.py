"""Builds loom module text: a function is a list of ops on named tensors.

    fb = FunctionBuilder("f")
    q = fb.arg((1, 8, 256, 64), name="q")
    o = fb.grouped_attention(q, q, q, group_size=64, causal=True)
    fb.ret(o)
    text = module(fb)

Besides the loom ops it emits the few linalg / tensor forms the model
frontend needs (docs/frontend.md lists them): `linalg.fill`, `linalg.matmul`
with the weight read transposed through its indexing map, `linalg.generic`
for elementwise ops and reductions, `linalg.transpose`, and
`tensor.{empty, collapse_shape, expand_shape, extract_slice, insert_slice}`.
Every tensor is f32 and statically shaped.
"""


# erf is emitted as `math.erf`, which loom-compile lowers to a rational
# function (13 FMAs and a division on vectors; 3.7e-7 from erf in f32);
# False emits the Abramowitz-Stegun form in arith/math ops instead, about
# three times the work per element. docs/frontend.md.
NATIVE_ERF = True


def tensor_type(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


def _dims(rank):
    return ", ".join(f"d{i}" for i in range(rank))


def affine_map(rank, exprs):
    """`affine_map<(d0, ..) -> (exprs)>`; exprs are strings over d0..d{rank-1}
    (or ints, for constant indices)."""
    return f"affine_map<({_dims(rank)}) -> ({', '.join(str(e) for e in exprs)})>"


def identity(rank):
    return tuple(f"d{i}" for i in range(rank))


def _float(value):
    """An f32 literal MLIR parses: digits, a point and an exponent (9
    significant digits round-trip every f32)."""
    return f"{float(value):.8e}" if value == value else "0x7FC00000"


class Value:
    def __init__(self, name, shape):
        self.name = name
        self.shape = tuple(shape)

    @property
    def type(self):
        return tensor_type(self.shape)


class Scalar:
    """Emits the scalar body of a `linalg.generic` region; every method
    returns the SSA name of its result (f32)."""

    def __init__(self, builder):
        self._b = builder
        self.lines = []

    def _op(self, text):
        name = self._b._fresh_name()
        self.lines.append(f"      {name} = {text}")
        return name

    def const(self, value):
        return self._op(f"arith.constant {_float(value)} : f32")

    def _binary(self, op, a, b):
        return self._op(f"arith.{op} {a}, {b} : f32")

    def add(self, a, b):
        return self._binary("addf", a, b)

    def sub(self, a, b):
        return self._binary("subf", a, b)

    def mul(self, a, b):
        return self._binary("mulf", a, b)

    def div(self, a, b):
        return self._binary("divf", a, b)

    def erf(self, a):
        """erf(a) as `math.erf` when NATIVE_ERF is set (the default); otherwise
        the Abramowitz-Stegun 7.1.26 form in arith/math ops
        (|error| <= 1.5e-7 in exact arithmetic, 5e-7 in f32):
        sign(a)·(1 − t·P(t)·exp(−a²)), t = 1/(1 + 0.3275911·|a|)."""
        if NATIVE_ERF:
            return self._op(f"math.erf {a} : f32")
        x = self._op(f"math.absf {a} : f32")
        t = self.div(self.const(1.0), self.add(self.const(1.0), self.mul(self.const(0.3275911), x)))
        poly = self.const(1.061405429)
        for c in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
            poly = self.add(self.mul(poly, t), self.const(c))
        poly = self.mul(poly, t)
        e = self._op(f"math.exp {self.sub(self.const(0.0), self.mul(x, x))} : f32")
        y = self.sub(self.const(1.0), self.mul(poly, e))
        return self._op(f"math.copysign {y}, {a} : f32")

    def sqrt(self, a):
        return self._op(f"math.sqrt {a} : f32")

    def gelu(self, a):
        """The exact GELU, x·Φ(x) = x·0.5·(1 + erf(x/√2))."""
        e = self.erf(self.mul(a, self.const(0.7071067811865476)))
        return self.mul(self.mul(a, self.const(0.5)), self.add(e, self.const(1.0)))


class FunctionBuilder:
    def __init__(self, name, private=False):
        self.name = name
        self.private = private
        self.args = []
        self.arg_names = []
        self.lines = []
        self.results = []
        self._count = 0
        self._constants = {}

    def arg(self, shape, name=None):
        """A function argument; `name` becomes its `loom.name` (the manifest's
        name of the argument)."""
        v = Value(f"%arg{len(self.args)}", shape)
        self.args.append(v)
        self.arg_names.append(name)
        return v

    def _fresh_name(self):
        self._count += 1
        return f"%v{self._count}"

    def _fresh(self, shape):
        return Value(self._fresh_name(), shape)

    def _emit(self, text, shape):
        v = self._fresh(shape)
        self.lines.append(f"    {v.name} = {text}")
        return v

    def scalar(self, value):
        """An f32 `arith.constant` at function level (emitted once per value)."""
        key = _float(value)
        if key not in self._constants:
            name = self._fresh_name()
            self.lines.append(f"    {name} = arith.constant {key} : f32")
            self._constants[key] = name
        return self._constants[key]

    # ---- loom ops -------------------------------------------------------

    def grouped_attention(self, q, k, v, group_size, lookback=0, causal=False,
                          scale=None, memory=None):
        attrs = f"group_size = {group_size}"
        if lookback:
            attrs += f" lookback = {lookback}"
        if causal:
            attrs += " causal = true"
        if scale is not None:
            attrs += f" scale = {_float(scale)}"
        mem = ""
        if memory is not None:
            mk, mv = memory
            mem = f" memory({mk.name}, {mv.name} : {mk.type}, {mv.type})"
        shape = q.shape[:3] + v.shape[3:]
        return self._emit(
            f"loom.grouped_attention {q.name}, {k.name}, {v.name}{mem} {attrs}"
            f" : {q.type}, {k.type}, {v.type} -> {tensor_type(shape)}", shape)

    def latent_route(self, q, k, v, groups, shift=0, scale=None):
        attrs = f"groups = {groups}"
        if shift:
            attrs += f" shift = {shift}"
        if scale is not None:
            attrs += f" scale = {_float(scale)}"
        shape = q.shape[:3] + v.shape[3:]
        return self._emit(
            f"loom.latent_route {q.name}, {k.name}, {v.name} {attrs}"
            f" : {q.type}, {k.type}, {v.type} -> {tensor_type(shape)}", shape)

    def blockdiag_matmul(self, x, w):
        k, q, _ = w.shape
        shape = x.shape[:-1] + (k * q,)
        return self._emit(
            f"loom.blockdiag_matmul {x.name}, {w.name} : {x.type}, {w.type}"
            f" -> {tensor_type(shape)}", shape)

    def monarch(self, x, w1, w2):
        l, s, _ = w2.shape
        shape = x.shape[:-1] + (s * l,)
        return self._emit(
            f"loom.monarch {x.name}, {w1.name}, {w2.name} : {x.type}, {w1.type},"
            f" {w2.type} -> {tensor_type(shape)}", shape)

    def fft_conv(self, u, kernel, causal=True):
        attrs = "" if causal else " causal = false"
        return self._emit(
            f"loom.fft_conv {u.name}, {kernel.name}{attrs} : {u.type}, {kernel.type}"
            f" -> {u.type}", u.shape)

    def add(self, a, b):
        """Elementwise a + b (same shapes) as `arith.addf` on tensors."""
        return self._emit(f"arith.addf {a.name}, {b.name} : {a.type}", a.shape)

    # ---- tensor and linalg forms -------------------------------------------

    def empty(self, shape):
        return self._emit(f"tensor.empty() : {tensor_type(shape)}", shape)

    def fill(self, shape, value=0.0):
        c = self.scalar(value)
        e = self.empty(shape)
        return self._emit(f"linalg.fill ins({c} : f32) outs({e.name} : {e.type})"
                          f" -> {e.type}", shape)

    def matmul_transposed(self, x, w):
        """`x · wᵀ` for x [M, K], w [N, K] (a torch Linear weight): one
        `linalg.matmul` whose second indexing map reads w transposed, into a
        zero `linalg.fill`."""
        (m, k), (n, k2) = x.shape, w.shape
        assert k == k2, (x.shape, w.shape)
        acc = self.fill((m, n))
        maps = ", ".join(affine_map(3, e) for e in
                         (("d0", "d2"), ("d1", "d2"), ("d0", "d1")))
        return self._emit(
            f"linalg.matmul indexing_maps = [{maps}] ins({x.name}, {w.name} : "
            f"{x.type}, {w.type}) outs({acc.name} : {acc.type}) -> {acc.type}", (m, n))

    def generic(self, shape, inputs, body, reduce_dims=(), init=None, out_dims=None):
        """A `linalg.generic` over the loops of `shape` (the iteration space).

        `inputs`: (Value, exprs) pairs, exprs indexing the value with affine
        expressions over d0..d{rank-1} (None = the identity). The result keeps
        the dims not in `reduce_dims`, in loop order or in the order
        `out_dims` gives (loop dim numbers); reductions accumulate into
        `init` (a Value; default a zero fill). `body(s, *ins, out)` emits
        scalar ops on `s` (a Scalar) and returns the yielded name."""
        rank = len(shape)
        if out_dims is None:
            out_dims = tuple(i for i in range(rank) if i not in reduce_dims)
        out_exprs = tuple(f"d{i}" for i in out_dims)
        out_shape = tuple(shape[i] for i in out_dims)
        if init is None:
            init = self.fill(out_shape) if reduce_dims else self.empty(out_shape)
        maps = [affine_map(rank, identity(rank) if e is None else e) for _, e in inputs]
        maps.append(affine_map(rank, out_exprs))
        iters = ", ".join('"reduction"' if i in reduce_dims else '"parallel"'
                          for i in range(rank))
        s = Scalar(self)
        args = [self._fresh_name() for _ in range(len(inputs) + 1)]
        result = body(s, *args)
        ins = ""
        if inputs:
            ins = (f" ins({', '.join(v.name for v, _ in inputs)} : "
                   f"{', '.join(v.type for v, _ in inputs)})")
        block = ", ".join(f"{a}: f32" for a in args)
        text = (f"linalg.generic {{indexing_maps = [{', '.join(maps)}], "
                f"iterator_types = [{iters}]}}{ins} outs({init.name} : {init.type}) {{\n"
                f"    ^bb0({block}):\n" + "\n".join(s.lines) +
                f"\n      linalg.yield {result} : f32\n    }} -> {init.type}")
        return self._emit(text, out_shape)

    def elementwise(self, inputs, body):
        """A parallel `linalg.generic` of inputs that all have the result's shape."""
        shape = inputs[0].shape
        return self.generic(shape, [(v, None) for v in inputs],
                            lambda s, *a: body(s, *a[:-1]))

    def collapse_shape(self, x, reassociation):
        shape = tuple(_prod(x.shape[i] for i in group) for group in reassociation)
        return self._emit(
            f"tensor.collapse_shape {x.name} {_reassoc(reassociation)} : {x.type}"
            f" into {tensor_type(shape)}", shape)

    def expand_shape(self, x, reassociation, shape):
        shape = tuple(shape)
        return self._emit(
            f"tensor.expand_shape {x.name} {_reassoc(reassociation)} output_shape "
            f"[{', '.join(str(d) for d in shape)}] : {x.type} into {tensor_type(shape)}",
            shape)

    def transpose(self, x, permutation):
        shape = tuple(x.shape[p] for p in permutation)
        init = self.empty(shape)
        return self._emit(
            f"linalg.transpose ins({x.name} : {x.type}) outs({init.name} : {init.type})"
            f" permutation = [{', '.join(str(p) for p in permutation)}]", shape)

    def extract_slice(self, x, offsets, sizes):
        sizes = tuple(sizes)
        ones = ", ".join("1" for _ in sizes)
        return self._emit(
            f"tensor.extract_slice {x.name}[{', '.join(map(str, offsets))}] "
            f"[{', '.join(map(str, sizes))}] [{ones}] : {x.type} to {tensor_type(sizes)}",
            sizes)

    def insert_slice(self, source, dest, offsets):
        ones = ", ".join("1" for _ in source.shape)
        return self._emit(
            f"tensor.insert_slice {source.name} into {dest.name}"
            f"[{', '.join(map(str, offsets))}] [{', '.join(map(str, source.shape))}] "
            f"[{ones}] : {source.type} into {dest.type}", dest.shape)

    def call(self, callee, *args):
        """`func.call @callee(args)`; returns its results (a list)."""
        results = [self._fresh(r.shape) for r in callee.results]
        names = ", ".join(r.name for r in results)
        arg_types = ", ".join(a.type for a in args)
        res_types = ", ".join(r.type for r in results)
        self.lines.append(f"    {names} = func.call @{callee.name}"
                          f"({', '.join(a.name for a in args)}) : ({arg_types}) -> ({res_types})")
        return results

    # ---- the function ---------------------------------------------------

    def ret(self, *values):
        self.results = list(values)

    def text(self):
        args = ", ".join(
            f"{a.name}: {a.type}" + (f' {{loom.name = "{n}"}}' if n is not None else "")
            for a, n in zip(self.args, self.arg_names))
        results = ", ".join(r.type for r in self.results)
        names = ", ".join(r.name for r in self.results)
        body = "\n".join(self.lines)
        visibility = "private " if self.private else ""
        return (f"  func.func {visibility}@{self.name}({args}) -> ({results}) {{\n{body}\n"
                f"    return {names} : {results}\n  }}")


def _prod(values):
    out = 1
    for v in values:
        out *= v
    return out


def _reassoc(groups):
    return "[" + ", ".join("[" + ", ".join(map(str, g)) + "]" for g in groups) + "]"


def module(*functions):
    return "module {\n" + "\n".join(f.text() for f in functions) + "\n}\n"
