#!/usr/bin/env python3
"""The PyTorch peer of `glimpse bench`: the reference soft-attention LSTM (one layer, MLP attention over
h_{t-1} and x_t, h0/c0 from the clip mean, dropout, deep tanh output), timed on the CPU at a given shape.

Written for this repository; run it with Debian's /usr/bin/python3 and python3-torch. Alongside the clips/s
it measures what the peer's matrix products can reach (a square sgemm) and names the BLAS library torch has
loaded, since a peer figure means nothing without them (Debian's torch runs the system libblas.so.3).
Prints one JSON line.
"""
import argparse
import json
import os
import re
import time

import torch


def linear(d_in, d_out, bias=True):
    """A weight (d_in, d_out) and an optional bias, PyTorch's default uniform initialisation."""
    bound = 1.0 / d_in ** 0.5
    w = torch.empty(d_in, d_out).uniform_(-bound, bound).requires_grad_()
    b = torch.empty(d_out).uniform_(-bound, bound).requires_grad_() if bias else None
    return w, b


def affine(x, wb):
    w, b = wb
    return x @ w if b is None else torch.addmm(b, x.reshape(-1, w.shape[0]), w).reshape(*x.shape[:-1], -1)


class Peer:
    def __init__(self, ctx, dim, dim_out, classes):
        self.init_state, self.init_memory = linear(ctx, dim), linear(ctx, dim)
        self.gates_x, self.gates_h = linear(ctx, 4 * dim), linear(dim, 4 * dim, bias=False)
        self.att_ctx, self.att_h, self.att_out = linear(ctx, ctx), linear(dim, ctx, bias=False), linear(ctx, 1)
        self.out_hidden, self.out_logit = linear(dim, dim_out), linear(dim_out, classes)
        self.dim = dim

    def parameters(self):
        layers = (self.init_state, self.init_memory, self.gates_x, self.gates_h, self.att_ctx, self.att_h,
                  self.att_out, self.out_hidden, self.out_logit)
        return [p for layer in layers for p in layer if p is not None]

    def forward(self, x, train):
        """x: (T, B, L, D) → logits (T, B, C)."""
        drop = (lambda v: torch.nn.functional.dropout(v, 0.5, training=True)) if train else (lambda v: v)
        mean = x.mean(dim=(0, 2))
        h, c = torch.tanh(affine(mean, self.init_state)), torch.tanh(affine(mean, self.init_memory))
        # The context projection does not depend on h: one product for every step. Steps are split with unbind:
        # indexing would give each step's backward a full-size zero gradient to add into (quadratic in T).
        projected = affine(x, self.att_ctx).unbind(0)
        frames = x.unbind(0)
        logits = []
        for t, frame in enumerate(frames):
            energy = affine(torch.tanh(projected[t] + (h @ self.att_h[0]).unsqueeze(1)), self.att_out)
            alpha = torch.softmax(energy.squeeze(-1), dim=1)
            z = torch.bmm(alpha.unsqueeze(1), frame).squeeze(1)
            pre = affine(z, self.gates_x) + h @ self.gates_h[0]
            d = self.dim
            i, f, o = (torch.sigmoid(pre[:, k * d:(k + 1) * d]) for k in range(3))
            c = f * c + i * torch.tanh(pre[:, 3 * d:])
            h = o * torch.tanh(c)
            logits.append(affine(drop(torch.tanh(affine(drop(h), self.out_hidden))), self.out_logit))
        return torch.stack(logits)


def sgemm_gflops(n=1024, repeats=8):
    """The best of `repeats` n×n float32 products, GFLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float('inf')
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * n ** 3 / best / 1e9


def loaded_blas():
    """The BLAS shared objects mapped into this process (after a product has run)."""
    with open('/proc/self/maps') as f:
        paths = set(re.findall(r'(/\S*(?:blas|mkl)\S*\.so\S*)', f.read()))
    return sorted(paths)


def median_seconds(fn, iters):
    fn()  # warm-up
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--steps', type=int, default=30)
    ap.add_argument('--locations', type=int, default=49)
    ap.add_argument('--ctx', type=int, default=1024)
    ap.add_argument('--dim', type=int, default=512)
    ap.add_argument('--dim-out', type=int, default=0, help='default: --dim')
    ap.add_argument('--classes', type=int, default=11)
    ap.add_argument('--iters', type=int, default=3)
    ap.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (0: torch default)')
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    peer = Peer(a.ctx, a.dim, a.dim_out or a.dim, a.classes)
    params = peer.parameters()
    opt = torch.optim.Adam(params, lr=2e-4)
    x = torch.relu(torch.randn(a.steps, a.batch, a.locations, a.ctx))
    y = torch.arange(a.batch) % a.classes

    def train_step():
        logits = peer.forward(x, train=True)
        nll = torch.nn.functional.cross_entropy(logits.reshape(-1, a.classes), y.repeat(a.steps), reduction='sum')
        loss = nll + 1e-5 * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def infer_step():
        with torch.no_grad():
            torch.softmax(peer.forward(x, train=False), dim=-1)

    out = {
        'peer': 'pytorch-cpu',
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'sgemm_gflops': round(sgemm_gflops(), 1),
        'blas': loaded_blas(),
        'openblas_coretype': os.environ.get('OPENBLAS_CORETYPE'),
        'batch': a.batch,
        'steps': a.steps,
        'locations': a.locations,
        'ctx': a.ctx,
        'dim': a.dim,
    }
    for name, fn in (('train', train_step), ('infer', infer_step)):
        s = median_seconds(fn, a.iters)
        out[name + '_ms_per_batch'] = round(s * 1000, 1)
        out[name + '_clips_per_s'] = round(a.batch / s, 2)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
