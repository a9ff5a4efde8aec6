"""Prints a model's IR or weight list from the command line:

    python3 -m loom.models FIT batch=1 groups=4 group_len=16 latents=4 \\
        dx=32 dz=32 heads_x=4 heads_z=4 layers='(1)2(1)' > fit.mlir
    python3 -m loom.models M2 batch=1 length=64 d=32 layers=1 d_ff=64 --weights

Values are Python literals (numbers, True/False) or plain strings; FIT's
layers is always a string.
"""

import ast
import sys

from . import FIT, FITAR, M2, TransformerFAM

MODELS = {"FIT": FIT, "FITAR": FITAR, "TransformerFAM": TransformerFAM, "M2": M2}


def main(argv):
    if len(argv) < 1 or argv[0] not in MODELS:
        print(__doc__, file=sys.stderr)
        return 2
    config, weights = {}, False
    for item in argv[1:]:
        if item == "--weights":
            weights = True
            continue
        key, _, value = item.partition("=")
        if key == "layers" and argv[0].startswith("FIT"):
            config[key] = value  # "(2)1" would read as a Python expression
            continue
        try:
            config[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            config[key] = value
    try:
        model = MODELS[argv[0]](**config)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if weights:
        for name, shape in model.weight_shapes().items():
            print(name, list(shape))
    else:
        sys.stdout.write(model.mlir())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
