"""Classifies MNIST test digits from Python with the CNN that examples/mnist.ts registered on a kiln
server through ``/models`` (``npm run example:mnist -- --serve URL``). Needs numpy and msgpack;
imports client/python/kiln_client.py from this repository.

    python3 examples/mnist_classify.py http://127.0.0.1:5555 mnist.digits.npz [--model mnist]

The digits file holds ``x`` (float32 [n, 28, 28, 1], pixels in [0, 1]) and ``y`` (int32 labels),
as the example writes it. The model lives in the token's default session (``KILN_TOKEN``), where
the example registered it. Prints one line per digit, the predicted classes, and the accuracy;
exits 2 if the model is not there or takes another batch size.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "client", "python"))
from kiln_client import Client, KilnError  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="the kiln server the example registered the model with")
    ap.add_argument("digits", help="the .npz of digits the example wrote (x, y)")
    ap.add_argument("--model", default="mnist", help="the name it was registered under")
    a = ap.parse_args()
    data = np.load(a.digits)
    x, y = data["x"].astype(np.float32), data["y"]
    kiln = Client(a.url, token=os.environ.get("KILN_TOKEN"), session=False)
    try:
        info = kiln.model(a.model)
    except KilnError as e:
        print(f"no model '{a.model}' at {a.url} ({e.message}); run: npm run example:mnist -- --serve {a.url}", file=sys.stderr)
        return 2
    want = info["inputs"][0]["shape"]
    if list(x.shape) != want:
        print(f"model '{a.model}' takes digits of shape {want}, the file holds {list(x.shape)}", file=sys.stderr)
        return 2
    (pred,) = kiln.infer(a.model, [x])
    for i, (p, l) in enumerate(zip(pred.tolist(), y.tolist())):
        print(f"digit {i}: predicted {p}, label {l}{'' if p == l else '  (wrong)'}")
    print(f"classes {' '.join(str(int(p)) for p in pred)}")
    print(f"accuracy {float(np.mean(pred == y)):.3f} on {len(y)} digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
