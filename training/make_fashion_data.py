"""Turn the Debian package `dataset-fashion-mnist` into training data and two
labelled fixtures for training/cgnet_fashion.py.

Usage:
  apt-get install -y dataset-fashion-mnist
  python training/make_fashion_data.py /usr/share/datasets/fashion-mnist training/data fixtures

Writes
  training/data/fashion.npz   (gitignored; carried to the device machine)
                              uint8 arrays train_x [59900,28,28], train_y,
                              calib_x [100,28,28], calib_y, test_x
                              [10000,28,28], test_y, and test_sub [200]: the
                              indices into test_x of the test fixture
  fixtures/fashion_test.json  200 labelled samples of the official test set
  fixtures/fashion_calib.json 100 labelled samples of the official training
                              set, held out of training/data's train_x

Input encoding: the networks of training/cgnet_fashion.py take the raw pixel
values 0..255 as floats (no /255 scaling), so the fixtures hold small
integers, every one an exact float32, and stay under 1 MB (Fashion-MNIST has
half as many zero pixels as MNIST: pixel/255 written like mnist_test.json
would be 1.6 MB for 200 samples). Format: {"shape":[1,1,28,28],
"inputs":[[784 numbers]...],"labels":[...],"source":"..."} (gatec data.json;
labels 0..9 = T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt,
Sneaker, Bag, Ankle boot).

Method: the four idx.gz files of the package (train 60,000, t10k 10,000).
numpy.random.default_rng(0).permutation(10000)[:200] of the test set is the
test fixture (the full test set stays in the npz for the accuracy figures);
numpy.random.default_rng(1).permutation(60000)[:100] of the training set is
the calibration fixture, removed from train_x.
"""
import gzip
import json
import os
import sys

import numpy as np

N_TEST = 200
N_CALIB = 100
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']


def read_idx(path):
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    assert magic >> 8 == 0x08, f'{path}: not an unsigned-byte idx file'
    ndim = magic & 0xff
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims)), path
    return arr.reshape(dims)


def write_fixture(path, x, y, source):
    rows = ['[' + ','.join(str(int(p)) for p in img.reshape(-1)) + ']' for img in x]
    with open(path, 'w') as f:
        f.write('{"shape":[1,1,28,28],"inputs":[')
        f.write(',\n'.join(rows))
        f.write('],"labels":' + json.dumps([int(v) for v in y]))
        f.write(',"classes":' + json.dumps(CLASSES))
        f.write(',"source":' + json.dumps(source) + '}\n')
    back = json.load(open(path))
    assert np.array_equal(np.asarray(back['inputs'], dtype=np.float64), x.reshape(len(x), -1).astype(np.float64))
    assert back['labels'] == [int(v) for v in y]


def main(pkg_dir, data_dir, fixtures_dir):
    tr_x = read_idx(os.path.join(pkg_dir, 'train-images-idx3-ubyte.gz'))
    tr_y = read_idx(os.path.join(pkg_dir, 'train-labels-idx1-ubyte.gz'))
    te_x = read_idx(os.path.join(pkg_dir, 't10k-images-idx3-ubyte.gz'))
    te_y = read_idx(os.path.join(pkg_dir, 't10k-labels-idx1-ubyte.gz'))
    assert tr_x.shape == (60000, 28, 28) and te_x.shape == (10000, 28, 28), (tr_x.shape, te_x.shape)
    assert tr_y.shape == (60000,) and te_y.shape == (10000,) and tr_y.max() == 9 and te_y.max() == 9

    test_sub = np.random.default_rng(0).permutation(len(te_x))[:N_TEST]
    calib_i = np.random.default_rng(1).permutation(len(tr_x))[:N_CALIB]
    keep = np.ones(len(tr_x), bool)
    keep[calib_i] = False

    os.makedirs(data_dir, exist_ok=True)
    np.savez_compressed(os.path.join(data_dir, 'fashion.npz'),
                        train_x=tr_x[keep], train_y=tr_y[keep],
                        calib_x=tr_x[calib_i], calib_y=tr_y[calib_i],
                        test_x=te_x, test_y=te_y, test_sub=test_sub)
    what = 'Fashion-MNIST (Debian dataset-fashion-mnist 0.0~git20200523.55506a9-1), raw pixel values 0..255; '
    write_fixture(os.path.join(fixtures_dir, 'fashion_test.json'), te_x[test_sub], te_y[test_sub],
                  what + f'numpy.random.default_rng(0).permutation(10000)[:{N_TEST}] of the official test set '
                  '(training/make_fashion_data.py)')
    write_fixture(os.path.join(fixtures_dir, 'fashion_calib.json'), tr_x[calib_i], tr_y[calib_i],
                  what + f'numpy.random.default_rng(1).permutation(60000)[:{N_CALIB}] of the official training set, '
                  'held out of training (training/make_fashion_data.py)')
    print('train', int(keep.sum()), 'calib', len(calib_i), 'test', len(te_x), 'test fixture', len(test_sub))
    print('test fixture labels', np.bincount(te_y[test_sub], minlength=10).tolist())
    print('calib labels', np.bincount(tr_y[calib_i], minlength=10).tolist())


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], sys.argv[3])
