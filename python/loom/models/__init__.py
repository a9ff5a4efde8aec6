"""The seed models of SPEC section 4, compiled to shared objects.

    import loom.models
    model = loom.models.FIT(batch=1, groups=64, group_len=64, latents=8,
                            dx=128, dz=128, heads_x=4, heads_z=4, layers="(2)2(2)")
    weights = model.init(seed=0)          # or a torch state_dict
    f = model.compile(weights)            # cached; loads the .so and binds the weights
    x_out, z_out = f(x)                   # x: float32 [1, 4096, 128]
    ref_x, ref_z = model.reference(weights, x)   # float64 numpy

Every model has weight_shapes(), init(seed), mlir(), compile(weights,
**options) and reference(weights, x) (SPEC 4.5); docs/frontend.md says
how each is lowered.
"""

from .base import CompiledModel, Model
from .fam import TransformerFAM
from .fit import FIT, FITAR
from .m2 import M2

__all__ = ["FIT", "FITAR", "TransformerFAM", "M2", "Model", "CompiledModel"]
