"""A small client for a kiln server: send StableHLO text (for example what
``jax.jit(f).lower(*args).as_text()`` prints) and numpy arrays, get numpy arrays back.

Needs only numpy, msgpack and the standard library::

    from kiln_client import Client
    kiln = Client("http://127.0.0.1:5555", token=None)
    exe = kiln.compile(jax.jit(f).lower(x).as_text())       # float64/int64 inputs must fit 32 bits
    (y,) = kiln.execute(exe["id"], [np.asarray(x)])
    w = kiln.upload(np.ones((1024, 1024), np.float32))          # stays on the server
    (y,) = kiln.execute(exe["id"], [w])                          # use it by handle
    kiln.register_model("mlp", ir, weights="mlp.safetensors")    # weights bind the leading arguments
    (y,) = kiln.infer("mlp", [x])                                # only the remaining inputs
    y = kiln.exec("matmul", x, w)                                # one numpy/nn/lax function
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import uuid
import urllib.request
from dataclasses import dataclass
from typing import Any, Sequence

import msgpack
import numpy as np

# c64 is numpy's complex64: (re, im) float32 pairs, the same bytes on the wire.
_TO_NUMPY = {"f32": "<f4", "f16": "<f2", "i32": "<i4", "ui32": "<u4", "i1": "|b1", "i64": "<i8", "ui64": "<u8", "c64": "<c8",
             "i8": "|i1", "ui8": "|u1", "i16": "<i2", "ui16": "<u2"}
_FROM_NUMPY = {np.dtype(v).str: k for k, v in _TO_NUMPY.items()}
_MSGPACK = "application/msgpack"


class KilnError(Exception):
    """An error reply from the server: ``code`` is a KILN_ERR_* code, ``status`` the HTTP status."""

    def __init__(self, status: int, code: str, message: str, line: int | None = None, column: int | None = None):
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message, self.line, self.column = status, code, message, line, column


@dataclass(frozen=True)
class Buffer:
    """A tensor kept on the server; pass it as an input instead of an array."""

    id: str
    dtype: str
    shape: tuple[int, ...]


class LossyConversionError(ValueError):
    """A 64-bit array whose values do not survive narrowing to the server's 32-bit types."""


# 64-bit numpy types and the 32-bit wire type each is narrowed to (complex128 to complex64).
_NARROW = {np.dtype(np.float64): np.dtype(np.float32), np.dtype(np.int64): np.dtype(np.int32),
           np.dtype(np.uint64): np.dtype(np.uint32), np.dtype(np.complex128): np.dtype(np.complex64)}


def _narrow(arr: np.ndarray, lossy: bool) -> np.ndarray:
    """float64/int64/uint64 to float32/int32/uint32 (the server has no 64-bit types, like JAX with
    x64 disabled). Unless ``lossy``, refuses values that change: integers outside the 32-bit range
    (numpy would wrap ``2**31 + 5`` to ``-2147483643``) and floats that do not round-trip through
    float32 (``0.1``, ``1e40``); NaN stays NaN and counts as exact."""
    want = _NARROW[arr.dtype]
    if arr.dtype.kind in "iu":
        info = np.iinfo(want)
        bad = (arr < info.min) | (arr > info.max)
        if not lossy and bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise LossyConversionError(
                f"{arr.dtype} value {int(arr[i])} at index {i} is outside {want}'s range [{info.min}, {info.max}] "
                f"({int(bad.sum())} such values); the server computes in {want}. Cast it yourself "
                f"(a.astype(np.{want})) or pass lossy=True to wrap")
        return arr.astype(want)
    with np.errstate(over="ignore"):
        out = arr.astype(want)
    if not lossy:
        changed = ~((out.astype(arr.dtype) == arr) | (np.isnan(arr) & np.isnan(out)))
        if changed.any():
            i = tuple(int(k) for k in np.argwhere(changed)[0])
            raise LossyConversionError(
                f"{arr.dtype} value {arr[i].item()!r} at index {i} becomes {out[i].item()!r} in {want} ({int(changed.sum())} of "
                f"{arr.size} values change); the server computes in {want}. Pass {want} arrays "
                f"(a.astype(np.{want})) or lossy=True to round")
    return out


def _text_key(ir: str) -> str:
    """A routing key for IR text (X-Kiln-Graph): the SHA-256 of the text. Not the server's graph
    hash, which needs the parsed module, but the same for the same text, so a balancer sends every
    sessionless request of a program to one server."""
    return hashlib.sha256(ir.encode("utf-8")).hexdigest()


def to_wire(a: Any, lossy: bool = False) -> dict:
    """A numpy array (or anything np.asarray takes) as a wire tensor. float64/int64/uint64 are
    narrowed to float32/int32/uint32 when every value survives (see ``_narrow``); ``lossy=True``
    narrows whatever changes."""
    arr = np.asarray(a)
    if arr.dtype in _NARROW:
        arr = _narrow(arr, lossy)
    key = arr.dtype.newbyteorder("<").str if arr.dtype.kind != "b" else "|b1"
    if key not in _FROM_NUMPY:
        raise TypeError(f"dtype {arr.dtype} is not supported (float32, float16, int8, int16, int32, uint8, uint16, uint32, bool, complex64)")
    # The shape before ascontiguousarray, which makes a 0-d array 1-d on numpy < 2.
    shape = list(arr.shape)
    arr = np.ascontiguousarray(arr, dtype=np.dtype(_TO_NUMPY[_FROM_NUMPY[key]]))
    return {"dtype": _FROM_NUMPY[key], "shape": shape, "data": arr.tobytes()}


def from_wire(t: dict) -> np.ndarray:
    dt = np.dtype(_TO_NUMPY[t["dtype"]])
    return np.frombuffer(t["data"], dtype=dt).reshape(t["shape"]).copy()


class Client:
    """A connection to a kiln server, working in a session of its own: made by the first request
    that needs it (``POST /sessions``), its buffers and models are invisible to other clients, and
    ``close()`` (or leaving a ``with`` block) frees them all. ``session=False`` uses the token's
    default session instead, shared with every client that sends none."""

    def __init__(self, url: str = "http://127.0.0.1:5555", token: str | None = None, timeout: float = 120.0,
                 lossy: bool = False, session: bool = True):
        """``lossy``: narrow 64-bit inputs even where values change (default: refuse them, see to_wire)."""
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.lossy = lossy
        self._use_session = session
        self._session: str | None = None
        # Sent as X-Kiln-Route with every request of the session (its start included), so that a
        # balancer hashing on it keeps the session on the server holding its buffers.
        self._route = uuid.uuid4().hex

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def session(self) -> str | None:
        """This client's session id, starting the session if no request has yet (None with session=False)."""
        if self._use_session and self._session is None:
            self._session = self._request("POST", "/sessions", in_session=False)["session"]
        return self._session

    def close(self) -> None:
        """Ends the session, freeing every buffer and model it holds on the server."""
        if self._session is not None:
            sid, self._session = self._session, None
            self._request("DELETE", f"/sessions/{sid}", in_session=False)

    # ---- transport -------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
                 in_session: bool = True, graph: str | None = None) -> Any:
        session = self.session if in_session and path != "/health" else None
        req = urllib.request.Request(self.url + path, data=body, method=method)
        if self._use_session:
            req.add_header("X-Kiln-Route", self._route)
        if graph is not None:
            # The program the request is about: a balancer routes sessionless work by it.
            req.add_header("X-Kiln-Graph", graph)
        if content_type:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if session is not None:
            req.add_header("X-Kiln-Session", session)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data, ctype = resp.read(), resp.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            payload = e.read()
            try:
                err = json.loads(payload)["error"]
            except Exception:
                raise KilnError(e.code, "KILN_ERR_HTTP", payload.decode("utf-8", "replace")) from None
            raise KilnError(e.code, err["code"], err["message"], err.get("line"), err.get("column")) from None
        if "msgpack" in ctype:
            return msgpack.unpackb(data, raw=False)
        if "json" in ctype:
            return json.loads(data)
        return data.decode("utf-8")

    def _msgpack(self, path: str, value: Any, graph: str | None = None) -> Any:
        return self._request("POST", path, msgpack.packb(value, use_bin_type=True), _MSGPACK, graph=graph)

    def _input(self, x: Any) -> dict:
        return {"buffer": x.id} if isinstance(x, Buffer) else to_wire(x, self.lossy)

    @staticmethod
    def _outputs(outs: list) -> list:
        return [Buffer(o["buffer"], o["dtype"], tuple(o["shape"])) if "buffer" in o else from_wire(o) for o in outs]

    # ---- API -------------------------------------------------------------------------------
    def health(self) -> dict:
        return self._request("GET", "/health")

    def ops(self) -> list[dict]:
        """The functions ``exec`` runs: ``{name, namespace, arity, params}`` each."""
        return self._request("GET", "/ops")

    def stablehlo_ops(self) -> list[str]:
        """The StableHLO ops the server compiles."""
        return self._request("GET", "/ops/stablehlo")

    def exec(self, name: str, *inputs: Any, **kwargs: Any) -> Any:
        """Runs one function of kiln's numpy, nn or lax namespaces on the server:
        ``exec("matmul", a, b)``, ``exec("sum", x, axis=1, keepdims=True)``. The arrays (or
        ``Buffer``s) bind its leading positional parameters, the keyword arguments the rest
        (snake_case names are taken for kiln's camelCase ones). A bare name is looked up in numpy,
        then nn, then lax; ``np.``/``nn.``/``lax.`` prefixes pick one. Returns an array, or a list
        when the function returns several."""
        body: dict = {"inputs": [self._input(x) for x in inputs]}
        if kwargs:
            body["kwargs"] = kwargs
        r = self._msgpack(f"/ops/{urllib.parse.quote(name, safe='')}", body)
        outs = self._outputs(r["outputs"])
        return outs[0] if r["single"] else outs

    def compile(self, ir: str) -> dict:
        """Compiles IR text; returns {id, cached, inputs, outputs, kernels}."""
        return self._request("POST", "/compile", ir.encode("utf-8"), "text/plain", graph=_text_key(ir))

    def execute(self, executable: str, inputs: Sequence[Any], keep: Sequence[bool] | None = None,
                handles: Sequence[str | None] | None = None) -> list:
        body: dict = {"executable": executable, "inputs": [self._input(x) for x in inputs]}
        if keep is not None:
            body["keep"] = list(keep)
        if handles is not None:
            body["handles"] = list(handles)
        return self._outputs(self._msgpack("/execute", body, graph=executable)["outputs"])

    def run(self, ir: str, inputs: Sequence[Any]) -> list:
        """Compiles (through the server's cache) and runs in one round trip."""
        return self._outputs(self._msgpack("/run", {"ir": ir, "inputs": [self._input(x) for x in inputs]}, graph=_text_key(ir))["outputs"])

    def batch(self, calls: Sequence[dict], free: Sequence[str] = ()) -> list[list]:
        """Several calls in one request: each {executable|ir, inputs, keep?, handles?}."""
        wire = [{**c, "inputs": [self._input(x) for x in c["inputs"]]} for c in calls]
        res = self._msgpack("/batch", {"calls": wire, "free": list(free)})["results"]
        return [self._outputs(r["outputs"]) for r in res]

    def upload(self, a: Any, handle: str | None = None) -> Buffer:
        body = to_wire(a, self.lossy)
        if handle is not None:
            body["handle"] = handle
        r = self._msgpack("/buffers", body)
        return Buffer(r["buffer"], r["dtype"], tuple(r["shape"]))

    def download(self, b: Buffer | str) -> np.ndarray:
        return from_wire(self._request("GET", f"/buffers/{b.id if isinstance(b, Buffer) else b}"))

    def free(self, b: Buffer | str) -> None:
        self._request("DELETE", f"/buffers/{b.id if isinstance(b, Buffer) else b}")

    def executables(self) -> list[dict]:
        return self._request("GET", "/executables")

    # ---- models ----------------------------------------------------------------------------
    def register_model(self, name: str, ir: str, weights: bytes | str | None = None,
                       bind: dict[int, str | Buffer] | None = None) -> dict:
        """Registers ``ir`` under ``name`` with weights that bind some of its arguments, so that
        ``infer`` sends only the rest. ``weights``: a safetensors file (its bytes or its path).
        ``bind``: argument position -> a tensor name of ``weights`` or a ``Buffer`` (which the model
        takes over); by default the file's tensors bind the leading arguments in file order.
        Returns the model's signature: ``inputs`` (the remaining arguments), ``weights``, ``outputs``."""
        body: dict = {"name": name, "ir": ir}
        if weights is not None:
            if isinstance(weights, str):
                with open(weights, "rb") as f:
                    weights = f.read()
            body["weights"] = bytes(weights)
        if bind is not None:
            body["bind"] = [{"arg": int(arg), **({"buffer": v.id} if isinstance(v, Buffer) else {"tensor": str(v)})}
                            for arg, v in bind.items()]
        return self._msgpack("/models", body)

    def infer(self, name: str, inputs: Sequence[Any], keep: Sequence[bool] | None = None,
              handles: Sequence[str | None] | None = None) -> list:
        """Runs a registered model on the inputs its weights do not bind, in argument order."""
        body: dict = {"inputs": [self._input(x) for x in inputs]}
        if keep is not None:
            body["keep"] = list(keep)
        if handles is not None:
            body["handles"] = list(handles)
        return self._outputs(self._msgpack(f"/models/{name}/infer", body)["outputs"])

    def models(self) -> list[dict]:
        """The session's models: signature, bytes, runs and mean latency of each."""
        return self._request("GET", "/models")

    def model(self, name: str) -> dict:
        return self._request("GET", f"/models/{name}")

    def delete_model(self, name: str) -> None:
        """Deletes a model and frees its weights."""
        self._request("DELETE", f"/models/{name}")
