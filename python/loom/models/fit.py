"""FIT (SPEC 4.1) and FIT-AR (SPEC 4.2)."""

import re

from . import reference
from .base import REQUIRED, Model, hidden_width, positive_int
from .layers import (Weight, cross_attention_weights, layer_norm_weights, linear_weights,
                     transformer_layer_weights)

_RUN = re.compile(r"\(([1-9][0-9]*)\)|([1-9][0-9]*)")


def parse_layers(model, layers):
    """`(k)` = k local layers, a bare `k` = k global layers, e.g. "(2)4(2)"
    -> [("local", 2), ("global", 4), ("local", 2)]. k is a decimal number
    >= 1 without leading zeros; anything else is a ValueError."""
    if not isinstance(layers, str):
        raise ValueError(f"{model}: config layers={layers!r} must be a string such as '(2)4(2)'")
    runs, pos = [], 0
    while pos < len(layers):
        m = _RUN.match(layers, pos)
        if m is None:
            raise ValueError(f"{model}: cannot parse layers={layers!r} at position {pos}: "
                             f"expected runs of '(k)' (local) or 'k' (global), k >= 1")
        runs.append(("local", int(m.group(1))) if m.group(1) else ("global", int(m.group(2))))
        pos = m.end()
    if not runs:
        raise ValueError(f"{model}: config layers='' has no layers")
    return runs


class FIT(Model):
    """FIT encoder: local layers on the data tokens inside each group, global
    layers on the latents, push (latents read their group) before each global
    run and pull (tokens read their group's latents) after it.

        model = loom.models.FIT(batch=1, groups=4, group_len=16, latents=4,
                                dx=32, dz=32, heads_x=4, heads_z=4, layers="(1)2(1)")
        w = model.init()
        f = model.compile(w)
        x_out, z_out = f(x)          # x: float32 [batch, groups*group_len, dx]
    """

    _config = (("batch", REQUIRED), ("groups", REQUIRED), ("group_len", REQUIRED),
               ("latents", REQUIRED), ("dx", REQUIRED), ("dz", REQUIRED),
               ("heads_x", REQUIRED), ("heads_z", REQUIRED), ("layers", REQUIRED),
               ("mlp_ratio", 4))
    autoregressive = False

    def _check_config(self):
        name = type(self).__name__
        for key in ("batch", "groups", "group_len", "latents", "dx", "dz", "heads_x",
                    "heads_z") + (("vocab",) if self.autoregressive else ()):
            setattr(self, key, positive_int(name, key, getattr(self, key)))
        if self.dx % self.heads_x:
            raise ValueError(f"{name}: heads_x={self.heads_x} does not divide dx={self.dx}")
        if self.dz % self.heads_z:
            raise ValueError(f"{name}: heads_z={self.heads_z} does not divide dz={self.dz}")
        self.cross_width = min(self.dx, self.dz)
        self.cross_heads = min(self.heads_x, self.heads_z)
        if self.cross_width % self.cross_heads:
            raise ValueError(f"{name}: min(heads_x, heads_z)={self.cross_heads} does not divide "
                             f"min(dx, dz)={self.cross_width}")
        self.hidden_x = hidden_width(name, self.dx, self.mlp_ratio)
        self.hidden_z = hidden_width(name, self.dz, self.mlp_ratio)
        self.runs = parse_layers(name, self.layers)

    @property
    def input_shape(self):
        return (self.batch, self.groups * self.group_len, self.dx)

    def plan(self):
        """The layers in execution order: (kind, weight prefix), kind one of
        local, push, global, pull."""
        steps, local, glob, run = [], 0, 0, 0
        for index, (kind, count) in enumerate(self.runs):
            if kind == "local":
                steps += [("local", f"local.{local + i}") for i in range(count)]
                local += count
                continue
            steps.append(("push", f"push.{run}"))
            steps += [("global", f"global.{glob + i}") for i in range(count)]
            glob += count
            if index + 1 < len(self.runs):
                steps.append(("pull", f"pull.{run}"))
            run += 1
        return steps

    def _declare_weights(self):
        T, m, dx, dz, w = self.groups, self.latents, self.dx, self.dz, self.cross_width
        steps = self.plan()
        ws = [Weight("latents", (T * m, dz), ("normal", 0.02))]
        ws += [x for kind, p in steps if kind == "local"
               for x in transformer_layer_weights(p, dx, self.hidden_x)]
        ws += [x for kind, p in steps if kind == "push"
               for x in cross_attention_weights(p, dz, dx, w)]
        ws += [x for kind, p in steps if kind == "global"
               for x in transformer_layer_weights(p, dz, self.hidden_z)]
        ws += [x for kind, p in steps if kind == "pull"
               for x in cross_attention_weights(p, dx, dz, w)]
        ws += layer_norm_weights("ln_x", dx)
        ws += self._head_weights()
        return ws

    def _head_weights(self):
        return layer_norm_weights("ln_z", self.dz)

    # ---- IR ------------------------------------------------------------

    def _attend(self, kind):
        T, n, m = self.groups, self.group_len, self.latents
        if kind == "local":
            return lambda fb, q, k, v: fb.grouped_attention(q, k, v, group_size=n,
                                                            causal=self.autoregressive)
        if kind == "global":
            if self.autoregressive:
                return lambda fb, q, k, v: fb.grouped_attention(q, k, v, group_size=m, lookback=-1)
            return lambda fb, q, k, v: fb.grouped_attention(q, k, v, group_size=T * m)
        return lambda fb, q, k, v: fb.latent_route(q, k, v, groups=T)

    def _emit(self, L, x):
        z = L.broadcast_batch(L.w["latents"], self.batch)
        dx, dz, w, hc = self.dx, self.dz, self.cross_width, self.cross_heads
        for kind, p in self.plan():
            attend = self._attend(kind)
            if kind == "local":
                x, = L.outlined("local_layer", p, transformer_layer_weights("P", dx, self.hidden_x),
                                [x], lambda S, x: (S.transformer_layer(x, "P", self.heads_x, attend),))
            elif kind == "global":
                z, = L.outlined("global_layer", p, transformer_layer_weights("P", dz, self.hidden_z),
                                [z], lambda S, z: (S.transformer_layer(z, "P", self.heads_z, attend),))
            elif kind == "push" and self.push_in_token_space():
                z, = L.outlined("push", p, cross_attention_weights("P", dz, dx, w), [z, x],
                                lambda S, z, x: (S.push_layer(z, x, "P", hc, self.groups),))
            elif kind == "push":
                z, = L.outlined("push", p, cross_attention_weights("P", dz, dx, w), [z, x],
                                lambda S, z, x: (S.cross_attention_layer(z, x, "P", hc, attend),))
            else:
                x, = L.outlined("pull", p, cross_attention_weights("P", dx, dz, w), [x, z],
                                lambda S, x, z: (S.cross_attention_layer(
                                    x, self._pull_source(S, z), "P", hc, attend),))
        return self._outputs(L, x, z)

    def push_in_token_space(self):
        """Whether the push attends over the raw tokens (Layers.push_attention:
        queries mapped by W_kᵀ, values projected after the routing) rather
        than over projected keys and values: when that is fewer multiply-adds
        per group. Projecting the n tokens' keys and values costs
        2·n·dx·w, the route 2·m·n·w; the token-space form costs 2·m·w·dx
        for the two per-head maps and 2·H·m·n·dx for the route (dx wide).
        At the bench's n = 256, m = 16, d = 256, 4 heads: 10.5 M against
        35.6 M."""
        n, m, dx, w, h = self.group_len, self.latents, self.dx, self.cross_width, self.cross_heads
        projected = 2 * n * dx * w + 2 * m * n * w
        token_space = 2 * m * w * dx + 2 * h * m * n * dx
        return token_space < projected

    def _pull_source(self, L, z):
        return z

    def _outputs(self, L, x, z):
        return L.layer_norm(x, "ln_x"), L.layer_norm(z, "ln_z")

    def _reference(self, weights, x):
        return reference.fit(self, weights, x)


class FITAR(FIT):
    """FIT-AR: FIT with causal local layers, block-causal global layers and a
    shifted pull (group g reads the latents of group g−1, group 0 a zero
    latent block); returns logits `head(ln_x(x))` [batch, groups*group_len,
    vocab]."""

    _config = FIT._config + (("vocab", REQUIRED),)
    autoregressive = True

    def _head_weights(self):
        return linear_weights("head", self.dx, self.vocab)

    def _pull_source(self, L, z):
        """[0; z_0; …; z_{T−2}]: group g pulls from z_{g−1}, group 0 from a
        zero block that still goes through ln_kv and the projections."""
        fb = L.fb
        B, Lz, dz = z.shape
        m = self.latents
        shifted = fb.fill(z.shape)
        if self.groups == 1:
            return shifted
        head = fb.extract_slice(z, (0, 0, 0), (B, Lz - m, dz))
        return fb.insert_slice(head, shifted, (0, m, 0))

    def _outputs(self, L, x, z):
        return (L.linear(L.layer_norm(x, "ln_x"), "head"),)

    def _reference(self, weights, x):
        return reference.fit(self, weights, x)
