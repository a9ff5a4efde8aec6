"""TransformerFAM (SPEC 4.3): block sliding-window attention with a
feedback memory of F state tokens per layer."""

from . import reference
from .base import REQUIRED, Model, hidden_width, positive_int
from .layers import Weight, layer_norm_weights, transformer_layer_weights


class TransformerFAM(Model):
    """Each layer runs block sliding-window attention (blocks of `block`
    tokens, `memory_segments` earlier blocks visible, causal) plus the F
    feedback-memory tokens of the previous block, which a per-block state
    update carries from block to block.

        model = loom.models.TransformerFAM(batch=1, length=64, d=32, heads=4,
                                           layers=2, block=16, memory_segments=1,
                                           fam_len=4)
        y = model.compile(model.init())(x)   # x, y: float32 [batch, length, d]
    """

    _config = (("batch", REQUIRED), ("length", REQUIRED), ("d", REQUIRED), ("heads", REQUIRED),
               ("layers", REQUIRED), ("block", 1024), ("memory_segments", 3), ("fam_len", 64),
               ("mlp_ratio", 4))

    def _check_config(self):
        name = type(self).__name__
        for key in ("batch", "length", "d", "heads", "layers", "block", "fam_len"):
            setattr(self, key, positive_int(name, key, getattr(self, key)))
        self.memory_segments = positive_int(name, "memory_segments", self.memory_segments, 0)
        if self.d % self.heads:
            raise ValueError(f"{name}: heads={self.heads} does not divide d={self.d}")
        if self.length % self.block:
            raise ValueError(f"{name}: block={self.block} does not divide length={self.length}")
        self.hidden = hidden_width(name, self.d, self.mlp_ratio)
        self.blocks = self.length // self.block

    @property
    def input_shape(self):
        return (self.batch, self.length, self.d)

    def _declare_weights(self):
        ws = []
        for i in range(self.layers):
            ws += self._layer_weights(f"layers.{i}")
        return ws + layer_norm_weights("ln_out", self.d)

    def _layer_weights(self, p):
        return ([Weight(f"{p}.fam_init", (self.fam_len, self.d), ("normal", 1.0))]
                + transformer_layer_weights(p, self.d, self.hidden))

    def _emit(self, L, x):
        for i in range(self.layers):
            x, = L.outlined("fam_layer", f"layers.{i}", self._layer_weights("P"), [x],
                            lambda S, x: (self._layer(S, x, "P"),))
        return (L.layer_norm(x, "ln_out"),)

    def _layer(self, L, x, p):
        fb = L.fb
        B, H, S, F = self.batch, self.heads, self.block, self.fam_len
        dh = self.d // H
        attn = f"{p}.attn"
        # Data tokens: projections for every block at once.
        h = L.layer_norm(x, f"{p}.ln1")
        # Projected head-major: each block's keys and values are read by the
        # query tiles of the M + 1 blocks that see them (~50 times at S =
        # 1024, M = 3), and the kernel ran 5–14 % slower on head-split views
        # (Dh floats every H·Dh) than on contiguous rows (AVX2, L = 16K).
        # The state step slices its K_τ, V_τ out of the same rows.
        q, k, v = (L.project_heads(h, f"{attn}.{n}", H, head_major=True) for n in "qkv")
        # The state: sequential over blocks.
        state = L.broadcast_batch(L.w[f"{p}.fam_init"], B)
        mem_k = fb.empty((B, H, self.blocks * F, dh))
        mem_v = fb.empty((B, H, self.blocks * F, dh))
        step = [w for w in self._layer_weights("P") if not w.name.endswith("fam_init")]
        for tau in range(self.blocks):
            # Block τ's memory rows are the keys and values of F_{τ−1}; the
            # last block's new state is never read.
            k_tau = fb.extract_slice(k, (0, 0, tau * S, 0), (B, H, S, dh))
            v_tau = fb.extract_slice(v, (0, 0, tau * S, 0), (B, H, S, dh))
            kf, vf, state = L.outlined("fam_state_step", p, step, [state, k_tau, v_tau],
                                       self._state_step)
            mem_k = fb.insert_slice(kf, mem_k, (0, 0, tau * F, 0))
            mem_v = fb.insert_slice(vf, mem_v, (0, 0, tau * F, 0))
        # Every block at once: M earlier blocks, causal in its own, and its
        # F memory rows.
        o = fb.grouped_attention(q, k, v, group_size=S, lookback=self.memory_segments,
                                 causal=True, memory=(mem_k, mem_v))
        a = L.add(x, L.linear(L.merge_heads(o), f"{attn}.o"))
        return L.add(a, L.mlp(L.layer_norm(a, f"{p}.ln2"), f"{p}.mlp"))

    def _state_step(self, L, state, k_tau, v_tau):
        """F_{τ−1} and block τ's keys/values -> (Kᶠ, Vᶠ of F_{τ−1}, F_τ):
        Aᶠ = Attn(Qᶠ, [Kᶠ; K_τ], [Vᶠ; V_τ]) + F_{τ−1} without a mask (one
        group of F queries and keys with block τ's keys as memory rows), then
        F_τ = Aᶠ + mlp(ln2(Aᶠ))."""
        fb = L.fb
        hf = L.layer_norm(state, "P.ln1")
        qf, kf, vf = (L.project_heads(hf, f"P.attn.{n}", self.heads) for n in "qkv")
        o = fb.grouped_attention(qf, kf, vf, group_size=self.fam_len, memory=(k_tau, v_tau))
        a = L.add(state, L.linear(L.merge_heads(o), "P.attn.o"))
        return kf, vf, L.add(a, L.mlp(L.layer_norm(a, "P.ln2"), "P.mlp"))

    def _reference(self, weights, x):
        return reference.fam(self, weights, x)
