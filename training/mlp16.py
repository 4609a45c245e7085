"""The fully connected 16-64-32-32-5 network of issue 8 (MNIST digits 0-4, 4x4-pooled; data from
training/make_mlp16_data.py): training, importance scores for `gatec prune`, and the fine-tuning half of
the pruning loop (docs/pruning.md, "Training loop").

Runs on the device machine (not in CI); PyTorch, onnx and onnxruntime come with its image. It needs
training/data/mlp16.npz (gitignored: carry it) and fixtures/mlp16_{test,calib}.json.

  python training/mlp16.py train OUT [--epochs 120]
      trains the network, writes OUT/mlp16_fp32.onnx (opset 13), OUT/mlp16_qdq.onnx (onnxruntime
      quantize_static: QDQ, per-channel int8 weights, int8 activations, MinMax on mlp16_calib.json),
      OUT/mlp16_importance.json (gatec importance file: per weight, the mean over the training set's
      mini-batches of |w * dL/dw|, first-order Taylor), OUT/mlp16_test.json (the test fixture plus
      onnxruntime's logits ort_fp32 and ort_qdq) and OUT/mlp16_meta.json.

  python training/mlp16.py finetune OUT --base fixtures/mlp16_fp32.onnx MASK.json [MASK.json ...]
      for each mask written by `gatec prune ... --mask-out MASK.json` (gatec's knapsack chose it; there is
      one solver): loads the base fp32 weights, zeroes the pruned weights, fine-tunes with the mask held
      fixed (gradients of pruned weights zeroed, mask re-applied after every step), exports
      OUT/<mask name>_fp32.onnx and OUT/<mask name>_qdq.onnx and reports the accuracy before and after
      fine-tuning in OUT/finetune_meta.json. Per-channel symmetric int8 quantization maps an exact zero
      weight to the int8 zero, so the pruned weights stay pruned in the QDQ model.

Network: Flatten, Linear 16->64, ReLU, Linear 64->32, ReLU, Linear 32->32, ReLU, Linear 32->5. Adam,
one-cycle schedule, batch 128, deterministic (seed 0).
"""
import argparse
import json
import os
import time

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 0


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(16, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 32)
        self.fc4 = nn.Linear(32, 5)

    def forward(self, x):
        x = F.relu(self.fc1(self.flat(x)))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return self.fc4(x)


def load_data(dev):
    d = np.load(os.path.join(ROOT, 'training', 'data', 'mlp16.npz'))
    test_fx = json.load(open(os.path.join(ROOT, 'fixtures', 'mlp16_test.json')))
    calib_fx = json.load(open(os.path.join(ROOT, 'fixtures', 'mlp16_calib.json')))
    assert np.array_equal(np.asarray(test_fx['inputs'], np.float32).reshape(-1, 1, 4, 4), d['test_x'])
    assert np.array_equal(np.asarray(calib_fx['inputs'], np.float32).reshape(-1, 1, 4, 4), d['calib_x'])
    t = {k: torch.from_numpy(d[k]).to(dev) for k in ('train_x', 'train_y', 'val_x', 'val_y', 'test_x', 'test_y')}
    return d, t, test_fx


def train(model, x, y, epochs, lr, gen, log, tag, masks=None):
    """Adam, one-cycle schedule; with masks ({param name: 0/1 tensor}) the pruned weights stay zero."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    spe = (len(x) + 127) // 128
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * spe, pct_start=0.15)
    params = dict(model.named_parameters())
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(x), generator=gen).to(x.device)
        tot = 0.0
        for i in range(0, len(x), 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if masks:
                for n, m in masks.items():
                    params[n].grad.mul_(m)
            opt.step()
            sched.step()
            if masks:
                with torch.no_grad():
                    for n, m in masks.items():
                        params[n].mul_(m)
            tot += loss.item() * len(idx)
        if ep % 20 == 19 or ep == epochs - 1:
            log(f'  [{tag}] epoch {ep + 1}/{epochs} loss {tot / len(x):.4f}')


@torch.no_grad()
def torch_acc(model, x, y):
    model.eval()
    return float((model(x).argmax(1) == y).float().mean().item())


def importance(model, x, y):
    """Per weight: mean over mini-batches of |w * dL/dw| (first-order Taylor estimate of the loss change when
    the weight is removed)."""
    model.eval()
    acc = {n: torch.zeros_like(p) for n, p in model.named_parameters() if n.endswith('.weight')}
    batches = 0
    for i in range(0, len(x), 128):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[i:i + 128]), y[i:i + 128]).backward()
        for n, p in model.named_parameters():
            if n in acc:
                acc[n] += (p.detach() * p.grad).abs()
        batches += 1
    return {n: (v / batches).cpu().numpy() for n, v in acc.items()}


def export_fp32(model, path):
    model = model.cpu().eval()
    torch.onnx.export(model, (torch.zeros(1, 1, 4, 4),), path, opset_version=13, input_names=['input'],
                      output_names=['logits'], do_constant_folding=True, dynamo=False)
    onnx.checker.check_model(onnx.load(path))


class Reader(CalibrationDataReader):
    def __init__(self, x):
        self.items = iter([{'input': x[i:i + 1]} for i in range(len(x))])

    def get_next(self):
        return next(self.items, None)


def quantize(fp32_path, qdq_path, calib_x):
    quantize_static(fp32_path, qdq_path, Reader(calib_x), quant_format=QuantFormat.QDQ, per_channel=True,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    # the input goes through Flatten first: quantize it there too (gatec needs the input's
                    # QuantizeLinear)
                    extra_options={'ForceQuantizeNoInputCheck': True})


def ort_logits(path, x):
    s = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    return np.concatenate([s.run(['logits'], {'input': x[i:i + 1]})[0] for i in range(len(x))])


def gemm_weights(path):
    """{Gemm node name: weight initializer name} of an exported fp32 model (the IR names its fc layers by
    the ONNX node names, and quantize_static keeps them)."""
    m = onnx.load(path)
    return {n.name: n.input[1] for n in m.graph.node if n.op_type == 'Gemm'}


def load_fp32(model, path):
    m = onnx.load(path)
    inits = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    sd = model.state_dict()
    for k in sd:
        assert k in inits, f'{path}: no initializer {k}'
        sd[k] = inits[k]
    model.load_state_dict(sd)


def evaluate(fp32, qdq, d, y):
    lf, lq = ort_logits(fp32, d['test_x']), ort_logits(qdq, d['test_x'])
    return float((lf.argmax(1) == y).mean()), float((lq.argmax(1) == y).mean()), lf, lq


def cmd_train(args, dev, log):
    d, t, test_fx = load_data(dev)
    log(f'train {len(d["train_x"])} val {len(d["val_x"])} calib {len(d["calib_x"])} test {len(d["test_x"])}')
    gen = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    model = Net().to(dev)
    train(model, t['train_x'], t['train_y'], args.epochs, args.lr, gen, log, 'mlp16')
    val = torch_acc(model, t['val_x'], t['val_y'])
    imp = importance(model, t['train_x'], t['train_y'])
    fp32, qdq = os.path.join(args.out, 'mlp16_fp32.onnx'), os.path.join(args.out, 'mlp16_qdq.onnx')
    export_fp32(model, fp32)
    quantize(fp32, qdq, d['calib_x'])
    names = gemm_weights(fp32)
    layers = []
    for node, w in names.items():
        v = imp[w]
        layers.append({'name': node, 'shape': list(v.shape), 'values': [float(f'{a:.6g}') for a in v.reshape(-1)]})
    with open(os.path.join(args.out, 'mlp16_importance.json'), 'w') as f:
        json.dump({'format': 'gatec-importance', 'version': 1, 'model': 'mlp16',
                   'method': 'mean over training mini-batches of |w * dL/dw|', 'layers': layers}, f)
    yt = d['test_y']
    accf, accq, lf, lq = evaluate(fp32, qdq, d, yt)
    vq = ort_logits(qdq, d['val_x'])
    test_fx['ort_fp32'] = [[float(a) for a in r] for r in lf]
    test_fx['ort_qdq'] = [[float(a) for a in r] for r in lq]
    with open(os.path.join(args.out, 'mlp16_test.json'), 'w') as f:
        json.dump(test_fx, f)
    meta = {'network': 'Flatten, Gemm 16->64, ReLU, Gemm 64->32, ReLU, Gemm 32->32, ReLU, Gemm 32->5',
            'epochs': args.epochs, 'lr': args.lr, 'torch_val_acc': val,
            'int8_val_acc': float((vq.argmax(1) == d['val_y']).mean()), 'fp32_test_acc': accf,
            'int8_test_acc': accq, 'torch': torch.__version__, 'onnx': onnx.__version__,
            'onnxruntime': ort.__version__}
    with open(os.path.join(args.out, 'mlp16_meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    log(json.dumps(meta))


def cmd_finetune(args, dev, log):
    d, t, _ = load_data(dev)
    names = gemm_weights(args.base)
    results = []
    for mpath in args.masks:
        tag = os.path.splitext(os.path.basename(mpath))[0].replace('.mask', '')
        sel = json.load(open(mpath))
        assert sel.get('format') == 'gatec-prune-mask', f'{mpath}: not a gatec prune mask'
        gen = torch.Generator().manual_seed(SEED)
        torch.manual_seed(SEED)
        model = Net()
        load_fp32(model, args.base)
        model = model.to(dev)
        params = dict(model.named_parameters())
        masks = {}
        for L in sel['layers']:
            w = names[L['name']]
            m = torch.tensor(L['mask'], dtype=torch.float32, device=dev).reshape(params[w].shape)
            masks[w] = m
        with torch.no_grad():
            for w, m in masks.items():
                params[w].mul_(m)
        fp32_0 = os.path.join(args.out, f'{tag}_pruned_fp32.onnx')
        qdq_0 = os.path.join(args.out, f'{tag}_pruned_qdq.onnx')
        export_fp32(model, fp32_0)
        quantize(fp32_0, qdq_0, d['calib_x'])
        before = evaluate(fp32_0, qdq_0, d, d['test_y'])
        model = model.to(dev)
        train(model, t['train_x'], t['train_y'], args.epochs, args.lr, gen, log, tag, masks)
        fp32, qdq = os.path.join(args.out, f'{tag}_fp32.onnx'), os.path.join(args.out, f'{tag}_qdq.onnx')
        export_fp32(model, fp32)
        quantize(fp32, qdq, d['calib_x'])
        after = evaluate(fp32, qdq, d, d['test_y'])
        kept = sum(int(m.sum().item()) for m in masks.values())
        total = sum(m.numel() for m in masks.values())
        zeros = sum(int((params[w] == 0).sum().item()) for w in masks)
        r = {'mask': os.path.basename(mpath), 'weights_kept': kept, 'weights': total, 'zero_weights': zeros,
             'before': {'fp32_test_acc': before[0], 'int8_test_acc': before[1]},
             'after': {'fp32_test_acc': after[0], 'int8_test_acc': after[1]}}
        results.append(r)
        log(json.dumps(r))
    with open(os.path.join(args.out, 'finetune_meta.json'), 'w') as f:
        json.dump({'epochs': args.epochs, 'lr': args.lr, 'results': results}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    a = sub.add_parser('train')
    a.add_argument('out')
    a.add_argument('--epochs', type=int, default=120)
    a.add_argument('--lr', type=float, default=3e-3)
    b = sub.add_parser('finetune')
    b.add_argument('out')
    b.add_argument('--base', required=True)
    b.add_argument('--epochs', type=int, default=60)
    b.add_argument('--lr', type=float, default=1e-3)
    b.add_argument('masks', nargs='+')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    logf = open(os.path.join(args.out, f'{args.cmd}_log.txt'), 'w')

    def log(s):
        print(s, flush=True)
        logf.write(s + '\n')
        logf.flush()

    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.use_deterministic_algorithms(True, warn_only=True)
    t0 = time.time()
    log(f'device {dev} torch {torch.__version__} onnx {onnx.__version__} onnxruntime {ort.__version__}')
    (cmd_train if args.cmd == 'train' else cmd_finetune)(args, dev, log)
    log(f'{time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
