"""Builds loom module text: a function is a list of ops on named tensors.

    fb = FunctionBuilder("f")
    q = fb.arg((1, 8, 256, 64))
    o = fb.grouped_attention(q, q, q, group_size=64, causal=True)
    fb.ret(o)
    text = module(fb)
"""


def tensor_type(shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


class Value:
    def __init__(self, name, shape):
        self.name = name
        self.shape = tuple(shape)

    @property
    def type(self):
        return tensor_type(self.shape)


class FunctionBuilder:
    def __init__(self, name):
        self.name = name
        self.args = []
        self.lines = []
        self.results = []
        self._count = 0

    def arg(self, shape):
        v = Value(f"%arg{len(self.args)}", shape)
        self.args.append(v)
        return v

    def _fresh(self, shape):
        self._count += 1
        return Value(f"%v{self._count}", shape)

    def _emit(self, text, shape):
        v = self._fresh(shape)
        self.lines.append(f"    {v.name} = {text}")
        return v

    def grouped_attention(self, q, k, v, group_size, lookback=0, causal=False,
                          scale=None, memory=None):
        attrs = f"group_size = {group_size}"
        if lookback:
            attrs += f" lookback = {lookback}"
        if causal:
            attrs += " causal = true"
        if scale is not None:
            attrs += f" scale = {float(scale)!r}"
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
            attrs += f" scale = {float(scale)!r}"
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
        """Elementwise a + b (same shapes), e.g. a residual connection."""
        return self._emit(f"arith.addf {a.name}, {b.name} : {a.type}", a.shape)

    def ret(self, *values):
        self.results = list(values)

    def text(self):
        args = ", ".join(f"{a.name}: {a.type}" for a in self.args)
        results = ", ".join(r.type for r in self.results)
        names = ", ".join(r.name for r in self.results)
        body = "\n".join(self.lines)
        return (f"  func.func @{self.name}({args}) -> ({results}) {{\n{body}\n"
                f"    return {names} : {results}\n  }}")


def module(*functions):
    return "module {\n" + "\n".join(f.text() for f in functions) + "\n}\n"
