"""What every model shares: config checking, weight checking, `init`,
`mlir`, `compile` and the compiled callable (SPEC section 4.5)."""

import operator

import numpy as np

from .. import ir, runtime
from ..runtime import InputError

REQUIRED = object()


def positive_int(model, key, value, minimum=1):
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{model}: config {key}={value!r} must be an integer")
    try:
        n = operator.index(value)
    except TypeError:
        raise ValueError(f"{model}: config {key}={value!r} must be an integer") from None
    if n < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{model}: config {key}={value!r} must be {what}")
    return int(n)


def hidden_width(model, d, ratio, key="mlp_ratio"):
    """r·d for an MLP ratio that may be a float (timm-style 4.0) as long as
    r·d is a whole positive number."""
    if isinstance(ratio, (bool, np.bool_)) or not isinstance(ratio, (int, float, np.integer, np.floating)):
        raise ValueError(f"{model}: config {key}={ratio!r} must be a number")
    hidden = ratio * d
    if not hidden > 0 or hidden != int(hidden):
        raise ValueError(f"{model}: config {key}={ratio!r} gives a hidden width of {hidden} "
                         f"for width {d}; it must be a positive whole number")
    return int(hidden)


def _as_array(value):
    """A numpy view of `value`: numpy arrays and anything with __array__,
    torch tensors included (detached, on the CPU)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu()
        if hasattr(value, "numpy"):
            value = value.numpy()
    return np.asarray(value)


class Model:
    """Base of FIT, FITAR, TransformerFAM and M2.

    Subclasses set `_config` ((key, default or REQUIRED), ...) and implement
    `_check_config()`, `_declare_weights()` (a list of layers.Weight),
    `input_shape`, `_output_shapes()`, `_emit(layers, x)` and
    `_reference(weights, x)`."""

    _config = ()

    def __init__(self, **config):
        name = type(self).__name__
        known = [k for k, _ in self._config]
        for key in config:
            if key not in known:
                raise ValueError(f"{name}: unknown config key {key!r} (known: {', '.join(known)})")
        for key, default in self._config:
            if key in config:
                value = config[key]
            elif default is REQUIRED:
                raise ValueError(f"{name}: missing config key {key!r}")
            else:
                value = default
            setattr(self, key, value)
        self._check_config()
        self._weights = self._declare_weights()
        self._text = None

    @property
    def config(self):
        return {k: getattr(self, k) for k, _ in self._config}

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.config.items())})"

    # ---- SPEC 4.5 ------------------------------------------------------

    def weight_shapes(self):
        """Every weight's name and shape, in the order @forward takes them."""
        return {w.name: w.shape for w in self._weights}

    def init(self, seed=0):
        """float32 weights: LayerNorm weight 1 and bias 0, Linear weights and
        biases U(±1/sqrt(fan_in)) as in torch.nn.Linear; see docs/frontend.md
        for the others."""
        rng = np.random.default_rng(seed)
        return {w.name: w.draw(rng) for w in self._weights}

    def random_weights(self, seed=0):
        """SPEC section 5's test weights: LayerNorm weights 1 + N(0, 0.1²) and
        biases N(0, 0.1²), every other weight N(0, 0.2²); float32."""
        rng = np.random.default_rng(seed)
        out = {}
        for w in self._weights:
            if w.init[0] == "ones":
                a = 1.0 + 0.1 * rng.standard_normal(w.shape)
            elif w.init[0] == "zeros":
                a = 0.1 * rng.standard_normal(w.shape)
            else:
                a = 0.2 * rng.standard_normal(w.shape)
            out[w.name] = a.astype(np.float32)
        return out

    def mlir(self):
        """The module: one public @forward(x, weights...) -> outputs."""
        if self._text is None:
            from .layers import Layers
            fb = ir.FunctionBuilder("forward")
            x = fb.arg(self.input_shape, name="x")
            weights = {w.name: fb.arg(w.shape, name=w.name) for w in self._weights}
            layers = Layers(fb, weights)
            fb.ret(*self._emit(layers, x))
            self._text = ir.module(fb, *layers.functions.values())
        return self._text

    def compile(self, weights, **options):
        """Compiles (cached), loads, binds `weights`; returns f(x).

        Options: `mcpu` (a CPU name for loom-compile's --mcpu), `cache_dir`,
        `num_threads` (the .so's thread count; default all online CPUs),
        `verbose` (True: always print the compile's stage timings; False:
        never; default: when a compile takes more than a second)."""
        known = ("mcpu", "cache_dir", "num_threads", "verbose")
        for key in options:
            if key not in known:
                raise ValueError(f"{type(self).__name__}.compile: unknown option {key!r} "
                                 f"(known: {', '.join(known)})")
        arrays = self._check_weights(weights, np.float32)
        path = runtime.compile(self.mlir(), mcpu=options.get("mcpu"),
                               cache_dir=options.get("cache_dir"),
                               verbose=options.get("verbose"), label=repr(self))
        library = runtime.load(path)
        if options.get("num_threads") is not None:
            library.set_num_threads(options["num_threads"])
        return CompiledModel(self, library, arrays)

    def reference(self, weights, *inputs, **named):
        """The same forward in float64 numpy (loom.models.reference), written
        from SPEC section 4 independently of the IR. The input is x,
        positional or by name."""
        arrays = self._check_weights(weights, np.float64)
        for key in named:
            if key != "x":
                raise ValueError(f"{type(self).__name__}.reference: unknown input {key!r}; "
                                 f"the input is x")
        inputs = inputs + tuple(named.values())
        if len(inputs) != 1:
            raise ValueError(f"{type(self).__name__}.reference takes one input, x; "
                             f"got {len(inputs)}")
        x = self._check_input(inputs[0], np.float64)
        return self._reference(arrays, x)

    # ---- checks ----------------------------------------------------------

    def _check_weights(self, weights, dtype):
        name = type(self).__name__
        if not hasattr(weights, "keys") or not hasattr(weights, "__getitem__"):
            raise ValueError(f"{name}: weights must be a mapping from name to array "
                             f"(like a state_dict), got {type(weights).__name__}")
        expected = self.weight_shapes()
        missing = [k for k in expected if k not in weights]
        if missing:
            raise ValueError(f"{name}: missing weight {missing[0]!r}"
                             + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        extra = [k for k in weights.keys() if k not in expected]
        if extra:
            raise ValueError(f"{name}: unexpected weight {extra[0]!r}"
                             + (f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""))
        arrays = []
        for key, shape in expected.items():
            try:
                a = _as_array(weights[key])
            except (TypeError, RuntimeError) as e:   # e.g. a bfloat16 torch tensor
                raise InputError(f"{name}: weight {key!r} cannot be read as an array: {e}") from None
            # float64 weights are rounded to float32 once, as torch's
            # load_state_dict does; other dtypes are a mistake.
            if a.dtype.kind != "f" or a.dtype.itemsize not in (4, 8):
                raise InputError(f"{name}: weight {key!r} has dtype {a.dtype}; "
                                 f"expected float32 (or float64, rounded to float32)")
            if a.shape != tuple(shape):
                raise ValueError(f"{name}: weight {key!r} has shape {a.shape}, "
                                 f"expected {tuple(shape)}")
            arrays.append(np.array(a, dtype=dtype, order="C", copy=True))
        return dict(zip(expected, arrays))

    def _check_input(self, x, dtype):
        name = type(self).__name__
        a = _as_array(x)
        if dtype == np.float32:
            ok = a.dtype.kind == "f" and a.dtype.itemsize == 4
            want = "float32"
        else:
            ok = a.dtype.kind == "f" and a.dtype.itemsize in (4, 8)
            want = "float32 or float64"
        if not ok:
            raise InputError(f"{name}: input 'x' has dtype {a.dtype}, expected {want}")
        if a.shape != tuple(self.input_shape):
            raise ValueError(f"{name}: input 'x' has shape {a.shape}, "
                             f"expected {tuple(self.input_shape)}")
        return np.require(a, dtype, ["C", "A"])


class CompiledModel:
    """A model compiled to a shared object with its weights bound: call it
    on x. `set_num_threads(n)` sets the .so's thread count; `bind(x)` gives a
    zero-argument runner writing into outputs allocated once (benchmarks)."""

    def __init__(self, model, library, weights):
        self.model = model
        self.library = library
        self.function = library.forward
        self.weights = weights  # float32, C-contiguous, in @forward's order
        self._weight_list = list(weights.values())
        names = self.function.input_names
        if any(n is not None for n in names):
            expected = ["x"] + list(weights)
            if names != expected:
                raise runtime.LoomError(f"{library.path}: the manifest's argument names do "
                                        f"not match {type(model).__name__}'s weights")

    @property
    def path(self):
        return self.library.path

    def set_num_threads(self, n):
        self.library.set_num_threads(n)

    def __call__(self, x):
        """The outputs for input x (float32, the model's input_shape): FIT a
        tuple (x, z), the others one array."""
        x = self.model._check_input(x, np.float32)
        return self.function(x, *self._weight_list)

    def bind(self, x):
        x = self.model._check_input(x, np.float32)
        run = self.function.bind(x, *self._weight_list)

        def call():
            run()
            return tuple(run.outputs) if len(run.outputs) > 1 else run.outputs[0]
        call.outputs = run.outputs
        return call
