"""Build fixtures/digits8_calib.json: 200 calibration samples of scikit-learn's
8x8 digits that are disjoint from the 100 held-out samples in
../shared/fixtures/models/digits8_data.json.

Usage: python training/make_digits_calib.py HELDOUT_JSON OUT_JSON

Method: load sklearn.datasets.load_digits(), scale pixels by 1/16 (float32,
exact since values are k/16), drop every sample whose 64-value vector equals
any held-out vector, drop repeated vectors (keep the first by index), then take
the first 200 of numpy.random.default_rng(0).permutation over what remains.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_digits

N = 200
SEED = 0


def main(heldout_path, out_path):
    held = json.load(open(heldout_path))
    held_keys = {tuple(np.asarray(v, dtype=np.float32).tolist()) for v in held["inputs"]}

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(int)

    seen = set()
    remaining = []
    n_held_hits = n_dups = 0
    for i in range(len(X)):
        k = tuple(X[i].tolist())
        if k in held_keys:
            n_held_hits += 1
            continue
        if k in seen:
            n_dups += 1
            continue
        seen.add(k)
        remaining.append(i)
    remaining = np.asarray(remaining)

    perm = np.random.default_rng(SEED).permutation(len(remaining))
    idx = remaining[perm[:N]]

    inputs = [[float(v) for v in X[i]] for i in idx]
    labels = [int(y[i]) for i in idx]
    # sanity: disjoint from held-out, no duplicates, exact k/16 values
    keys = [tuple(v) for v in inputs]
    assert len(set(keys)) == N and not (set(keys) & held_keys)
    assert all(v * 16 == int(v * 16) for row in inputs for v in row)

    out = {
        "shape": [1, 1, 8, 8],
        "inputs": inputs,
        "labels": labels,
        "source": (
            f"scikit-learn {sklearn.__version__} load_digits() pixels/16, excluding the "
            f"{n_held_hits} samples equal to a digits8_data.json held-out vector and "
            f"{n_dups} repeated vectors, then the first {N} of "
            f"numpy.random.default_rng({SEED}).permutation of the {len(remaining)} "
            f"remaining (training/make_digits_calib.py)."
        ),
    }
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("total", len(X), "held-out hits", n_held_hits, "dups", n_dups, "remaining", len(remaining))
    print("held-out count", len(held["inputs"]), "unique", len(held_keys))
    print("label histogram", np.bincount(labels, minlength=10).tolist())
    print("first indices", idx[:10].tolist())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
