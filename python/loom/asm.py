"""Reading the register tiles out of an x86 assembly listing (`emit="asm"`):
what the AVX-512 and AVX2 spill tests and bench/mca.py look at."""

import re

_LABEL = re.compile(r"^(\.LBB\w+):")
_JUMP = re.compile(r"\s+j\w+\s+(\.LBB\w+)")
_STORE = re.compile(r"\s+vmov\w+\s+%[xyz]mm\d+, .*\(")


def innermost_loops(lines):
    """Every innermost loop (a backward jump with no other backward jump
    inside), as its lines from the label to the jump."""
    labels = {m.group(1): i for i, l in enumerate(lines) if (m := _LABEL.match(l))}
    back = [(labels[m.group(1)], i) for i, l in enumerate(lines)
            if (m := _JUMP.match(l)) and m.group(1) in labels and labels[m.group(1)] < i]
    return [lines[s:e + 1] for s, e in back
            if not any(s <= s2 and e2 < e for s2, e2 in back)]


def fma_count(body):
    return sum(bool(re.match(r"\s+vfn?madd\d+ps\s", l)) for l in body)


def register_tile_loops(lines, min_fmas=12):
    """The innermost broadcast-FMA loops: at least `min_fmas` vector FMAs
    and a broadcast operand. The softmax loops (the exp's vpslld of 2^n
    into the exponent) store their probabilities, and the path that
    selects around non-finite masked values (vblendvps) is not
    register-tight: both are left out."""
    return [body for body in innermost_loops(lines)
            if fma_count(body) >= min_fmas
            and any("vbroadcastss" in b or "{1to" in b for b in body)
            and not any("vpslld" in b or "vblendv" in b for b in body)]


def vector_stores(body):
    """The vector stores of a loop: in a register tile, which only loads and
    multiply-adds, each is a spilled register."""
    return [l for l in body if _STORE.match(l)]
