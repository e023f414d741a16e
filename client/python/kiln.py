"""``kiln.jit`` for JAX users: run a JAX function on a kiln server, unchanged.

    import kiln
    server = kiln.Client("http://gpu-host:5555", token=...)

    @kiln.jit(server, resident_argnums=(0,))          # params stay on the server between calls
    def predict(params, x):
        return jax.nn.softmax(x @ params["w"] + params["b"])

    probs = predict(params, x)                          # numpy arrays, in the function's output pytree

On the first call per signature (the pytree structure, shapes and dtypes of the arguments and the
values of static arguments) the function is lowered with the user's own JAX
(``jax.jit(fn, static_argnums=...).lower(*args).as_text()``), the text is sent once and the
executable is cached by the server's graph hash. Leaves of ``resident_argnums`` arguments are
uploaded once and passed by handle until they change: a ``jax.Array`` (immutable) is recognised by
identity, a numpy array by a hash of its bytes (numpy arrays can change in place).

Arguments are converted as ``jax.jit`` converts them with x64 off (its default): float64 → float32,
int64 → int32, uint64 → uint32, Python floats → float32 and ints → int32 (JAX does this silently;
kiln does too, because the lowered program already says float32). Pytrees are JAX's: dicts (by
sorted key), lists, tuples and None; namedtuples come back as tuples.

Lowering is pluggable (``lower=``): without JAX installed, a recorded lowering (``Recorded``)
replays modules and output structures saved by ``Recorded.save`` on a machine with JAX; kiln's CI
tests run that way.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from kiln_client import Buffer, Client, KilnError, LossyConversionError, from_wire, to_wire  # noqa: F401 (re-exported)

__all__ = ["jit", "Client", "KilnError", "Buffer", "Recorded", "JaxLowering", "tree_flatten", "tree_unflatten",
           "tree_map", "LossyConversionError"]


# ---- pytrees ---------------------------------------------------------------------------------
# A treedef is a hashable nested tuple: ("leaf",), ("none",), ("tuple", (children)), ("list", (children)),
# ("dict", (keys), (children)).
LEAF = ("leaf",)


def tree_flatten(x: Any) -> tuple[list, tuple]:
    """Leaves in JAX's order (dict keys sorted, lists and tuples in order, None has no leaves) and a
    hashable description of the structure."""
    leaves: list = []

    def walk(v: Any) -> tuple:
        if v is None:
            return ("none",)
        if isinstance(v, dict):
            keys = tuple(sorted(v))
            return ("dict", keys, tuple(walk(v[k]) for k in keys))
        if isinstance(v, (list, tuple)):
            return ("list" if isinstance(v, list) else "tuple", tuple(walk(c) for c in v))
        leaves.append(v)
        return LEAF

    return leaves, walk(x)


def tree_unflatten(treedef: tuple, leaves: Sequence[Any]) -> Any:
    """The inverse of :func:`tree_flatten`."""
    it = iter(leaves)
    missing = object()

    def build(d: tuple) -> Any:
        kind = d[0]
        if kind == "leaf":
            v = next(it, missing)
            if v is missing:
                raise ValueError("fewer leaves than the tree has places for")
            return v
        if kind == "none":
            return None
        if kind == "dict":
            return {k: build(c) for k, c in zip(d[1], d[2])}
        children = [build(c) for c in d[1]]
        return children if kind == "list" else tuple(children)

    out = build(treedef)
    if next(it, missing) is not missing:
        raise ValueError("more leaves than the tree has places for")
    return out


def tree_map(f: Callable[[Any], Any], x: Any) -> Any:
    leaves, treedef = tree_flatten(x)
    return tree_unflatten(treedef, [f(v) for v in leaves])


def _treedef_to_json(d: tuple) -> Any:
    if d[0] == "dict":
        return ["dict", list(d[1]), [_treedef_to_json(c) for c in d[2]]]
    if d[0] in ("list", "tuple"):
        return [d[0], [_treedef_to_json(c) for c in d[1]]]
    return [d[0]]


def _treedef_from_json(j: Any) -> tuple:
    if j[0] == "dict":
        return ("dict", tuple(j[1]), tuple(_treedef_from_json(c) for c in j[2]))
    if j[0] in ("list", "tuple"):
        return (j[0], tuple(_treedef_from_json(c) for c in j[1]))
    return (j[0],)


# ---- JAX's argument conversion (x64 off) ------------------------------------------------------
_CANONICAL = {np.dtype(np.float64): np.dtype(np.float32), np.dtype(np.int64): np.dtype(np.int32),
              np.dtype(np.uint64): np.dtype(np.uint32), np.dtype(np.complex128): np.dtype(np.complex64)}


def _as_array(v: Any) -> np.ndarray:
    """A leaf as the array jax.jit would make of it with x64 off."""
    if isinstance(v, bool):
        return np.asarray(v, np.bool_)
    if isinstance(v, int):
        return np.asarray(v, np.int32)
    if isinstance(v, float):
        return np.asarray(v, np.float32)
    a = np.asarray(v)
    return a.astype(_CANONICAL[a.dtype]) if a.dtype in _CANONICAL else a


def _spec(a: np.ndarray) -> tuple:
    return (tuple(a.shape), a.dtype.str)


# ---- lowering ---------------------------------------------------------------------------------
@dataclass
class Lowered:
    """What the server needs of one signature: the module text and the output structure."""

    text: str
    out_tree: tuple


class JaxLowering:
    """Lowers with the installed JAX (imported on first use)."""

    def __call__(self, fn: Callable, args: Sequence[Any], static_argnums: tuple[int, ...], key: str) -> Lowered:
        import jax  # noqa: PLC0415 - only machines that lower need JAX

        # keep_unused: the module takes every argument, as kiln.jit sends them all.
        jitted = jax.jit(fn, static_argnums=static_argnums, keep_unused=True)
        text = jitted.lower(*args).as_text()
        shapes = jax.eval_shape(lambda *dyn: fn(*_merge(dyn, args, static_argnums)), *_dynamic(args, static_argnums))
        return Lowered(text, tree_flatten(shapes)[1])


class Recorded:
    """Lowerings saved to a folder (``<key>.mlir`` + ``<key>.json``): ``Recorded.save`` wraps a
    lowering and writes what it returns; without a wrapped lowering it only replays, and a
    signature never recorded is an error naming it."""

    def __init__(self, folder: str, record_with: Callable | None = None):
        self.folder, self.record_with = folder, record_with

    @classmethod
    def save(cls, folder: str) -> "Recorded":
        os.makedirs(folder, exist_ok=True)
        return cls(folder, JaxLowering())

    def __call__(self, fn: Callable, args: Sequence[Any], static_argnums: tuple[int, ...], key: str) -> Lowered:
        base = os.path.join(self.folder, key)
        if self.record_with is not None:
            low = self.record_with(fn, args, static_argnums, key)
            with open(base + ".mlir", "w") as f:
                f.write(low.text)
            with open(base + ".json", "w") as f:
                json.dump({"function": getattr(fn, "__name__", "?"), "out_tree": _treedef_to_json(low.out_tree)}, f)
            return low
        if not os.path.exists(base + ".mlir"):
            raise KeyError(f"kiln.jit: no recorded lowering of {getattr(fn, '__name__', '?')} for signature {key} in {self.folder}")
        with open(base + ".mlir") as f:
            text = f.read()
        with open(base + ".json") as f:
            out_tree = _treedef_from_json(json.load(f)["out_tree"])
        return Lowered(text, out_tree)


def _dynamic(args: Sequence[Any], static: tuple[int, ...]) -> list:
    return [a for i, a in enumerate(args) if i not in static]


def _merge(dyn: Sequence[Any], args: Sequence[Any], static: tuple[int, ...]) -> list:
    it = iter(dyn)
    return [a if i in static else next(it) for i, a in enumerate(args)]


# ---- jit ------------------------------------------------------------------------------------
@dataclass
class _Resident:
    fingerprint: Any
    keep_alive: Any
    buffer: Buffer


class Jitted:
    """A function run on a kiln server; call it like the function. ``signatures`` counts lowerings."""

    def __init__(self, fn: Callable, client: Client, static_argnums: Sequence[int], resident_argnums: Sequence[int],
                 lower: Callable | None):
        self.fn, self.client = fn, client
        self.static_argnums = tuple(sorted(static_argnums))
        self.resident_argnums = tuple(sorted(resident_argnums))
        overlap = set(self.static_argnums) & set(self.resident_argnums)
        if overlap:
            raise ValueError(f"kiln.jit({fn.__name__}): argument {sorted(overlap)[0]} cannot be both static and resident")
        self.lower = lower or JaxLowering()
        self._compiled: dict[tuple, tuple[str, tuple]] = {}
        self._resident: dict[tuple[int, int], _Resident] = {}
        self.signatures = 0

    def __call__(self, *args: Any) -> Any:
        for i in (*self.static_argnums, *self.resident_argnums):
            if i >= len(args):
                raise TypeError(f"kiln.jit({self.fn.__name__}): argument {i} is marked static or resident but only {len(args)} were passed")
        dyn_index = [i for i in range(len(args)) if i not in self.static_argnums]
        trees = [tree_flatten(args[i]) for i in dyn_index]
        arrays = [[_as_array(v) for v in leaves] for leaves, _ in trees]
        statics = tuple(_hashable(args[i], i, self.fn) for i in self.static_argnums)
        sig = (tuple(t for _, t in trees), tuple(tuple(_spec(a) for a in arrs) for arrs in arrays), statics)
        exe, out_tree = self._executable(sig, args)
        inputs: list = []
        for pos, i in enumerate(dyn_index):
            if i in self.resident_argnums:
                inputs.extend(self._resident_buffer(i, k, leaf, arr) for k, (leaf, arr) in enumerate(zip(trees[pos][0], arrays[pos])))
            else:
                inputs.extend(arrays[pos])
        outs = self.client.execute(exe, inputs)
        return tree_unflatten(out_tree, outs)

    def _executable(self, sig: tuple, args: Sequence[Any]) -> tuple[str, tuple]:
        hit = self._compiled.get(sig)
        if hit is not None:
            return hit
        key = hashlib.sha256(repr(sig).encode()).hexdigest()[:16]
        low = self.lower(self.fn, args, self.static_argnums, key)
        exe = self.client.compile(low.text)["id"]
        self.signatures += 1
        self._compiled[sig] = (exe, low.out_tree)
        return exe, low.out_tree

    def _resident_buffer(self, argnum: int, k: int, leaf: Any, arr: np.ndarray) -> Buffer:
        # jax.Array and other immutable arrays: identity (kept alive so the id is not reused);
        # numpy arrays: their bytes, which may change in place between calls.
        immutable = not isinstance(leaf, np.ndarray) and hasattr(leaf, "shape")
        fp = ("id", id(leaf)) if immutable else ("bytes", _spec(arr), hashlib.blake2b(arr.tobytes(), digest_size=16).digest())
        slot = self._resident.get((argnum, k))
        if slot is not None and slot.fingerprint == fp:
            return slot.buffer
        if slot is not None:
            self.client.free(slot.buffer)
        buf = self.client.upload(arr)
        self._resident[(argnum, k)] = _Resident(fp, leaf, buf)
        return buf

    def release(self) -> None:
        """Frees the resident buffers on the server."""
        for slot in self._resident.values():
            self.client.free(slot.buffer)
        self._resident.clear()


def _hashable(v: Any, i: int, fn: Callable) -> Any:
    try:
        hash(v)
    except TypeError:
        raise TypeError(f"kiln.jit({fn.__name__}): static argument {i} must be hashable, like jax.jit's; got {type(v).__name__}") from None
    return v


def jit(client: Client, fn: Callable | None = None, *, static_argnums: Sequence[int] = (),
        resident_argnums: Sequence[int] = (), lower: Callable | None = None) -> Any:
    """``kiln.jit(client)(fn)`` or ``kiln.jit(client, fn)``: see the module docstring."""
    if not isinstance(client, Client):
        raise TypeError(f"kiln.jit: the first argument is the kiln Client to run on, got {type(client).__name__}")

    def wrap(f: Callable) -> Jitted:
        return Jitted(f, client, static_argnums, resident_argnums, lower)

    return wrap(fn) if fn is not None else wrap
