"""Where `personseg predict` runs its photos: the registry of engines (`--engine`).

An engine is a function with `stills.predict_stills`' signature (plus its own keyword options):
it segments still images and writes their outputs with the local path's naming, writing and
resume (`outputs`, `stills`). `local` runs them in this process; `ray` spreads them over a Ray
cluster (`ray_engine`), started inside this process unless given an address. Engines that need
an optional extra say which when it is missing; engines that fix a runtime refuse other models
before anything is loaded.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from personseg.errors import OptionError, UserError


@dataclass(frozen=True)
class Engine:
    module: str  # defines `function`
    function: str
    extra: str | None  # the pip extra that provides it (None: always there)
    runtime: str | None  # the only runtime its workers run (None: any)
    about: str


ENGINES: dict[str, Engine] = {
    "local": Engine("personseg.inference.stills", "predict_stills", None, None,
                    "this process: decode threads, the model, a writer thread"),
    "ray": Engine("personseg.inference.ray_engine", "predict_stills_ray", "ray", "onnx",
                  "a Ray Data pipeline, one model per worker on ONNX Runtime (Ray started here "
                  "unless --address)"),
}


def engine_runner(name: str) -> Callable:
    """The engine's stills function; a UserError naming the pip extra when it is not installed."""
    if name not in ENGINES:
        raise OptionError("engine", name, f"choose from {', '.join(ENGINES)}")
    engine = ENGINES[name]
    try:
        module = importlib.import_module(engine.module)
    except ImportError as exc:
        if engine.extra is None or exc.name is None or exc.name.split(".")[0] == "personseg":
            raise
        raise UserError(f"--engine {name} needs {exc.name.split('.')[0]}, which is not installed: "
                        f"pip install 'personseg[{engine.extra}]'") from None
    return getattr(module, engine.function)


def engine_backend(name: str, weights: str | Path | None, backend: str) -> str:
    """The `--backend` to open `weights` with under engine `name`: refuses, before anything is
    loaded, a model the engine's workers cannot run (the ray engine: ONNX only, no TensorFlow)."""
    runtime = ENGINES[name].runtime
    if runtime is None:
        return backend
    from personseg.backends import runtime_for
    from personseg.backends.refs import parse_ref
    from personseg.pretrained import DEFAULT

    why = f"--engine {name} runs {runtime} models only"
    if backend not in ("auto", runtime):
        raise OptionError("backend", backend, why)
    ref = parse_ref(weights if weights is not None else f"pretrained:{DEFAULT}")
    if ref.kind == "peer":
        raise UserError(f"{ref}: {why} (pretrained:NAME or a .{runtime} file)")
    if ref.kind == "file" and runtime_for(ref.name) != runtime:
        raise UserError(f"{ref}: {why}; export it first: personseg export --weights {ref} --format {runtime}")
    return runtime
