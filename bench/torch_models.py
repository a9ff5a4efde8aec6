"""The seed models of SPEC section 4 as PyTorch nn.Modules with the SPEC's
module tree: `state_dict()` has exactly the names, shapes and order of the
Loom model's `weight_shapes()`, so one loads into the other as is.

Written as a PyTorch user would (scaled_dot_product_attention on groups
folded into the batch, a per-block loop for FAM, torch.fft for M2's long
convolution), for the benchmarks (bench/models.py) and for the state_dict
test (test/Integration/test_models_api.py). Works with torch 1.13 (a manual
softmax stands in for scaled_dot_product_attention) and 2.x.
"""

import math
import re

import torch
import torch.nn.functional as F
from torch import nn


def _sdpa(q, k, v, mask=None, causal=False):
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal)
    s = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    if causal:
        mask = torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool, device=q.device).tril()
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, dim=-1) @ v


class Attention(nn.Module):
    def __init__(self, d_q, d_kv, width, heads):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v = nn.Linear(d_q, width), nn.Linear(d_kv, width), nn.Linear(d_kv, width)
        self.o = nn.Linear(width, d_q)

    def split(self, x):
        *lead, L, w = x.shape
        return x.reshape(*lead, L, self.heads, w // self.heads).transpose(-2, -3)

    def merge(self, x):
        *lead, H, L, dh = x.shape
        return x.transpose(-2, -3).reshape(*lead, L, H * dh)

    def forward(self, xq, xkv, mask=None, causal=False):
        q, k, v = self.split(self.q(xq)), self.split(self.k(xkv)), self.split(self.v(xkv))
        return self.o(self.merge(_sdpa(q, k, v, mask, causal)))


class MLP(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class TransformerLayer(nn.Module):
    def __init__(self, d, heads, hidden):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, d, d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = MLP(d, hidden)

    def forward(self, x, mask=None, causal=False):
        h = self.ln1(x)
        x = x + self.attn(h, h, mask, causal)
        return x + self.mlp(self.ln2(x))


class CrossAttentionLayer(nn.Module):
    def __init__(self, d_q, d_kv, width, heads):
        super().__init__()
        self.ln_q, self.ln_kv = nn.LayerNorm(d_q), nn.LayerNorm(d_kv)
        self.attn = Attention(d_q, d_kv, width, heads)

    def forward(self, q, kv):
        return q + self.attn(self.ln_q(q), self.ln_kv(kv))


def _runs(layers):
    return [("local", int(a)) if a else ("global", int(b))
            for a, b in re.findall(r"\((\d+)\)|(\d+)", layers)]


class FIT(nn.Module):
    autoregressive = False

    def __init__(self, batch, groups, group_len, latents, dx, dz, heads_x, heads_z, layers,
                 mlp_ratio=4, vocab=None):
        super().__init__()
        self.T, self.n, self.m = groups, group_len, latents
        self.runs = _runs(layers)
        w, hc = min(dx, dz), min(heads_x, heads_z)
        n_local = sum(k for kind, k in self.runs if kind == "local")
        n_global = sum(k for kind, k in self.runs if kind == "global")
        n_push = sum(1 for kind, _ in self.runs if kind == "global")
        n_pull = n_push - (self.runs[-1][0] == "global")
        self.latents = nn.Parameter(torch.randn(groups * latents, dz) * 0.02)
        self.local = nn.ModuleList(TransformerLayer(dx, heads_x, int(mlp_ratio * dx))
                                   for _ in range(n_local))
        self.push = nn.ModuleList(CrossAttentionLayer(dz, dx, w, hc) for _ in range(n_push))
        self.add_module("global", nn.ModuleList(TransformerLayer(dz, heads_z, int(mlp_ratio * dz))
                                                for _ in range(n_global)))
        self.pull = nn.ModuleList(CrossAttentionLayer(dx, dz, w, hc) for _ in range(n_pull))
        self.ln_x = nn.LayerNorm(dx)
        if self.autoregressive:
            self.head = nn.Linear(dx, vocab)
        else:
            self.ln_z = nn.LayerNorm(dz)

    def forward(self, x):
        B, L, dx = x.shape
        T, n, m = self.T, self.n, self.m
        z = self.latents.expand(B, -1, -1)
        dz = z.shape[-1]
        ar = self.autoregressive
        if ar:
            g = torch.arange(T * m, device=x.device) // m
            block_causal = g[None, :] <= g[:, None]
        local = glob = run = 0
        glob_layers = getattr(self, "global")
        for index, (kind, count) in enumerate(self.runs):
            if kind == "local":
                xg = x.reshape(B * T, n, dx)               # groups folded into the batch
                for _ in range(count):
                    xg = self.local[local](xg, causal=ar)
                    local += 1
                x = xg.reshape(B, L, dx)
                continue
            z = self.push[run](z.reshape(B * T, m, dz), x.reshape(B * T, n, dx)).reshape(B, T * m, dz)
            for _ in range(count):
                z = glob_layers[glob](z, mask=block_causal if ar else None)
                glob += 1
            if index + 1 < len(self.runs):
                src = torch.cat([torch.zeros_like(z[:, :m]), z[:, :-m]], dim=1) if ar else z
                x = self.pull[run](x.reshape(B * T, n, dx), src.reshape(B * T, m, dz)).reshape(B, L, dx)
            run += 1
        if ar:
            return self.head(self.ln_x(x))
        return self.ln_x(x), self.ln_z(z)


class FITAR(FIT):
    autoregressive = True


class FAMLayer(nn.Module):
    def __init__(self, d, heads, hidden, fam_len):
        super().__init__()
        self.fam_init = nn.Parameter(torch.randn(fam_len, d))
        self.ln1 = nn.LayerNorm(d)
        self.attn = Attention(d, d, d, heads)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = MLP(d, hidden)

    def forward(self, x, block, memory_segments):
        B, L, d = x.shape
        S, M, a = block, memory_segments, self.attn
        h = self.ln1(x)
        Q, K, V = a.split(a.q(h)), a.split(a.k(h)), a.split(a.v(h))
        state = self.fam_init.expand(B, -1, -1)
        Fl = state.shape[1]
        out = []
        for tau in range(L // S):
            hf = self.ln1(state)
            qf, kf, vf = a.split(a.q(hf)), a.split(a.k(hf)), a.split(a.v(hf))
            blk = slice(tau * S, (tau + 1) * S)
            first = max(tau - M, 0) * S
            keys = torch.cat([K[:, :, first:tau * S], kf, K[:, :, blk]], dim=2)
            values = torch.cat([V[:, :, first:tau * S], vf, V[:, :, blk]], dim=2)
            before = tau * S - first + Fl
            mask = torch.ones(S, before + S, dtype=torch.bool, device=x.device)
            mask[:, before:] = mask[:, before:].tril()
            out.append(_sdpa(Q[:, :, blk], keys, values, mask))
            fa = a.o(a.merge(_sdpa(qf, torch.cat([kf, K[:, :, blk]], 2),
                                   torch.cat([vf, V[:, :, blk]], 2)))) + state
            state = fa + self.mlp(self.ln2(fa))
        A = x + a.o(a.merge(torch.cat(out, dim=2)))
        return A + self.mlp(self.ln2(A))


class TransformerFAM(nn.Module):
    def __init__(self, batch, length, d, heads, layers, block=1024, memory_segments=3,
                 fam_len=64, mlp_ratio=4):
        super().__init__()
        self.block, self.memory_segments = block, memory_segments
        self.layers = nn.ModuleList(FAMLayer(d, heads, int(mlp_ratio * d), fam_len)
                                    for _ in range(layers))
        self.ln_out = nn.LayerNorm(d)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x, self.block, self.memory_segments)
        return self.ln_out(x)


class BlockdiagLinear(nn.Module):
    """y[..., b, j] = Σ_i weight[b, j, i]·x[..., b, i] + bias."""

    def __init__(self, k, q, p):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, q, p) / math.sqrt(p))
        self.bias = nn.Parameter(torch.zeros(k * q))

    def forward(self, x):
        k, q, p = self.weight.shape
        y = torch.einsum("bji,...bi->...bj", self.weight, x.reshape(*x.shape[:-1], k, p))
        return y.reshape(*x.shape[:-1], k * q) + self.bias


class M2Mixer(nn.Module):
    def __init__(self, d, length, bidirectional):
        super().__init__()
        self.bidirectional = bidirectional
        if bidirectional:
            self.kernel_fwd = nn.Parameter(torch.randn(d, length) / math.sqrt(length))
            self.kernel_rev = nn.Parameter(torch.randn(d, length) / math.sqrt(length))
        else:
            self.kernel = nn.Parameter(torch.randn(d, length) / math.sqrt(length))
        self.D = nn.Parameter(torch.randn(d))
        self.in_proj = nn.Linear(d, 3 * d)
        self.short_conv = nn.Conv1d(3 * d, 3 * d, 3, groups=3 * d, padding=2)
        self.out_proj = nn.Linear(d, d)

    def forward(self, u):
        B, L, d = u.shape
        a = self.in_proj(u).transpose(1, 2)                      # [B, 3d, L]
        c = self.short_conv(a)[..., :L]
        x1, x2, v = c[:, :d], c[:, d:2 * d], c[:, 2 * d:]
        v = v * x1
        if self.bidirectional:
            k = F.pad(self.kernel_fwd, (0, L)) + F.pad(self.kernel_rev.flip(-1), (L, 0))
        else:
            k = self.kernel
        y = torch.fft.irfft(torch.fft.rfft(v, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)[..., :L]
        y = (y + self.D[:, None] * v) * x2
        return self.out_proj(y.transpose(1, 2))


class M2MLP(nn.Module):
    def __init__(self, d, d_ff, k):
        super().__init__()
        self.d_ff = d_ff
        self.gate = BlockdiagLinear(k, 2 * d_ff // k, d // k)
        self.out = BlockdiagLinear(k, d // k, d_ff // k)

    def forward(self, u):
        h = self.gate(u)
        return self.out(F.gelu(h[..., :self.d_ff]) * h[..., self.d_ff:])


class M2Layer(nn.Module):
    def __init__(self, d, length, d_ff, k, bidirectional):
        super().__init__()
        self.mixer = M2Mixer(d, length, bidirectional)
        self.ln1 = nn.LayerNorm(d)
        self.mlp = M2MLP(d, d_ff, k)
        self.ln2 = nn.LayerNorm(d)

    def forward(self, u):
        u = self.ln1(u + self.mixer(u))
        return self.ln2(u + self.mlp(u))


class M2(nn.Module):
    def __init__(self, batch, length, d, layers, d_ff, monarch_blocks=4, bidirectional=False):
        super().__init__()
        self.layers = nn.ModuleList(M2Layer(d, length, d_ff, monarch_blocks, bidirectional)
                                    for _ in range(layers))

    def forward(self, u):
        for layer in self.layers:
            u = layer(u)
        return u
