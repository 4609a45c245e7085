"""Train a small Fashion-MNIST CNN plainly and with channel gating (CGNet:
Hua et al., Channel Gating Neural Networks, NeurIPS 2019), export both to
ONNX (opset 13, fp32, BatchNormalization kept as its own node) and the gated
model's gating as a gatec sidecar (docs: fixtures/README.md).

Runs on the device machine (not in CI); PyTorch, onnx and onnxruntime come
with its image. Data: training/make_fashion_data.py writes
training/data/fashion.npz (gitignored, carried to the device) and
fixtures/fashion_test.json / fixtures/fashion_calib.json. Inputs are raw
pixel values 0..255 as floats (no scaling; see make_fashion_data.py).

Usage: python training/cgnet_fashion.py OUT_DIR [--quick] [--jobs N] [--sweep ...]
Writes to OUT_DIR: fashion_plain_fp32.onnx, fashion_gated_fp32.onnx (the
UNGATED graph holding the gated model's weights), fashion_gating.json (the
sidecar), fashion_meta.json, fashion_test.json (fixtures/fashion_test.json
plus reference outputs) and train_log.txt.

Network: Conv3x3 1->16 + BN + ReLU, Conv3x3 16->32 + BN + ReLU, MaxPool 2x2,
Conv3x3 32->32 + BN + ReLU, Conv3x3 32->64 + BN + ReLU, MaxPool 2x2,
Conv3x3 64->64 + BN + ReLU, GlobalAveragePool, Flatten, Gemm 64->10. Convs
have no bias (BN follows). conv2..conv5 are gated; conv1 (whose input is the
image) is not.

Gating (the semantics gatec implements; exact in the forward direction at
inference): a gated conv with weights W and input x has a base channel set S,
the first k = round(base * C_in) input channels (base = 1/4 by default, CGNet's
four partitions without the group variant). p = conv(x[S], W[:, S]) is the
base partial sum (real units, before the BN that follows). The gate of an
output (co, y, x) is p > thr[co]; the output before BN is conv(x, W) where
the gate is on and p where it is off. Inference uses exactly this, with thr
in real units; those thr are the sidecar's thresholds.

Training (as the authors' reference code, github.com/cornell-zhang/dnn-gating
utils/cg_utils.py CGConv2d and cg-cifar10.py): the gate compares the partial
sum normalized by a BatchNorm without affine parameters (batch statistics in
training, running statistics at inference) with a learnable threshold Delta
per output channel: d = step(sigmoid(alpha * (bn(p) - Delta)) - 0.5), alpha
= 2, forward the hard step, backward the sigmoid's derivative (the step
passes the gradient straight through; with sparse_bp, as in the authors'
training script, only where the gate is on). The output is p + d * (conv of
the remaining channels). At inference bn(p) > Delta is p > mu + Delta *
sqrt(var + eps) (running statistics; the square root is positive, so the
comparison keeps its direction): thr = mu + Delta * sqrt(var + eps),
computed once in float64 and stored as float32. The loss is CGNet's
targeted-threshold loss: cross-entropy + lambda * sum over gated layers and
output channels of (Delta - delta_target)^2, which pulls the thresholds
towards the target delta_target (a larger target gates more outputs off)
while the cross-entropy pulls them down where the remaining channels matter.
Thresholds start at 0 (as the reference) and get no weight decay. The
authors use lambda = 1e-4 with SGD over 250 epochs; with Adam over 20 epochs
this script uses lambda = 1e-3 by default (a candidate's 'lam'), tried
candidates are (delta_target, lambda, base, sparse_bp); every candidate and
the plain model start from the same seed and train the same number of epochs
(Adam one-cycle, max lr 3e-3, batch 128, random shifts <= 2 px and horizontal
flips). Candidates train in parallel processes on the one GPU (--jobs).

Selection: the candidate with the largest MAC reduction over the gated layers
(float model, validation set) whose validation accuracy is within MAX_DROP
points of the plain model's; validation = 5,000 samples held out of the
training set. The 10,000-sample test set is not used for any choice.

MACs: a gated conv costs k*9 MACs for every output (base path) plus
(C_in-k)*9 for every gated-on output; dense = C_in*9 per output (padding
positions counted as MACs, as dense). MAC reduction = dense / executed,
summed over the gated layers (and over the whole network, conv1 and the fc
included, in 'network_mac_reduction').

Check (onnxruntime + numpy): the exported graphs run in onnxruntime; a numpy
interpreter of the exported graph (its initializers, node by node) gives the
same logits without gating, and with the sidecar's gating applied to the
Conv nodes it names gives the PyTorch gated model's predictions (agreement
and gate-decision agreement printed and stored in the meta file).
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 0
N_VAL = 5000
N_CHECK = 2000  # test samples the numpy interpreter runs (with and without gating)
MAX_DROP = 0.5  # points of float validation accuracy the gated model may lose (the goal allows 1 on the test set)
ALPHA = 2.0
LAYERS = [  # name, C_in, C_out, gated, spatial size of its output
    ('conv1', 1, 16, False, 28),
    ('conv2', 16, 32, True, 28),
    ('conv3', 32, 32, True, 14),
    ('conv4', 32, 64, True, 14),
    ('conv5', 64, 64, True, 7),
]
DEFAULT_SWEEP = ('1.0:1e-3:0.25:1,2.0:1e-3:0.25:1,2.0:1e-3:0.25:0,3.0:1e-3:0.25:0,'
                 '0.75:1e-3:0.125:1,1.0:1e-3:0.125:0,1.5:1e-3:0.125:0')


class StepSTE(torch.autograd.Function):
    """x > 0 as 0/1; backward passes the gradient through (sparse: only where x >= 0, the gate is on)."""

    @staticmethod
    def forward(ctx, x, sparse):
        ctx.save_for_backward(x)
        ctx.sparse = sparse
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        if ctx.sparse:
            g = g * (x >= 0).to(g.dtype)
        return g, None


class GatedConv2d(nn.Conv2d):
    def __init__(self, cin, cout, base, sparse_bp):
        super().__init__(cin, cout, 3, padding=1, bias=False)
        self.k = max(1, int(round(base * cin)))
        self.sparse_bp = sparse_bp
        self.gate_bn = nn.BatchNorm2d(cout, affine=False)
        self.threshold = nn.Parameter(torch.zeros(cout))
        self.stats = None  # (gated-on outputs, outputs) of the last forward

    def real_thresholds(self):
        """thr in real units of p (float32): mu + Delta * sqrt(var + eps) of the gate's BatchNorm."""
        bn = self.gate_bn
        t = (bn.running_mean.double() + self.threshold.detach().double() * (bn.running_var.double() + bn.eps).sqrt())
        return t.float()

    def forward(self, x):
        k = self.k
        p = F.conv2d(x[:, :k], self.weight[:, :k], None, 1, 1)
        r = F.conv2d(x[:, k:], self.weight[:, k:], None, 1, 1)
        if self.training:
            s = torch.sigmoid(ALPHA * (self.gate_bn(p) - self.threshold.view(1, -1, 1, 1))) - 0.5
            d = StepSTE.apply(s, self.sparse_bp)
        else:
            d = (p > self.real_thresholds().to(p.device).view(1, -1, 1, 1)).to(p.dtype)
        self.stats = (d.detach().sum(dim=(0, 2, 3)), d[0].numel() // d.shape[1] * d.shape[0])
        return p + d * r


class Net(nn.Module):
    """gating None: the plain network (also the exported graph); else (base, sparse_bp)."""

    def __init__(self, gating=None):
        super().__init__()
        for name, cin, cout, gated, _ in LAYERS:
            conv = GatedConv2d(cin, cout, *gating) if gating and gated else nn.Conv2d(cin, cout, 3, padding=1, bias=False)
            setattr(self, name, conv)
            setattr(self, 'bn' + name[4:], nn.BatchNorm2d(cout))
        self.pool1 = nn.MaxPool2d(2)
        self.pool2 = nn.MaxPool2d(2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool1(F.relu(self.bn2(self.conv2(x))))
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.pool2(F.relu(self.bn4(self.conv4(x))))
        x = F.relu(self.bn5(self.conv5(x)))
        return self.fc(torch.flatten(self.gap(x), 1))

    def gated_layers(self):
        return [(n, getattr(self, n)) for n, *_ in LAYERS if isinstance(getattr(self, n), GatedConv2d)]


def augment(x, gen):
    """Random integer shifts of up to 2 pixels (zero fill) and horizontal flips."""
    b = x.shape[0]
    s = torch.randint(-2, 3, (b, 2), generator=gen).to(x.device)
    flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
    theta = torch.zeros(b, 2, 3, device=x.device)
    theta[:, 0, 0] = torch.where(flip, -1.0, 1.0)
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = s[:, 0].float() * 2 / x.shape[3]
    theta[:, 1, 2] = s[:, 1].float() * 2 / x.shape[2]
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, mode='nearest', padding_mode='zeros', align_corners=False)


def load_data(train_limit=0):
    d = np.load(os.path.join(ROOT, 'training', 'data', 'fashion.npz'))
    perm = np.random.default_rng(SEED).permutation(len(d['train_x']))
    val_i, tr_i = perm[:N_VAL], perm[N_VAL:]
    if train_limit:
        tr_i = tr_i[:train_limit]
    f = lambda a: a.astype(np.float32)[:, None]  # noqa: E731  raw pixels 0..255
    return {'train_x': f(d['train_x'][tr_i]), 'train_y': d['train_y'][tr_i].astype(np.int64),
            'val_x': f(d['train_x'][val_i]), 'val_y': d['train_y'][val_i].astype(np.int64),
            'test_x': f(d['test_x']), 'test_y': d['test_y'].astype(np.int64), 'test_sub': d['test_sub'],
            'calib_x': f(d['calib_x']), 'calib_y': d['calib_y'].astype(np.int64)}


def setup_torch():
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def train_job(job):
    """One model: job = dict(tag, gating (None or (base, sparse_bp)), delta, lam, epochs, lr, dev, train_limit).
    Returns the state dict (CPU), the log lines and seconds."""
    setup_torch()
    t0 = time.time()
    dev = job['dev']
    data = load_data(job['train_limit'])
    x = torch.from_numpy(data['train_x']).to(dev)
    y = torch.from_numpy(data['train_y']).to(dev)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    model = Net(job['gating']).to(dev)
    thr = [p for n, p in model.named_parameters() if n.endswith('threshold')]
    rest = [p for n, p in model.named_parameters() if not n.endswith('threshold')]
    opt = torch.optim.Adam([{'params': rest}, {'params': thr, 'weight_decay': 0.0}], lr=job['lr'])
    bs = 128
    steps = (len(x) + bs - 1) // bs
    epochs = job['epochs']
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=job['lr'], total_steps=epochs * steps, pct_start=0.15)
    lines = []

    def log(s):
        s = f'[{job["tag"]}] {s}'
        lines.append(s)
        print(s, flush=True)

    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen).to(dev)
        tot = torch.zeros((), device=dev)
        totp = torch.zeros((), device=dev)
        on = {n: torch.zeros((), device=dev) for n, _ in model.gated_layers()}
        cnt = {n: 0 for n, _ in model.gated_layers()}
        for i in range(0, len(x), bs):
            idx = perm[i:i + bs]
            out = model(augment(x[idx], gen))
            loss = F.cross_entropy(out, y[idx])
            if thr:
                pen = sum(((p - job['delta']) ** 2).sum() for p in thr)
                loss = loss + job['lam'] * pen
                totp += pen.detach() * len(idx)
                for n, m in model.gated_layers():
                    on[n] += m.stats[0].sum()
                    cnt[n] += m.stats[1] * m.out_channels
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += loss.detach() * len(idx)
        if ep % 5 == 4 or ep == epochs - 1:
            s = f'epoch {ep + 1}/{epochs} loss {tot.item() / len(x):.4f}'
            if thr:
                s += f' penalty {totp.item() / len(x):.3f} off(train) ' + ' '.join(
                    f'{n} {1 - on[n].item() / cnt[n]:.3f}' for n in on) + ' mean Delta ' + ' '.join(
                    f'{m.threshold.mean().item():.2f}' for _, m in model.gated_layers())
            log(s + f'  [{time.time() - t0:.0f} s]')
    return {'state': {k: v.detach().cpu() for k, v in model.state_dict().items()}, 'log': lines,
            'seconds': time.time() - t0}


@torch.no_grad()
def evaluate(model, x, y, dev, bs=1000):
    """Float accuracy, logits, and per gated layer the gated-on outputs and all outputs (eval mode: thr in real
    units)."""
    model.eval()
    logits = []
    on = {n: 0.0 for n, _ in model.gated_layers()}
    tot = {n: 0 for n, _ in model.gated_layers()}
    for i in range(0, len(x), bs):
        logits.append(model(torch.from_numpy(x[i:i + bs]).to(dev)).cpu().numpy())
        for n, m in model.gated_layers():
            on[n] += float(m.stats[0].sum().item())
            tot[n] += m.stats[1] * m.out_channels
    logits = np.concatenate(logits)
    return float((logits.argmax(1) == y).mean()), logits, {n: on[n] / tot[n] for n in on}


def mac_table(on_frac, base_k):
    """Per gated layer: dense and executed MACs per sample, reduction, gated-off fraction; totals."""
    rows = {}
    dense_g = exec_g = dense_all = 0.0
    for name, cin, cout, gated, hw in LAYERS:
        dense = cout * hw * hw * cin * 9
        dense_all += dense
        if name not in on_frac:
            continue
        k = base_k[name]
        ex = cout * hw * hw * (k * 9 + on_frac[name] * (cin - k) * 9)
        rows[name] = {'base_channels': k, 'in_channels': cin, 'out_channels': cout, 'outputs': cout * hw * hw,
                      'gated_off': round(1 - on_frac[name], 5), 'dense_macs': dense, 'executed_macs': round(ex, 1),
                      'mac_reduction': round(dense / ex, 4)}
        dense_g += dense
        exec_g += ex
    fc = 64 * 10
    dense_all += fc
    exec_all = exec_g + (dense_all - dense_g)
    return rows, {'gated_dense_macs': dense_g, 'gated_executed_macs': round(exec_g, 1),
                  'gated_mac_reduction': round(dense_g / exec_g, 4) if exec_g else None,
                  'network_dense_macs': dense_all, 'network_executed_macs': round(exec_all, 1),
                  'network_mac_reduction': round(dense_all / exec_all, 4)}


# ---------------------------------------------------------------- export and the numpy check

def plain_from(state):
    """The plain (ungated) network holding the weights of a trained model (gate parameters dropped)."""
    net = Net(None)
    keep = {k: v for k, v in state.items() if '.gate_bn.' not in k and not k.endswith('.threshold')}
    net.load_state_dict(keep, strict=True)
    return net.eval()


def export_onnx(net, path):
    import onnx
    from onnx import numpy_helper
    torch.onnx.export(net.cpu().eval(), (torch.zeros(1, 1, 28, 28),), path, opset_version=13, input_names=['input'],
                      output_names=['logits'], do_constant_folding=False, dynamo=False)
    m = onnx.load(path)
    # the TorchScript exporter shares equal tensors through Identity nodes (e.g. running_var == weight): give
    # each its own initializer so that the graph holds only ops gatec imports
    inits = {i.name: i for i in m.graph.initializer}
    for n in [n for n in m.graph.node if n.op_type == 'Identity' and n.input[0] in inits]:
        t = numpy_helper.from_array(numpy_helper.to_array(inits[n.input[0]]).copy(), n.output[0])
        m.graph.initializer.append(t)
        m.graph.node.remove(n)
    onnx.checker.check_model(m)
    onnx.save(m, path)
    ops = [n.op_type for n in m.graph.node]
    assert 'BatchNormalization' in ops and 'Identity' not in ops, ops
    return m, sorted(set(ops)), [n.name for n in m.graph.node if n.op_type == 'Conv']


def np_conv(x, w, b, pads):
    """x [N,C,H,W], w [O,C,3,3] (stride 1, dilation 1, group 1), float32."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ho, wo = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
    cols = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))  # N,C,Ho,Wo,kh,kw
    cols = cols.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * kh * kw)
    out = cols @ w.reshape(o, -1).T
    out = out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b.reshape(1, -1, 1, 1)
    return np.ascontiguousarray(out, dtype=np.float32)


def np_run(model, x, gating=None):
    """Numpy interpreter of the exported graph; gating: the sidecar's 'layers' (None: dense). Returns logits and
    per gated Conv node the gate array [N,O,H,W] (bool)."""
    from onnx import helper, numpy_helper
    env = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    env['input'] = x
    gates = {}
    for n in model.graph.node:
        a = {at.name: helper.get_attribute_value(at) for at in n.attribute}
        i = [env[v] if v else None for v in n.input]
        if n.op_type == 'Conv':
            assert a.get('group', 1) == 1 and list(a.get('strides', [1, 1])) == [1, 1]
            pads = list(a.get('pads', [0, 0, 0, 0]))
            b = i[2] if len(i) > 2 else None
            full = np_conv(i[0], i[1], b, pads)
            g = (gating or {}).get(n.name)
            if g is not None:
                s = np.asarray(g['base'])
                thr = np.asarray(g['thresholds'], dtype=np.float32)
                p = np_conv(i[0][:, s], i[1][:, s], None, pads)  # base partial sum, bias excluded
                on = p > thr.reshape(1, -1, 1, 1)
                base = p + (b.reshape(1, -1, 1, 1) if b is not None else 0)
                full = np.where(on, full, base).astype(np.float32)
                gates[n.name] = on
            y = full
        elif n.op_type == 'BatchNormalization':
            sc, bi, mu, var = i[1:5]
            eps = a.get('epsilon', 1e-5)
            y = ((i[0] - mu.reshape(1, -1, 1, 1)) / np.sqrt(var.reshape(1, -1, 1, 1) + np.float32(eps))
                 * sc.reshape(1, -1, 1, 1) + bi.reshape(1, -1, 1, 1)).astype(np.float32)
        elif n.op_type == 'Relu':
            y = np.maximum(i[0], 0)
        elif n.op_type == 'MaxPool':
            assert list(a['kernel_shape']) == [2, 2] and list(a['strides']) == [2, 2]
            t = i[0]
            y = t.reshape(t.shape[0], t.shape[1], t.shape[2] // 2, 2, t.shape[3] // 2, 2).max(axis=(3, 5))
        elif n.op_type == 'GlobalAveragePool':
            y = i[0].mean(axis=(2, 3), keepdims=True, dtype=np.float32)
        elif n.op_type == 'Flatten':
            y = i[0].reshape(i[0].shape[0], -1)
        elif n.op_type == 'Gemm':
            assert a.get('transB', 0) == 1
            y = (i[0] @ i[1].T + i[2]).astype(np.float32)
        else:
            raise ValueError(f'numpy check: op {n.op_type} ({n.name})')
        env[n.output[0]] = y
    return env[model.graph.output[0].name], gates


def np_run_batched(model, x, gating=None, bs=500):
    outs, gates = [], {}
    for i in range(0, len(x), bs):
        o, g = np_run(model, x[i:i + bs], gating)
        outs.append(o)
        for k, v in g.items():
            gates.setdefault(k, []).append(v)
    return np.concatenate(outs), {k: np.concatenate(v) for k, v in gates.items()}


def ort_logits(path, x, bs=1000):
    """onnxruntime's logits; the exported graphs take a batch of 1 (as gatec's), so a copy with a free batch
    dimension runs here (bs=1 runs the file itself, sample by sample)."""
    import onnx
    import onnxruntime as ort
    m = onnx.load(path)
    if bs > 1:
        for v in list(m.graph.input) + list(m.graph.output):
            v.type.tensor_type.shape.dim[0].dim_param = 'N'
    sess = ort.InferenceSession(m.SerializeToString(), providers=['CPUExecutionProvider'])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: x[i:i + bs]})[0] for i in range(0, len(x), bs)])


def f32(v):
    """Shortest decimal that reads back as the same float32."""
    return float(str(np.float32(v)))


# ---------------------------------------------------------------- main

def parse_sweep(s):
    out = []
    for c in s.split(','):
        delta, lam, base, bp = c.split(':')
        out.append({'delta': float(delta), 'lam': float(lam), 'base': float(base), 'sparse_bp': bool(int(bp))})
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--quick', action='store_true', help='1 epoch, the first two candidates, 4,000 training samples')
    ap.add_argument('--sweep', default=DEFAULT_SWEEP,
                    help='gated candidates delta_target:lambda:base:sparse_bp (base = fraction of input channels)')
    ap.add_argument('--epochs', type=int, default=20)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--jobs', type=int, default=0, help='parallel training processes (0: one per model)')
    ap.add_argument('--cpu', action='store_true')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.out, 'train_log.txt'), 'w')

    def log(s):
        print(s, flush=True)
        logf.write(s + '\n')
        logf.flush()

    import onnx
    import onnxruntime as ort
    t0 = time.time()
    setup_torch()
    dev = 'cuda' if torch.cuda.is_available() and not args.cpu else 'cpu'
    sweep = parse_sweep(args.sweep)
    epochs, train_limit = args.epochs, 0
    if args.quick:
        sweep, epochs, train_limit = sweep[:2], 1, 4000
    data = load_data(train_limit)
    test_fx = json.load(open(os.path.join(ROOT, 'fixtures', 'fashion_test.json')))
    calib_fx = json.load(open(os.path.join(ROOT, 'fixtures', 'fashion_calib.json')))
    assert np.array_equal(np.asarray(test_fx['inputs'], np.float32).reshape(-1, 1, 28, 28),
                          data['test_x'][data['test_sub']])
    assert np.array_equal(np.asarray(calib_fx['inputs'], np.float32).reshape(-1, 1, 28, 28), data['calib_x'])
    log(f'device {dev} ({torch.cuda.get_device_name() if dev == "cuda" else "cpu"}) torch {torch.__version__} '
        f'onnx {onnx.__version__} onnxruntime {ort.__version__} numpy {np.__version__}')
    log(f'train {len(data["train_x"])} val {len(data["val_x"])} test {len(data["test_x"])} '
        f'(fixture {len(data["test_sub"])}) calib {len(data["calib_x"])}')

    jobs = [{'tag': 'plain', 'gating': None, 'delta': 0.0, 'lam': 0.0}]
    for c in sweep:
        jobs.append({'tag': f'gated d{c["delta"]} l{c["lam"]:g} b{c["base"]:g} sbp{int(c["sparse_bp"])}',
                     'gating': (c['base'], c['sparse_bp']), 'delta': c['delta'], 'lam': c['lam'], 'cand': c})
    for j in jobs:
        j.update(epochs=epochs, lr=args.lr, dev=dev, train_limit=train_limit)
    log(f'{len(jobs)} models, {epochs} epochs each, Adam one-cycle max lr {args.lr}, batch 128, shifts <= 2 px, '
        f'horizontal flips; gate alpha {ALPHA}')
    n_jobs = args.jobs or len(jobs)
    if n_jobs > 1:
        with mp.get_context('spawn').Pool(n_jobs) as pool:
            results = pool.map(train_job, jobs, chunksize=1)
    else:
        results = [train_job(j) for j in jobs]
    for r in results:
        for s in r['log']:
            logf.write(s + '\n')
    log(f'training done [{time.time() - t0:.0f} s]')

    # evaluate every model on validation and test (float, eval mode)
    evals = []
    for j, r in zip(jobs, results):
        model = Net(j['gating']).to(dev)
        model.load_state_dict(r['state'])
        e = {'tag': j['tag'], 'job': j, 'state': r['state'], 'train_seconds': round(r['seconds'], 1)}
        e['val_acc'], _, val_on = evaluate(model, data['val_x'], data['val_y'], dev)
        e['test_acc'], e['test_logits'], test_on = evaluate(model, data['test_x'], data['test_y'], dev)
        if j['gating']:
            ks = {n: m.k for n, m in model.gated_layers()}
            e['val_layers'], e['val_total'] = mac_table(val_on, ks)
            e['test_layers'], e['test_total'] = mac_table(test_on, ks)
            e['mean_delta'] = {n: round(float(m.threshold.detach().mean()), 4) for n, m in model.gated_layers()}
        evals.append(e)
        s = f'{e["tag"]:32s} val {e["val_acc"]:.4f} test {e["test_acc"]:.4f}'
        if j['gating']:
            s += (f' | MAC reduction val {e["val_total"]["gated_mac_reduction"]:.3f} test '
                  f'{e["test_total"]["gated_mac_reduction"]:.3f} | off(test) '
                  + ' '.join(f'{n} {v["gated_off"]:.3f}' for n, v in e['test_layers'].items()))
        log(s)
    plain = evals[0]
    cands = evals[1:]
    ok = [e for e in cands if e['val_acc'] >= plain['val_acc'] - MAX_DROP / 100 - 1e-9]
    best = (max(ok, key=lambda e: e['val_total']['gated_mac_reduction']) if ok
            else max(cands, key=lambda e: e['val_acc']))
    log(f'chosen: {best["tag"]} (val acc {best["val_acc"]:.4f} vs plain {plain["val_acc"]:.4f}, val MAC reduction '
        f'{best["val_total"]["gated_mac_reduction"]:.3f})' + ('' if ok else '  NO candidate within MAX_DROP'))

    # export
    gated_model = Net(best['job']['gating']).to(dev)
    gated_model.load_state_dict(best['state'])
    gated_model.eval()
    p_path = os.path.join(args.out, 'fashion_plain_fp32.onnx')
    g_path = os.path.join(args.out, 'fashion_gated_fp32.onnx')
    p_onnx, ops, p_convs = export_onnx(plain_from(plain['state']), p_path)
    g_onnx, g_ops, g_convs = export_onnx(plain_from(best['state']), g_path)
    assert ops == g_ops and p_convs == g_convs, (ops, g_ops, p_convs, g_convs)
    log(f'onnx ops {ops}; Conv nodes {g_convs}')
    conv_name = {n: f'/{n}/Conv' for n, *_ in LAYERS}
    assert sorted(conv_name.values()) == sorted(g_convs), g_convs
    sidecar = {'format': 'gatec-gating', 'version': 1, 'layers': {}}
    for n, m in gated_model.gated_layers():
        sidecar['layers'][conv_name[n]] = {'base': list(range(m.k)),
                                           'thresholds': [f32(v) for v in m.real_thresholds().cpu().numpy()]}
    with open(os.path.join(args.out, 'fashion_gating.json'), 'w') as f:
        json.dump(sidecar, f, separators=(',', ':'))
        f.write('\n')
    sidecar = json.load(open(os.path.join(args.out, 'fashion_gating.json')))
    for n, m in gated_model.gated_layers():  # the float32 thresholds survive the JSON exactly
        assert np.array_equal(np.asarray(sidecar['layers'][conv_name[n]]['thresholds'], np.float32),
                              m.real_thresholds().cpu().numpy())

    # check: onnxruntime, numpy interpreter with and without the sidecar, PyTorch
    tx, ty = data['test_x'], data['test_y']
    chk = {}
    ort_p = ort_logits(p_path, tx)
    ort_g = ort_logits(g_path, tx)
    nc = N_CHECK
    np_p, _ = np_run_batched(p_onnx, tx[:nc])
    np_gd, _ = np_run_batched(g_onnx, tx[:nc])
    np_g, np_gates = np_run_batched(g_onnx, tx[:nc], sidecar['layers'])
    chk['samples_numpy'] = nc
    chk['ort_plain_test_acc'] = float((ort_p.argmax(1) == ty).mean())
    chk['ort_gated_graph_dense_test_acc'] = float((ort_g.argmax(1) == ty).mean())
    chk['numpy_vs_ort_dense_max_abs_diff'] = float(max(np.abs(np_p - ort_p[:nc]).max(), np.abs(np_gd - ort_g[:nc]).max()))
    chk['ort_vs_torch_plain_max_abs_diff'] = float(np.abs(ort_p - plain['test_logits']).max())
    chk['numpy_gated_acc'] = float((np_g.argmax(1) == ty[:nc]).mean())
    chk['torch_gated_acc_same_samples'] = float((best['test_logits'][:nc].argmax(1) == ty[:nc]).mean())
    chk['numpy_gated_vs_torch_gated_prediction_agreement'] = float(
        (np_g.argmax(1) == best['test_logits'][:nc].argmax(1)).mean())
    chk['numpy_gated_vs_torch_gated_max_abs_diff'] = float(np.abs(np_g - best['test_logits'][:nc]).max())
    # gate decisions of PyTorch (eval) vs numpy, layer by layer
    torch_gates = {}
    hooks = []
    for n, m in gated_model.gated_layers():
        def hook(mod, inp, out, n=n):
            k = mod.k
            with torch.no_grad():
                p = F.conv2d(inp[0][:, :k], mod.weight[:, :k], None, 1, 1)
                torch_gates.setdefault(n, []).append((p > mod.real_thresholds().to(p.device).view(1, -1, 1, 1)).cpu().numpy())
        hooks.append(m.register_forward_hook(hook))
    evaluate(gated_model, tx[:nc], ty[:nc], dev)
    for h in hooks:
        h.remove()
    chk['gate_decisions_differing'] = {n: int((np.concatenate(torch_gates[n]) != np_gates[conv_name[n]]).sum())
                                       for n in torch_gates}
    chk['gate_decisions'] = {n: int(np_gates[conv_name[n]].size) for n in torch_gates}
    np_on = {n: float(np_gates[conv_name[n]].mean()) for n in torch_gates}
    np_layers, np_total = mac_table(np_on, {n: m.k for n, m in gated_model.gated_layers()})
    chk['numpy_gated_mac_reduction'] = np_total['gated_mac_reduction']
    for k, v in chk.items():
        log(f'check {k}: {v}')
    assert chk['numpy_vs_ort_dense_max_abs_diff'] < 1e-3, chk
    assert chk['numpy_gated_vs_torch_gated_prediction_agreement'] > 0.999, chk

    # the test fixture plus reference outputs (200 samples)
    sub = data['test_sub']
    sx = data['test_x'][sub]
    ref_g, ref_gates = np_run(g_onnx, sx, sidecar['layers'])
    ref = {
        'ort_plain_fp32': ort_logits(p_path, sx, bs=1),
        'ort_gated_graph_fp32_dense': ort_logits(g_path, sx, bs=1),
        'gated_fp32': ref_g,
    }

    def logits_json(a):
        return [[f32(v) for v in row] for row in a]

    with open(os.path.join(ROOT, 'fixtures', 'fashion_test.json')) as f:
        text = f.read().rstrip()
    assert text.endswith('}')
    extra = ''.join(f',"{k}":' + json.dumps(logits_json(v), separators=(',', ':')) for k, v in ref.items())
    extra += ',"gated_on_layers":' + json.dumps([conv_name[n] for n, _ in gated_model.gated_layers()])
    extra += ',"gated_on":' + json.dumps([[int(ref_gates[conv_name[n]][i].sum()) for n, _ in gated_model.gated_layers()]
                                          for i in range(len(sx))], separators=(',', ':'))
    with open(os.path.join(args.out, 'fashion_test.json'), 'w') as f:
        f.write(text[:-1] + extra + '}\n')

    def summary(e):
        r = {'val_acc': e['val_acc'], 'test_acc': e['test_acc'], 'train_seconds': e['train_seconds']}
        if e['job']['gating']:
            r.update(delta_target=e['job']['delta'], lam=e['job']['lam'], base=e['job']['cand']['base'],
                     sparse_bp=e['job']['cand']['sparse_bp'], mean_delta=e['mean_delta'],
                     val_gated_mac_reduction=e['val_total']['gated_mac_reduction'],
                     test_gated_mac_reduction=e['test_total']['gated_mac_reduction'],
                     test_gated_off={n: v['gated_off'] for n, v in e['test_layers'].items()})
        return r

    meta = {
        'network': 'Conv3x3 1->16+BN+ReLU, Conv3x3 16->32+BN+ReLU, MaxPool2, Conv3x3 32->32+BN+ReLU, '
                   'Conv3x3 32->64+BN+ReLU, MaxPool2, Conv3x3 64->64+BN+ReLU, GlobalAveragePool, Flatten, Gemm 64->10; '
                   'convs without bias, BN kept as separate nodes; input raw pixels 0..255',
        'onnx_ops': ops,
        'conv_nodes': g_convs,
        'gated_conv_nodes': list(sidecar['layers']),
        'gating_semantics': 'p = conv(x[base], W[:, base]) without bias (pre-BN, real units); gate = p > thr[co]; '
                            'pre-BN output = conv(x, W) + b where the gate is on, p + b where off',
        'data': {'train': int(len(data['train_x'])), 'val': int(len(data['val_x'])), 'test': int(len(tx)),
                 'test_fixture': int(len(sub)), 'calib': int(len(data['calib_x'])),
                 'source': 'Debian dataset-fashion-mnist, training/make_fashion_data.py'},
        'training': {'epochs': epochs, 'optimizer': f'Adam, one-cycle lr max {args.lr}, batch 128, random shifts <= 2 px '
                                                    'and horizontal flips, no weight decay',
                     'gate': f'd = step(sigmoid({ALPHA} * (BN_noaffine(p) - Delta)) - 0.5), straight-through '
                             'backward (sparse_bp: only where the gate is on); Delta learnable per output channel, '
                             'init 0; thr = running_mean + Delta * sqrt(running_var + eps)',
                     'loss': 'cross-entropy + lambda * sum over gated layers and output channels of (Delta - delta_target)^2'},
        'plain': {**summary(plain), 'ort_fp32_test_acc': chk['ort_plain_test_acc']},
        'gated': {**summary(best),
                  'ort_fp32_test_acc_without_gating': chk['ort_gated_graph_dense_test_acc'],
                  'test_layers': best['test_layers'], 'test_total': best['test_total'],
                  'val_layers': best['val_layers'], 'val_total': best['val_total']},
        'accuracy_drop_points_test': round(100 * (plain['test_acc'] - best['test_acc']), 2),
        'sweep': [summary(e) for e in cands],
        'selection': f'largest val gated MAC reduction with val acc >= plain - {MAX_DROP} points'
                     + ('' if ok else ' (none qualified: the most accurate candidate was kept)'),
        'check': chk,
        'mac_definition': 'per gated conv output: base_channels*9 MACs, plus (in_channels-base_channels)*9 if the gate '
                          'is on; dense in_channels*9; padding counted; reduction = dense/executed',
        'versions': {'torch': torch.__version__, 'onnx': onnx.__version__, 'onnxruntime': ort.__version__,
                     'numpy': np.__version__},
        'device': torch.cuda.get_device_name() if dev == 'cuda' else 'cpu',
        'seed': SEED,
        'quick': bool(args.quick),
        'seconds': round(time.time() - t0, 1),
    }
    with open(os.path.join(args.out, 'fashion_meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
        f.write('\n')
    log(f'per layer (test): ' + '; '.join(f'{n} off {v["gated_off"]:.3f} x{v["mac_reduction"]:.2f}'
                                          for n, v in best['test_layers'].items()))
    log(f'plain test {plain["test_acc"]:.4f} gated test {best["test_acc"]:.4f} (drop '
        f'{meta["accuracy_drop_points_test"]} points), gated-layer MAC reduction '
        f'{best["test_total"]["gated_mac_reduction"]:.3f}, network {best["test_total"]["network_mac_reduction"]:.3f}')
    log(f'done in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
