"""Monarch Mixer (SPEC 4.4): a gated long-convolution sequence mixer and a
Monarch (block-diagonal) gated MLP, post-LN as in M2-BERT."""

import math

from . import reference
from .base import REQUIRED, Model, positive_int
from .layers import Weight, layer_norm_weights, linear_weights


class M2(Model):
    """
        model = loom.models.M2(batch=1, length=64, d=32, layers=2, d_ff=64)
        y = model.compile(model.init())(x)   # x, y: float32 [batch, length, d]
    """

    _config = (("batch", REQUIRED), ("length", REQUIRED), ("d", REQUIRED), ("layers", REQUIRED),
               ("d_ff", REQUIRED), ("monarch_blocks", 4), ("bidirectional", False))

    def _check_config(self):
        name = type(self).__name__
        for key in ("batch", "length", "d", "layers", "d_ff", "monarch_blocks"):
            setattr(self, key, positive_int(name, key, getattr(self, key)))
        L, k = self.length, self.monarch_blocks
        if L < 16 or L & (L - 1):
            raise ValueError(f"{name}: length={L} must be a power of two >= 16")
        if self.d % k:
            raise ValueError(f"{name}: monarch_blocks={k} does not divide d={self.d}")
        if self.d_ff % k:
            raise ValueError(f"{name}: monarch_blocks={k} does not divide d_ff={self.d_ff}")
        if not isinstance(self.bidirectional, bool):
            if type(self.bidirectional).__name__ != "bool_":
                raise ValueError(f"{name}: config bidirectional={self.bidirectional!r} "
                                 f"must be True or False")
            self.bidirectional = bool(self.bidirectional)
        # fft_conv's N is at most 2^24 (docs/design.md, size limits); the
        # bidirectional mixer convolves the sequence padded to 2 L.
        longest = 2**23 if self.bidirectional else 2**24
        if L > longest:
            raise ValueError(f"{name}: length={L} is longer than fft_conv takes "
                             f"({longest} with bidirectional={self.bidirectional})")

    @property
    def input_shape(self):
        return (self.batch, self.length, self.d)

    def _declare_weights(self):
        ws = []
        for i in range(self.layers):
            ws += self._layer_weights(f"layers.{i}")
        return ws

    def _layer_weights(self, p):
        d, L, k, dff = self.d, self.length, self.monarch_blocks, self.d_ff
        # A random filter whose sum over the sequence stays O(1).
        kernel = ("normal", 1.0 / math.sqrt(L))
        if self.bidirectional:
            ws = [Weight(f"{p}.mixer.kernel_fwd", (d, L), kernel),
                  Weight(f"{p}.mixer.kernel_rev", (d, L), kernel)]
        else:
            ws = [Weight(f"{p}.mixer.kernel", (d, L), kernel)]
        ws.append(Weight(f"{p}.mixer.D", (d,), ("normal", 1.0)))
        ws += linear_weights(f"{p}.mixer.in_proj", d, 3 * d)
        bound = 1.0 / math.sqrt(3)  # Conv1d's default: fan_in = 1 channel · 3 taps
        ws += [Weight(f"{p}.mixer.short_conv.weight", (3 * d, 1, 3), ("uniform", bound)),
               Weight(f"{p}.mixer.short_conv.bias", (3 * d,), ("uniform", bound))]
        ws += linear_weights(f"{p}.mixer.out_proj", d, d)
        ws += layer_norm_weights(f"{p}.ln1", d)
        gate, out = 1.0 / math.sqrt(d // k), 1.0 / math.sqrt(dff // k)
        ws += [Weight(f"{p}.mlp.gate.weight", (k, 2 * dff // k, d // k), ("uniform", gate)),
               Weight(f"{p}.mlp.gate.bias", (2 * dff,), ("uniform", gate)),
               Weight(f"{p}.mlp.out.weight", (k, d // k, dff // k), ("uniform", out)),
               Weight(f"{p}.mlp.out.bias", (d,), ("uniform", out))]
        return ws + layer_norm_weights(f"{p}.ln2", d)

    def _emit(self, L, u):
        for i in range(self.layers):
            u, = L.outlined("m2_layer", f"layers.{i}", self._layer_weights("P"), [u],
                            lambda S, u: (self._layer(S, u, "P"),))
        return (u,)

    def _layer(self, L, u, p):
        """Post-LN: u <- ln1(u + mixer(u)), then u <- ln2(u + mlp(u))."""
        u = L.layer_norm(L.add(u, self._mixer(L, u, f"{p}.mixer")), f"{p}.ln1")
        return L.layer_norm(L.add(u, self._mlp(L, u, f"{p}.mlp")), f"{p}.ln2")

    def _mixer(self, L, u, p):
        fb, w = L.fb, L.w
        B, N, d = u.shape
        a = L.linear(u, f"{p}.in_proj")                                   # [B, N, 3d]
        # Depthwise causal conv of 3 taps: c[t] = bias + Σ_j w[:, 0, j]·a[t−2+j].
        # The taps read a behind two zero rows (tap 0 through a slice: a map
        # with a pure dim must match its size). Only those two rows are
        # filled: the projection is written into the rest in place
        # (bufferization's empty-tensor elimination), not copied there.
        zero_rows = fb.insert_slice(fb.fill((B, 2, 3 * d)), fb.empty((B, N + 2, 3 * d)), (0, 0, 0))
        padded = fb.insert_slice(a, zero_rows, (0, 2, 0))
        tap0 = fb.extract_slice(padded, (0, 0, 0), (B, N, 3 * d))
        # The weight [3d, 1, 3] taps-first, [3, 1, 3d] (3·3d floats, once per
        # call): each tap's weights are then contiguous along the channels,
        # which the conv runs on vectors.
        cw = fb.transpose(w[f"{p}.short_conv.weight"], (2, 1, 0))

        def conv(s, a0, a1, a2, w0, w1, w2, bias, _):
            return s.add(s.add(s.add(bias, s.mul(w0, a0)), s.mul(w1, a1)), s.mul(w2, a2))
        c = fb.generic((B, N, 3 * d),
                       [(tap0, None), (padded, ("d0", "d1 + 1", "d2")),
                        (padded, ("d0", "d1 + 2", "d2"))]
                       + [(cw, (j, 0, "d2")) for j in range(3)]
                       + [(w[f"{p}.short_conv.bias"], ("d2",))], conv)
        # [x1, x2, v] = the thirds of c; v ⊙ x1, then channels first for fft_conv.
        # (An operand read at an offset needs a non-identity map; the one at
        # offset 0 is a slice, since a pure dim must match the loop's size.)
        x1 = fb.extract_slice(c, (0, 0, 0), (B, N, d))
        v = fb.generic((B, N, d), [(c, ("d0", "d1", f"d2 + {2 * d}")), (x1, None)],
                       lambda s, vv, x1_, _: s.mul(vv, x1_))
        vt = fb.transpose(v, (0, 2, 1))                                  # [B, d, N]
        if self.bidirectional:
            # k = [kernel_fwd, flip(kernel_rev)], a circular conv of length 2N
            # on v zero-padded to 2N; the first N outputs are kept.
            flipped = fb.generic((d, N), [(w[f"{p}.kernel_rev"], ("d0", f"-d1 + {N - 1}"))],
                                 lambda s, a, _: a)
            kernel = fb.insert_slice(w[f"{p}.kernel_fwd"], fb.empty((d, 2 * N)), (0, 0))
            kernel = fb.insert_slice(flipped, kernel, (0, N))
            # Only the zero half is filled; vt goes into the other in place.
            zero_half = fb.insert_slice(fb.fill((B, d, N)), fb.empty((B, d, 2 * N)), (0, 0, N))
            vpad = fb.insert_slice(vt, zero_half, (0, 0, 0))
            y = fb.fft_conv(vpad, kernel, causal=False)                   # [B, d, 2N]
            y = fb.extract_slice(y, (0, 0, 0), (B, d, N))
        else:
            y = fb.fft_conv(vt, w[f"{p}.kernel"], causal=True)            # [B, d, N]

        # (y + D ⊙ v) ⊙ x2, back in [B, N, d] (the map transposes y).
        def gate(s, yy, dd, vv, x2, _):
            return s.mul(s.add(yy, s.mul(dd, vv)), x2)
        g = fb.generic((B, N, d), [(y, ("d0", "d2", "d1")), (w[f"{p}.D"], ("d2",)), (v, None),
                                   (c, ("d0", "d1", f"d2 + {d}"))], gate)
        return L.linear(g, f"{p}.out_proj")

    def _mlp(self, L, u, p):
        fb, w = L.fb, L.w
        B, N, d = u.shape
        dff = self.d_ff
        h = fb.blockdiag_matmul(u, w[f"{p}.gate.weight"])                 # [B, N, 2 d_ff]
        bias = w[f"{p}.gate.bias"]

        # GELU(h[..., :d_ff] + b[:d_ff]) ⊙ (h[..., d_ff:] + b[d_ff:]).
        def glu(s, h1, b1, h2, b2, _):
            return s.mul(s.gelu(s.add(h1, b1)), s.add(h2, b2))
        g = fb.generic((B, N, dff), [(fb.extract_slice(h, (0, 0, 0), (B, N, dff)), None),
                                     (fb.extract_slice(bias, (0,), (dff,)), ("d2",)),
                                     (h, ("d0", "d1", f"d2 + {dff}")),
                                     (bias, (f"d2 + {dff}",))], glu)
        o = fb.blockdiag_matmul(g, w[f"{p}.out.weight"])
        return L.add_bias(o, w[f"{p}.out.bias"])

    def _reference(self, weights, x):
        return reference.m2(self, weights, x)
