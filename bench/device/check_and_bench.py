#!/usr/bin/env python3
"""Checks and benchmarks Tessera's CUDA kernels through their C ABI (ctypes).

Checks (@check): every kernel against PyTorch computed in float64 on fresh
random inputs, outputs poisoned (NaN, or a sentinel for int32) before each
run so that an unwritten element fails. The error of a check is
    rel_err = max |out - ref| / max |ref|        (normwise, float64)
and must stay under 1e-5 on float32 paths, 5e-3 on TF32 (10-bit mantissa
operands) and 1e-2 on BF16 (7-bit mantissa operands).

Benchmarks (@bench): every kernel family in the same run, against PyTorch
(cuBLAS, cuSPARSE, cuDNN, or its own kernels), timed with CUDA events on one
stream, median of many runs, with the target ratio of each; bandwidth-bound
kernels against the device-to-device copy bandwidth. Results go to
$OUT/cuda_bench.json when OUT is set.

--dry-run needs no GPU: the same checks and benchmarks at small sizes on CPU
tensors, with the float64 references and the PyTorch baselines computed for
real and the library replaced by a mock that takes every call through ctypes
with the C signatures (so argument counts and types are those of the real
call), checks that every pointer lies in a tensor the harness made and that
every view reaches only inside it, and returns success. It also compares the
ctypes mirror (capi.py) with kernels/cuda/capi.h, and fails unless every C
function of a kernel family is called by a check and by a benchmark.
"""
import argparse
import ctypes
import json
import math
import os
import statistics
import sys
import time
import traceback

import torch
import torch.nn.functional as F

from capi import (ACTIVATION, BINARY, FLOAT32, INT32, I64, INT, NORM_ACTIVATION, PRECISION, PTR, REDUCE, SIGNATURES,
                  UNARY, header_problems, kernel_functions, AdamParams, BatchnormParams, ConvParams, Csr, MatmulParams,
                  LstmParams, PoolParams, SgdParams, View, VP)

TOLERANCE = {'float32': 1e-5, 'tf32': 5e-3, 'bf16': 1e-2}

# Set by main().
DRY = False
DEVICE = 'cuda'
lib = ck = timings = None
CHECKS, BENCHES = [], []


def check(family):
    """Registers a check of a kernel family (kernels/cuda/<family>.cu)."""
    def register(fn):
        CHECKS.append((family, fn))
        return fn
    return register


def bench(family):
    """Registers a benchmark of a kernel family."""
    def register(fn):
        BENCHES.append((family, fn))
        return fn
    return register


def size(full, dry):
    return dry if DRY else full


class TsrError(RuntimeError):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Lib:
    """The shared library; every call raises TsrError with the library's message on failure."""

    def __init__(self, path):
        self.dll = ctypes.CDLL(path)
        self.dll.tsr_cuda_last_error.restype = ctypes.c_char_p
        for name, args in SIGNATURES.items():
            fn = getattr(self.dll, 'tsr_cuda_' + name)
            fn.argtypes = args
            fn.restype = INT

    def last_error(self):
        return self.dll.tsr_cuda_last_error().decode()

    def __getattr__(self, name):
        fn = getattr(self.dll, 'tsr_cuda_' + name)

        def call(*args):
            status = fn(*args)
            if status != 0:
                raise TsrError(status, self.last_error())
        return call


# Dry run: storage of every tensor whose pointer the harness took, start -> (bytes, dtype code).
ALLOCATIONS = {}
CALLED = {'check': set(), 'bench': set()}
SECTION = ['check']


class MockLib:
    """Stands in for the library in --dry-run (see the module's docstring)."""

    def __init__(self):
        self.problems = []

    def last_error(self):
        return ''

    def __getattr__(self, name):
        argtypes = SIGNATURES[name]
        proto = ctypes.CFUNCTYPE(INT, *argtypes)
        impl = proto(lambda *args: self.inspect(name, argtypes, args))

        def call(*args):
            if len(args) != len(argtypes):
                raise TypeError(f'tsr_cuda_{name} takes {len(argtypes)} arguments, got {len(args)}')
            CALLED[SECTION[0]].add(name)
            impl(*args)
        return call

    def inspect(self, name, argtypes, args):
        try:
            for i, (t, value) in enumerate(zip(argtypes, args)):
                if t is not PTR or not value or i == len(args) - 1:  # null pointers and the stream pass
                    continue
                start, (nbytes, dtype) = self.allocation(name, i, value)
                j = i + 1
                if j < len(args) and argtypes[j] is I64 and j + 1 < len(args) and argtypes[j + 1] is VP:
                    if dtype is not None and args[j] != dtype:
                        self.problems.append(f'tsr_cuda_{name} argument {j}: dtype {args[j]}, tensor has {dtype}')
                    j += 1
                if j < len(args) and argtypes[j] is VP and args[j]:  # a null view is an optional one left out
                    v = args[j].contents
                    shape, strides = v.shape[:v.rank], v.strides[:v.rank]
                    if all(n > 0 for n in shape):
                        lo = v.offset + sum((n - 1) * s for n, s in zip(shape, strides) if s < 0)
                        hi = v.offset + sum((n - 1) * s for n, s in zip(shape, strides) if s > 0)
                        if value + 4 * lo < start or value + 4 * (hi + 1) > start + nbytes:
                            self.problems.append(f'tsr_cuda_{name} argument {j}: view {shape} strides {strides} '
                                                 f'offset {v.offset} reaches outside its tensor')
        except Exception as e:  # an exception must not unwind through ctypes
            self.problems.append(f'tsr_cuda_{name}: {type(e).__name__}: {e}')
        return 0

    def allocation(self, name, i, value):
        for start in reversed(ALLOCATIONS):  # the latest first: older entries may be freed tensors
            info = ALLOCATIONS[start]
            if start <= value < start + max(info[0], 1):
                return start, info
        self.problems.append(f'tsr_cuda_{name} argument {i}: pointer {value:#x} is in no tensor of the harness')
        return value, (1 << 62, None)


def stream():
    return PTR(None) if DRY else PTR(torch.cuda.current_stream().cuda_stream)


def synchronize():
    if not DRY:
        torch.cuda.synchronize()


def dtype_code(t):
    return {torch.float32: FLOAT32, torch.int32: INT32}[t.dtype]


def base(t):
    """Pointer to the start of t's storage: views carry their offset separately."""
    start = t.data_ptr() - t.storage_offset() * t.element_size()
    if DRY:
        ALLOCATIONS.pop(start, None)
        ALLOCATIONS[start] = (t.storage().size() * t.element_size(),
                              dtype_code(t) if t.dtype in (torch.float32, torch.int32) else None)
    return PTR(start)


def ptr(t):
    if t is None:
        return PTR(None)
    base(t)
    return PTR(t.data_ptr())


def view(t):
    v = View()
    v.rank = t.dim()
    for d in range(t.dim()):
        v.shape[d], v.strides[d] = t.shape[d], t.stride(d)
    v.offset = t.storage_offset()
    return v


def poisoned(shape, dtype=torch.float32):
    return torch.full(shape, float('nan') if dtype.is_floating_point else -12345, dtype=dtype, device=DEVICE)


def rel_err(out, ref):
    """max |out - ref| / max |ref| in float64; inf when out has NaN where ref has none."""
    out64, ref64 = out.double(), ref.double()
    finite = torch.isfinite(ref64)
    if bool((~torch.isfinite(out64) & finite).any()):
        return math.inf
    if not bool(torch.equal(torch.isnan(out64), torch.isnan(ref64))):
        return math.inf
    if ref64.numel() == 0:
        return 0.0
    diff = (out64 - ref64)[finite].abs()
    scale = ref64[finite].abs().max().item() if bool(finite.any()) else 0.0
    worst = diff.max().item() if diff.numel() else 0.0
    return worst / scale if scale > 0 else worst


# ---------------------------------------------------------------------------
# Checks.

class Checker:
    def __init__(self):
        self.results = []

    def record(self, name, ok, text, **fields):
        self.results.append({'check': name, 'ok': ok, **fields})
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {text}")

    def expect(self, name, out, ref, tol):
        if DRY:  # the kernel did not run: the reference must exist and have the output's shape
            ok = tuple(out.shape) == tuple(ref.shape)
            self.record(name, ok, f'dry: out {list(out.shape)}, reference {list(ref.shape)}')
            return
        err = rel_err(out, ref)
        self.record(name, err <= tol, f'rel_err {err:.2e} (tolerance {tol:.0e})', rel_err=err, tolerance=tol)

    def expect_error(self, name, fn, fragment):
        try:
            fn()
        except TsrError as e:
            self.record(name, fragment in str(e), str(e), message=str(e))
            return
        self.record(name, DRY, 'dry: no library to raise' if DRY else 'no error raised', message='no error raised')

    def run(self, name, body):
        try:
            body()
            synchronize()
        except Exception as e:  # a crashed check is a failed check; the others still run
            traceback.print_exc()
            self.record(name, False, f'{type(e).__name__}: {e}', message=f'{type(e).__name__}: {e}')


def unary_reference(op, x, alpha):
    x = x.double()
    table = {
        'neg': lambda: -x, 'exp': x.exp, 'log': x.log, 'log1p': x.log1p, 'sqrt': x.sqrt, 'rsqrt': x.rsqrt,
        'abs': x.abs, 'sign': x.sign, 'tanh': x.tanh, 'sigmoid': x.sigmoid, 'relu': x.relu,
        'leakyRelu': lambda: torch.where(x > 0, x, alpha * x), 'elu': lambda: torch.where(x > 0, x, alpha * x.expm1()),
        'gelu': lambda: F.gelu(x),
        'geluGrad': lambda: 0.5 * (1 + torch.erf(x / math.sqrt(2))) + x * torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi),
        'softplus': lambda: torch.where(x > 20, x, x.exp().log1p()), 'sin': x.sin, 'cos': x.cos,
        'square': lambda: x * x, 'reciprocal': x.reciprocal, 'floor': x.floor,
        'silu': lambda: F.silu(x), 'mish': lambda: F.mish(x), 'hardswish': lambda: F.hardswish(x),
        'logSigmoid': lambda: F.logsigmoid(x), 'erf': x.erf, 'atan': x.atan, 'ceil': x.ceil, 'round': x.round,
        'trunc': x.trunc, 'lgamma': x.lgamma, 'digamma': x.digamma, 'trigamma': lambda: torch.polygamma(1, x),
        'isnan': lambda: x.isnan().double(), 'isinf': lambda: x.isinf().double(), 'isfinite': lambda: x.isfinite().double(),
    }
    return table[op]()


def binary_reference(op, a, b, int_math):
    a, b = a.double(), b.double()
    r = {'add': a + b, 'sub': a - b, 'mul': a * b, 'div': a / b, 'pow': torch.pow(a, b),
         'minimum': torch.minimum(a, b), 'maximum': torch.maximum(a, b),
         'eq': (a == b).double(), 'ne': (a != b).double(), 'lt': (a < b).double(), 'le': (a <= b).double(),
         'gt': (a > b).double(), 'ge': (a >= b).double(), 'remainder': torch.remainder(a, b),
         'floorDivide': torch.floor_divide(a, b), 'atan2': torch.atan2(a, b)}[op]
    return r.trunc() if int_math else r


def activation_reference(act, x):
    return {'none': x, 'relu': x.relu(), 'gelu': F.gelu(x), 'tanh': x.tanh(), 'sigmoid': x.sigmoid()}[act]


def run_unary(op, x, out, alpha=0.0):
    lib.unary(UNARY.index(op), base(x), dtype_code(x), ctypes.byref(view(x)), ptr(out), dtype_code(out), alpha,
              stream())


def run_binary(op, a, b, out):
    lib.binary(BINARY.index(op), base(a), dtype_code(a), ctypes.byref(view(a)), base(b), dtype_code(b),
               ctypes.byref(view(b)), ptr(out), dtype_code(out), stream())


def run_where(c, a, b, out):
    lib.where(base(c), dtype_code(c), ctypes.byref(view(c)), base(a), dtype_code(a), ctypes.byref(view(a)), base(b),
              dtype_code(b), ctypes.byref(view(b)), ptr(out), dtype_code(out), stream())


def run_copy(x, out, region=None):
    """x into dense out, or into `region` (a view of out with x's shape) when given."""
    place = ctypes.byref(view(region)) if region is not None else None
    lib.copy(base(x), dtype_code(x), ctypes.byref(view(x)), base(out) if region is not None else ptr(out),
             dtype_code(out), place, stream())


def run_gather(x, axis, idx, out):
    lib.gather(base(x), dtype_code(x), ctypes.byref(view(x)), axis, base(idx), ctypes.byref(view(idx)), ptr(out),
               dtype_code(out), stream())


def run_scatter_add(acc, axis, idx, src):
    shape = (I64 * acc.dim())(*acc.shape)
    lib.scatter_add(ptr(acc), dtype_code(acc), shape, acc.dim(), axis, base(idx), ctypes.byref(view(idx)), base(src),
                    dtype_code(src), ctypes.byref(view(src)), stream())


def run_check_indices(idx, data, axis, value, position):
    lib.check_indices(base(idx), ctypes.byref(view(idx)), ctypes.byref(view(data)), axis, ctypes.byref(value),
                      ctypes.byref(position), stream())


def run_reduce(op, x, out):
    outer, size_, inner = x.shape
    lib.reduce(REDUCE.index(op), ptr(x), dtype_code(x), outer, size_, inner, ptr(out), dtype_code(out), stream())


def run_matmul(a, b, out, alpha=1.0, bias=None, act='none', precision='float32'):
    batch, M, K = a.shape
    N = b.shape[2]
    p = MatmulParams()
    p.batch, p.M, p.N, p.K = batch, M, N, K
    for d in range(3):
        p.a_strides[d], p.b_strides[d] = a.stride(d), b.stride(d)
    p.a_offset, p.b_offset = a.storage_offset(), b.storage_offset()
    p.alpha, p.bias = alpha, ptr(bias).value
    p.act, p.precision = ACTIVATION.index(act), PRECISION.index(precision)
    lib.matmul(base(a), base(b), ptr(out), ctypes.byref(p), stream())


def conv_params(N, C, D, H, W, O, k, stride, padding, dilation=(1, 1, 1), groups=1, precision='float32'):
    p = ConvParams()
    p.N, p.C, p.D, p.H, p.W, p.O = N, C, D, H, W, O
    p.kd, p.kh, p.kw = k
    for i in range(3):
        p.stride[i], p.padding[i], p.dilation[i] = stride[i], padding[i], dilation[i]
    p.groups = groups
    out = [(n + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i, n in enumerate((D, H, W))]
    p.oD, p.oH, p.oW = out
    p.precision = PRECISION.index(precision)
    return p


def pool_params(N, C, D, H, W, k, stride, padding, dilation=(1, 1, 1), ceil_mode=False, count_include_pad=True):
    """torch's pooling_output_shape, ceil mode included."""
    p = PoolParams()
    p.N, p.C, p.D, p.H, p.W = N, C, D, H, W
    p.kd, p.kh, p.kw = k
    for i in range(3):
        p.stride[i], p.padding[i], p.dilation[i] = stride[i], padding[i], dilation[i]
    p.count_include_pad = int(count_include_pad)

    def count(i, n):
        span = n + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1
        o = (-(-span // stride[i]) if ceil_mode else span // stride[i]) + 1
        return o - 1 if ceil_mode and (o - 1) * stride[i] >= n + padding[i] else o
    p.oD, p.oH, p.oW = [count(i, n) for i, n in enumerate((D, H, W))]
    return p


def random_csr(rows, cols, nnz, values=True):
    """Uniform random entries, duplicates merged, columns sorted within rows (some rows empty)."""
    r = torch.randint(0, rows, (nnz,), device=DEVICE, dtype=torch.int64)
    c = torch.randint(0, cols, (nnz,), device=DEVICE, dtype=torch.int64)
    key = torch.unique(r * cols + c)  # sorted: row-major order
    r, c = key // cols, key % cols
    row_ptr = torch.zeros(rows + 1, dtype=torch.int64, device=DEVICE)
    row_ptr[1:] = torch.cumsum(torch.bincount(r, minlength=rows), 0)
    vals = torch.randn(key.numel(), device=DEVICE) if values else None
    return row_ptr.int(), c.int(), vals, r


def csr_struct(rows, cols, row_ptr, col_idx, vals):
    return Csr(rows, cols, col_idx.numel(), ptr(row_ptr).value, ptr(col_idx).value, ptr(vals).value)


def edge_softmax_reference(scores, row_of, rows):
    H = scores.shape[1]
    mx = torch.full((rows, H), -math.inf, dtype=scores.dtype, device=DEVICE)
    mx = mx.scatter_reduce(0, row_of[:, None].expand(-1, H), scores, 'amax')
    e = (scores - mx[row_of]).exp()
    den = torch.zeros(rows, H, dtype=scores.dtype, device=DEVICE).index_add(0, row_of, e)
    return e / den[row_of]


@check('elementwise')
def check_fill():
    for dtype, value in ((torch.float32, -2.75), (torch.int32, 7)):
        out = poisoned((size(1000003, 1003),), dtype)
        lib.fill(ptr(out), dtype_code(out), out.numel(), value, stream())
        ck.expect(f'fill {dtype}', out, torch.full_like(out, value), 0)


@check('index')
def check_copy():
    x = torch.randn(37, 45, 29, device=DEVICE) * 100
    for name, v in (('permuted', x.permute(2, 0, 1)), ('sliced', x[3:30:2, ::3, 1:]), ('broadcast', x[:1].expand(5, 45, 29))):
        for to in (torch.float32, torch.int32):
            out = poisoned(v.shape, to)
            run_copy(v, out)
            ck.expect(f'copy {name} float32->{to}', out, v.double().trunc() if to == torch.int32 else v, 0)
    xi = torch.randint(-1000, 1000, (64, 33), device=DEVICE, dtype=torch.int32).t()
    out = poisoned(xi.shape)
    run_copy(xi, out)
    ck.expect('copy transposed int32->float32', out, xi, 0)
    # Into a region of out (concat's pieces): a transposed x into the middle slab along axis 1; the rest stays.
    whole = poisoned((37, 70, 29))
    region = whole[:, 20:65, :]
    run_copy(x.permute(1, 0, 2).contiguous().permute(1, 0, 2), whole, region)
    ck.expect('copy into a region', region, x, 0)
    rest = torch.cat((whole[:, :20, :], whole[:, 65:, :]), 1)
    ck.expect('copy into a region keeps the rest', rest.isnan().float(), torch.ones_like(rest), 0)


@check('elementwise')
def check_unary():
    for op in UNARY:
        positive = op in ('log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal', 'lgamma', 'digamma', 'trigamma')
        x = (torch.rand(517, 300, device=DEVICE) * 3 + 0.1) if positive else torch.randn(517, 300, device=DEVICE) * 4
        xv = x.t()  # strided
        out = poisoned(xv.shape)
        run_unary(op, xv, out, 0.3)
        ck.expect(f'unary {op}', out, unary_reference(op, xv, 0.3), 1e-5)


@check('elementwise')
def check_binary():
    for op in BINARY:
        gen = (lambda *sh: torch.rand(*sh, device=DEVICE) * 2 + 0.5) if op == 'pow' else \
            (lambda *sh: torch.randint(-3, 4, sh, device=DEVICE).float() + 0.5 * torch.rand(*sh, device=DEVICE))
        a = gen(64, 1, 333).expand(64, 200, 333)
        b = gen(200, 333).t()[None].expand(64, 333, 200).transpose(1, 2)
        out = poisoned(a.shape)
        run_binary(op, a, b, out)
        ck.expect(f'binary {op} broadcast', out, binary_reference(op, a, b, False), 1e-5)
        if op == 'pow':
            continue
        ai = torch.randint(-50, 50, (1000, 77), device=DEVICE, dtype=torch.int32)
        bi = torch.randint(1, 9, (77,), device=DEVICE, dtype=torch.int32).expand(1000, 77)
        out = poisoned(ai.shape, torch.int32)
        run_binary(op, ai, bi, out)
        ck.expect(f'binary {op} int32', out, binary_reference(op, ai, bi, True), 0)
    n = size(1 << 26, 1 << 16)
    a, b = torch.randn(n, device=DEVICE), torch.randn(n, device=DEVICE)
    out = poisoned(a.shape)
    run_binary('add', a, b, out)
    ck.expect(f'binary add dense {n}', out, a.double() + b.double(), 1e-7)


@check('index')
def check_where():
    c = (torch.randn(300, 1, 40, device=DEVICE) > 0).float().expand(300, 70, 40)
    a, b = torch.randn(300, 70, 40, device=DEVICE), torch.randn(70, 1, device=DEVICE).expand(300, 70, 40)
    out = poisoned(a.shape)
    run_where(c, a, b, out)
    ck.expect('where broadcast', out, torch.where(c != 0, a, b), 0)


@check('reduce')
def check_reduce():
    for shape in ((128, 5000, 1), (4, size(3_000_000, 30_000), 1), (16, 300, 77), (1, size(100_000, 1000), 64), (3, 0, 5)):
        outer, n, inner = shape
        x = torch.randn(outer, n, inner, device=DEVICE)
        for op in REDUCE:
            xin = (1 + 1e-3 * x) if op == 'prod' else (x * 2).round() if op.startswith('arg') else x
            arg = op.startswith('arg')
            out = poisoned((outer, inner), torch.int32 if arg else torch.float32)
            run_reduce(op, xin, out)
            x64 = xin.double()
            if n == 0:
                ref = {'sum': 0.0, 'prod': 1.0, 'max': -math.inf, 'min': math.inf, 'argmax': 0, 'argmin': 0}[op]
                ref = torch.full((outer, inner), ref, dtype=torch.float64, device=DEVICE)
            else:
                ref = {'sum': lambda: x64.sum(1), 'prod': lambda: x64.prod(1), 'max': lambda: x64.amax(1),
                       'min': lambda: x64.amin(1), 'argmax': lambda: x64.argmax(1),
                       'argmin': lambda: x64.argmin(1)}[op]()
            ck.expect(f'reduce {op} {list(shape)}', out, ref, 0 if arg else 1e-6)


@check('gemm')
def check_matmul():
    for precision in PRECISION:
        for batch, M, N, K, ta, tb, bcast, act in ((1, 1000, 1500, 700, False, False, False, 'gelu'),
                                                   (3, 257, 130, 515, True, True, True, 'relu'),
                                                   (2, 64, 200, 4099, False, True, False, 'sigmoid'),
                                                   (4, 33, 17, 9, True, False, False, 'tanh'),
                                                   (1, 128, 128, 0, False, False, False, 'none')):
            a = torch.randn(batch, K, M, device=DEVICE).transpose(1, 2) if ta else torch.randn(batch, M, K, device=DEVICE)
            bb = 1 if bcast else batch
            b = torch.randn(bb, N, K, device=DEVICE).transpose(1, 2) if tb else torch.randn(bb, K, N, device=DEVICE)
            b = b.expand(batch, K, N)
            bias = torch.randn(N, device=DEVICE)
            out = poisoned((batch, M, N))
            run_matmul(a, b, out, 0.7, bias, act, precision)
            ref = activation_reference(act, 0.7 * torch.matmul(a.double(), b.double()) + bias.double())
            ck.expect(f'matmul {precision} b{batch} {M}x{N}x{K} tA={ta} tB={tb} bcast={bcast} {act}',
                      out, ref, TOLERANCE[precision])


@check('index')
def check_gather_scatter_add():
    x = torch.randn(40, 50, 60, device=DEVICE)
    for axis in range(3):
        shape = [30, 45, 55]
        shape[axis] = 70
        idx = torch.randint(0, x.shape[axis], shape, device=DEVICE, dtype=torch.int32)
        value, position = I64(), I64()
        run_check_indices(idx, x, axis, value, position)
        out = poisoned(shape)
        run_gather(x, axis, idx, out)
        ck.expect(f'gather axis {axis}', out, torch.gather(x, axis, idx.long()), 0)
        src = torch.randn(shape, device=DEVICE)
        acc = torch.randn(40, 50, 60, device=DEVICE)
        expect = acc.double().scatter_add(axis, idx.long(), src.double())
        run_scatter_add(acc, axis, idx, src)
        ck.expect(f'scatterAdd axis {axis}', acc, expect, 1e-6)
    bad = torch.zeros(10, dtype=torch.int32, device=DEVICE)
    bad[7] = 99
    data = torch.zeros(50, device=DEVICE)
    value, position = I64(), I64()
    ck.expect_error('check_indices reports the first bad index',
                    lambda: run_check_indices(bad, data, 0, value, position),
                    'index 99 out of range [0, 50) on axis 0 at element 7')


@check('spmm')
def check_sparse():
    rows, cols = 3000, 2000
    row_ptr, col_idx, vals, row_of = random_csr(rows, cols, 40000)
    lib.csr_validate(ctypes.byref(csr_struct(rows, cols, row_ptr, col_idx, vals)), stream())
    col = col_idx.long()
    for F_ in (128, 37, 1):
        x = torch.randn(cols, F_, device=DEVICE)
        out = poisoned((rows, F_))
        for with_values in (True, False):
            a = csr_struct(rows, cols, row_ptr, col_idx, vals if with_values else None)
            lib.spmm(ctypes.byref(a), ptr(x), F_, ptr(out), stream())
            v64 = vals.double() if with_values else torch.ones(col.numel(), dtype=torch.float64, device=DEVICE)
            ref = torch.zeros(rows, F_, dtype=torch.float64, device=DEVICE).index_add(0, row_of, v64[:, None] * x.double()[col])
            ck.expect(f'spmm F={F_} values={with_values}', out, ref, 1e-5)
    a = csr_struct(rows, cols, row_ptr, col_idx, vals)
    for H, F_ in ((4, 32), (1, 5), (2, 64)):
        xs, ys = torch.randn(rows, H, F_, device=DEVICE), torch.randn(cols, H, F_, device=DEVICE)
        out = poisoned((col.numel(), H))
        lib.sddmm(ctypes.byref(a), ptr(xs), ptr(ys), H, F_, ptr(out), stream())
        ck.expect(f'sddmm H={H} F={F_}', out, (xs.double()[row_of] * ys.double()[col]).sum(-1), 1e-5)
        scores = torch.randn(col.numel(), H, device=DEVICE) * 3
        y = poisoned(scores.shape)
        lib.edge_softmax(ctypes.byref(a), ptr(scores), H, ptr(y), stream())
        ref = edge_softmax_reference(scores.double(), row_of, rows)
        ck.expect(f'edge_softmax H={H}', y, ref, 1e-5)
        g = torch.randn_like(scores)
        gs = poisoned(scores.shape)
        y64 = ref if DRY else y.double()  # the backward's own input
        lib.edge_softmax_backward(ctypes.byref(a), ptr(y), ptr(g), H, ptr(gs), stream())
        dot = torch.zeros(rows, H, dtype=torch.float64, device=DEVICE).index_add(0, row_of, y64 * g.double())
        ck.expect(f'edge_softmax_backward H={H}', gs, y64 * (g.double() - dot[row_of]), 1e-5)
    broken = col_idx.clone()
    broken[-1] = cols
    ck.expect_error('csr_validate rejects a column out of range',
                    lambda: lib.csr_validate(ctypes.byref(csr_struct(rows, cols, row_ptr, broken, vals)), stream()),
                    f'column index {cols} at entry {broken.numel() - 1}')


def cmd_reference(x64, k, gm=None, gc=None):
    """mean, central moments 2..k and, given output gradients, the input gradient (float64)."""
    xr = x64.clone().requires_grad_(gm is not None)
    m = xr.mean(0)
    c = torch.stack([((xr - m) ** j).mean(0) for j in range(2, k + 1)]) if k > 1 else None
    if gm is None:
        return m, c, None
    outs, grads = [m], [gm.double()]
    if c is not None:
        outs.append(c)
        grads.append(gc.double())
    torch.autograd.backward(outs, grads)
    return m, c, xr.grad


@check('cmd')
def check_cmd():
    for n, d, k in ((size(100_000, 2000), 256, 5), (777, 33, 8), (5, 3, 1)):
        x = torch.randn(n, d, device=DEVICE) * 1.5 + 2
        mean, moments = poisoned((d,)), poisoned((max(k - 1, 0), d))
        lib.cmd_moments(ptr(x), n, d, k, ptr(mean), ptr(moments), stream())
        gm, gc = torch.randn(d, device=DEVICE), torch.randn(max(k - 1, 0), d, device=DEVICE)
        m64, c64, g64 = cmd_reference(x.double(), k, gm, gc)
        ck.expect(f'cmd_moments mean n={n} d={d}', mean, m64, 1e-5)
        if k > 1:
            ck.expect(f'cmd_moments moments n={n} d={d} k={k}', moments, c64, 1e-5)
        gx = poisoned((n, d))
        lib.cmd_moments_backward(ptr(x), n, d, k, ptr(mean), ptr(moments), ptr(gm), ptr(gc), ptr(gx), stream())
        ck.expect(f'cmd_moments_backward n={n} d={d} k={k}', gx, g64, 1e-5)


@check('conv')
def check_conv():
    shapes = [  # N, C, D, H, W, O, k, stride, padding, dilation, groups
        (2, 16, 6, 20, 20, 24, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),
        (2, 3, 8, 30, 30, 16, (3, 7, 7), (1, 2, 2), (1, 3, 3), (1, 1, 1), 1),
        (3, 8, 1, 17, 13, 6, (1, 3, 2), (1, 2, 1), (0, 1, 0), (1, 2, 1), 2),
        (1, 160, 3, 7, 9, 130, (2, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1),
    ]
    for precision in PRECISION:
        for N, C, D, H, W, O, k, st, pad, dil, groups in shapes:
            p = conv_params(N, C, D, H, W, O, k, st, pad, dil, groups, precision)
            x = torch.randn(N, C, D, H, W, device=DEVICE)
            w = torch.randn(O, C // groups, *k, device=DEVICE) / math.sqrt(C // groups * k[0] * k[1] * k[2])
            bias = torch.randn(O, device=DEVICE)
            y = poisoned((N, O, p.oD, p.oH, p.oW))
            lib.conv_forward(ptr(x), ptr(w), ptr(bias), ptr(y), ctypes.byref(p), stream())
            x64, w64 = x.double().requires_grad_(), w.double().requires_grad_()
            y64 = F.conv3d(x64, w64, bias.double(), st, pad, dil, groups)
            tag = f'conv {precision} x{[N, C, D, H, W]} w{list(w.shape)} s{st} p{pad} d{dil} g{groups}'
            ck.expect(f'{tag} forward', y, y64, TOLERANCE[precision])
            gy = torch.randn_like(y64).float()
            y64.backward(gy.double())
            gx, gw = poisoned(x.shape), poisoned(w.shape)
            lib.conv_backward_input(ptr(gy), ptr(w), ptr(gx), ctypes.byref(p), stream())
            lib.conv_backward_weight(ptr(x), ptr(gy), ptr(gw), ctypes.byref(p), stream())
            ck.expect(f'{tag} backward input', gx, x64.grad, TOLERANCE[precision])
            ck.expect(f'{tag} backward weight', gw, w64.grad, TOLERANCE[precision])


@check('pool')
def check_pool():
    for N, C, D, H, W, k, st, pad, dil, ceil, incl in (
            (2, 3, 8, 20, 17, (2, 3, 3), (2, 2, 2), (0, 1, 1), (1, 1, 1), False, True),
            (4, 5, 1, 31, 31, (1, 3, 3), (1, 2, 2), (0, 1, 1), (1, 1, 1), False, True),
            (2, 3, 7, 19, 18, (2, 3, 3), (2, 2, 3), (1, 1, 1), (1, 2, 1), True, False)):
        p = pool_params(N, C, D, H, W, k, st, pad, dil, ceil)
        x = torch.randn(N, C, D, H, W, device=DEVICE)
        x.view(-1)[::97] = float('nan')  # a NaN in a window wins, as torch
        y, am = poisoned((N, C, p.oD, p.oH, p.oW)), poisoned((N, C, p.oD, p.oH, p.oW), torch.int32)
        lib.max_pool(ptr(x), ptr(y), ptr(am), ctypes.byref(p), stream())
        ry, ram = F.max_pool3d(x.double(), k, st, pad, dil, ceil_mode=ceil, return_indices=True)
        ck.expect(f'max_pool {list(x.shape)} k{k} dilation {dil} ceil {ceil}', y, ry, 0)
        ck.expect(f'max_pool argmax {list(x.shape)} k{k} dilation {dil} ceil {ceil}', am, ram, 0)
        x = torch.randn(N, C, D, H, W, device=DEVICE)
        p = pool_params(N, C, D, H, W, k, st, pad, ceil_mode=ceil, count_include_pad=incl)
        ya = poisoned((N, C, p.oD, p.oH, p.oW))
        lib.avg_pool(ptr(x), ptr(ya), ctypes.byref(p), stream())
        xr = x.double().requires_grad_()
        ra = F.avg_pool3d(xr, k, st, pad, ceil_mode=ceil, count_include_pad=incl)
        ck.expect(f'avg_pool {list(x.shape)} k{k} ceil {ceil} count_include_pad {incl}', ya, ra, 1e-6)
        gy = torch.randn_like(ya)
        ra.backward(gy.double())
        gx = poisoned(x.shape)
        lib.avg_pool_backward(ptr(gy), ptr(gx), ctypes.byref(p), stream())
        ck.expect(f'avg_pool_backward {list(x.shape)} k{k} ceil {ceil} count_include_pad {incl}', gx, xr.grad, 1e-6)


def nms_reference(boxes, scores, groups, threshold):
    """Greedy class-aware NMS in float64 on the host: visit by descending score (ties by index),
    keep a box unless a kept box of its group has IoU > threshold with it."""
    b, s, g = boxes.double().cpu().tolist(), scores.double().cpu().tolist(), groups.cpu().tolist()
    order = sorted(range(len(s)), key=lambda i: (-s[i], i))
    def iou(i, j):
        w = min(b[i][2], b[j][2]) - max(b[i][0], b[j][0])
        h = min(b[i][3], b[j][3]) - max(b[i][1], b[j][1])
        if w <= 0 or h <= 0:
            return 0.0
        union = (b[i][2] - b[i][0]) * (b[i][3] - b[i][1]) + (b[j][2] - b[j][0]) * (b[j][3] - b[j][1]) - w * h
        return w * h / union if union > 0 else 0.0
    kept = []
    for i in order:
        if not any(g[k] == g[i] and iou(k, i) > threshold for k in kept):
            kept.append(i)
    return kept


def random_boxes(K, classes, clusters=10):
    centre = torch.randint(0, clusters, (K, 2), device=DEVICE).float() * 100 + torch.randn(K, 2, device=DEVICE) * 20
    size = 10 + 60 * torch.rand(K, 2, device=DEVICE)
    boxes = torch.cat([centre - size / 2, centre + size / 2], 1).contiguous()
    return boxes, torch.rand(K, device=DEVICE), torch.randint(0, classes, (K,), device=DEVICE, dtype=torch.int32)


@check('nms')
def check_nms():
    for K, classes, threshold in ((0, 1, 0.5), (1, 1, 0.5), (size(700, 60), 7, 0.45), (size(3000, 90), 80, 0.6)):
        boxes, scores, groups = random_boxes(K, classes)
        scores = (scores * 40).round() / 40  # ties
        keep = poisoned((K + 1,), torch.int32)
        lib.nms(ptr(boxes), ptr(scores), ptr(groups), K, threshold, ptr(keep), stream())
        expected = nms_reference(boxes, scores, groups, threshold)
        want = torch.full((K + 1,), -1, dtype=torch.int64)
        want[0] = len(expected)
        want[1:1 + len(expected)] = torch.tensor(expected, dtype=torch.int64)
        ck.expect(f'nms K={K} classes={classes} iou>{threshold}', keep, want.to(keep.device), 0)


@check('argsort')
def check_argsort():
    # Ties (values rounded to eighths), NaN and -0/+0, axes in the middle and at the end; torch's stable sort
    # orders NaN above every number in both directions, as Tessera does.
    for shape, axis in (((0, 5), 1), ((1, 1), 0), ((7, 33), 1), ((4, size(300, 40), 3), 1), ((size(2000, 50),), 0)):
        x = (torch.randn(shape, device=DEVICE) * 8).round() / 8
        if x.numel() > 2:
            flat = x.view(-1)
            flat[::7] = float('nan')
            flat[1::11] = -0.0
        outer = math.prod(shape[:axis])
        inner = math.prod(shape[axis + 1:])
        for descending in (False, True):
            out = poisoned(shape, torch.int32)
            lib.argsort(ptr(x), outer, shape[axis], inner, int(descending), ptr(out), stream())
            want = torch.sort(x.cpu(), dim=axis, descending=descending, stable=True).indices
            ck.expect(f'argsort {list(shape)} axis {axis} descending={descending}', out, want.to(out.device), 0)


def lstm_params(T, B, H, reverse):
    p = LstmParams()
    p.T, p.B, p.H, p.reverse = T, B, H, int(reverse)
    return p


def lstm_reference(gates_in, w, h0, c0, reverse):
    """states [2, T, B, H] and activated gates [T, B, 4H] of the recurrence, stepped by torch.lstm_cell (an
    identity input weight feeds it the precomputed input gates), so the gate order is torch's own."""
    T, B, G = gates_in.shape
    eye = torch.eye(G, dtype=gates_in.dtype, device=gates_in.device)
    h, c = h0, c0
    hs, cs, gates = [None] * T, [None] * T, [None] * T
    for k in range(T):
        t = T - 1 - k if reverse else k
        i, f, g, o = (gates_in[t] + h @ w.t()).chunk(4, 1)
        gates[t] = torch.cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], 1)
        h, c = torch.lstm_cell(gates_in[t], (h, c), eye, w)
        hs[t], cs[t] = h, c
    return torch.stack([torch.stack(hs), torch.stack(cs)]), torch.stack(gates)


@check('lstm')
def check_lstm():
    # H = 130 > the block's threads (several cells per thread); T = 1 is one sampling step.
    for T, B, H, reverse in ((1, 3, 5, False), (20, 32, 40, False), (size(60, 7), size(256, 5), 40, True), (5, 2, 130, True)):
        G = 4 * H
        gates_in, w = torch.randn(T, B, G, device=DEVICE), torch.randn(G, H, device=DEVICE) / math.sqrt(H)
        h0, c0 = torch.randn(B, H, device=DEVICE), torch.randn(B, H, device=DEVICE)
        grad_states = torch.randn(2, T, B, H, device=DEVICE)
        p = lstm_params(T, B, H, reverse)
        states, gates = poisoned((2, T, B, H)), poisoned((T, B, G))
        lib.lstm_forward(ptr(gates_in), ptr(w), ptr(h0), ptr(c0), ptr(states), ptr(gates), ctypes.byref(p), stream())
        leaves = [t.double().requires_grad_() for t in (gates_in, w, h0, c0)]
        want_states, want_gates = lstm_reference(*leaves, reverse)
        name = f'T={T} B={B} H={H} reverse={reverse}'
        ck.expect(f'lstm_forward states {name}', states, want_states.detach(), TOLERANCE['float32'])
        ck.expect(f'lstm_forward gates {name}', gates, want_gates.detach(), TOLERANCE['float32'])
        grad_gates, grad_h0, grad_c0 = poisoned((T, B, G)), poisoned((B, H)), poisoned((B, H))
        lib.lstm_backward(ptr(w), ptr(c0), ptr(gates), ptr(states), ptr(grad_states), ptr(grad_gates), ptr(grad_h0),
                          ptr(grad_c0), ctypes.byref(p), stream())
        want_gz, _, want_gh0, want_gc0 = torch.autograd.grad(want_states, leaves, grad_states.double())
        ck.expect(f'lstm_backward gradGates {name}', grad_gates, want_gz, TOLERANCE['float32'])
        ck.expect(f'lstm_backward gradH0 {name}', grad_h0, want_gh0, TOLERANCE['float32'])
        ck.expect(f'lstm_backward gradC0 {name}', grad_c0, want_gc0, TOLERANCE['float32'])


def adam_params(n, lr, beta1, beta2, eps, weight_decay, decoupled, step):
    p = AdamParams()
    p.n, p.lr, p.beta1, p.beta2, p.eps, p.weight_decay, p.decoupled = n, lr, beta1, beta2, eps, weight_decay, int(decoupled)
    p.step_size, p.bias_correction2_sqrt = lr / (1 - beta1 ** step), math.sqrt(1 - beta2 ** step)
    return p


def sgd_params(n, lr, weight_decay, momentum, dampening, nesterov, first):
    p = SgdParams()
    p.n, p.lr, p.weight_decay, p.momentum, p.dampening, p.nesterov, p.first = (n, lr, weight_decay, momentum, dampening,
                                                                              int(nesterov), int(first))
    return p


@check('optim')
def check_optim():
    # Three steps of each update in place against torch.optim's own Adam, AdamW and SGD stepping float64 copies
    # fed the same gradients; 1031 elements end in a partial block.
    for n in (1, 1031, size(1 << 20, 4096)):
        for name, make, h in (
                ('Adam', torch.optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
                ('AdamW', torch.optim.AdamW, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.5)),
                ('SGD', torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.2, weight_decay=0.01)),
                ('SGD nesterov', torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05))):
            param = torch.randn(n, device=DEVICE)
            state = [torch.zeros(n, device=DEVICE) for _ in range(2 if name.startswith('Adam') else 1)]
            ref = param.double().clone().requires_grad_()
            opt = make([ref], **h)
            for step in range(1, 4):
                grad = torch.randn(n, device=DEVICE)
                if name.startswith('Adam'):
                    (b1, b2), wd = h['betas'], h['weight_decay']
                    p = adam_params(n, h['lr'], b1, b2, h['eps'], wd, name == 'AdamW', step)
                    lib.adam_update(ptr(param), ptr(grad), ptr(state[0]), ptr(state[1]), ctypes.byref(p), stream())
                else:
                    p = sgd_params(n, h['lr'], h['weight_decay'], h['momentum'], h.get('dampening', 0),
                                   h.get('nesterov', False), step == 1)
                    lib.sgd_update(ptr(param), ptr(grad), ptr(state[0]), ctypes.byref(p), stream())
                ref.grad = grad.double()
                opt.step()
                ck.expect(f'{name} update n={n} step {step}', param, ref.detach(), TOLERANCE['float32'])
                if DRY:
                    break
    p = adam_params(4, 0.1, 0.9, 0.999, 1e-8, 0, False, 1)
    x = torch.zeros(8, device=DEVICE)
    ck.expect_error('adam_update rejects overlapping operands',
                    lambda: lib.adam_update(ptr(x), ptr(x[4:]), ptr(x[2:]), ptr(x[4:]), ctypes.byref(p), stream()), 'overlap')


def batchnorm_params(outer, channels, inner, act, eps=1e-5):
    p = BatchnormParams()
    p.outer, p.channels, p.inner, p.eps, p.act = outer, channels, inner, eps, NORM_ACTIVATION.index(act)
    return p


def batchnorm_reference(x, weight, bias, addend, act, eps=1e-5):
    """torch's batch_norm with batch statistics (+ addend, then the activation) and the biased batch variance."""
    z = torch.nn.functional.batch_norm(x, None, None, weight, bias, training=True, eps=eps)
    if addend is not None:
        z = z + addend
    return {'none': z, 'relu': torch.relu(z), 'silu': torch.nn.functional.silu(z)}[act]


@check('batchnorm')
def check_batchnorm():
    # [N, C, H, W] shapes: a detector layer, a tail of inner, inner 1 (BatchNorm1d), a single sample.
    for shape, act, with_addend in (((16, 32, 32, 32), 'silu', False), ((3, 5, 7, 3), 'relu', True),
                                    ((size(64, 8), 24, 1, 1), 'none', False), ((1, 4, 9, 9), 'silu', True)):
        N, C = shape[0], shape[1]
        inner = math.prod(shape[2:])
        x = torch.randn(shape, device=DEVICE) * 2 + 0.5
        weight, bias = torch.randn(C, device=DEVICE), torch.randn(C, device=DEVICE)
        addend = torch.randn(shape, device=DEVICE) if with_addend else None
        g = torch.randn(shape, device=DEVICE)
        p = batchnorm_params(N, C, inner, act)
        out, stats = poisoned(shape), poisoned((2, C))
        lib.batchnorm_forward(ptr(x), ptr(weight), ptr(bias), ptr(addend), ptr(out), ptr(stats), ctypes.byref(p), stream())
        leaves = [t.double().requires_grad_() for t in (x, weight, bias) + ((addend,) if with_addend else ())]
        want = batchnorm_reference(leaves[0], leaves[1], leaves[2], leaves[3] if with_addend else None, act)
        name = f'{list(shape)} {act}{" + addend" if with_addend else ""}'
        ck.expect(f'batchnorm_forward out {name}', out, want.detach(), TOLERANCE['float32'])
        x64 = x.double()
        dims = [0] + list(range(2, len(shape)))
        ck.expect(f'batchnorm_forward stats {name}', stats,
                  torch.stack([x64.mean(dims), x64.var(dims, unbiased=False)]), TOLERANCE['float32'])
        gx, sums = poisoned(shape), poisoned((2, C))
        gz = poisoned(shape) if with_addend else None
        lib.batchnorm_backward(ptr(g), ptr(x), ptr(weight), ptr(bias), ptr(addend), ptr(stats), ptr(gx), ptr(sums),
                               ptr(gz), ctypes.byref(p), stream())
        grads = torch.autograd.grad(want, leaves, g.double())
        ck.expect(f'batchnorm_backward gx {name}', gx, grads[0], TOLERANCE['float32'])
        ck.expect(f'batchnorm_backward sums {name}', sums, torch.stack([grads[2], grads[1]]), TOLERANCE['float32'])
        if with_addend:
            ck.expect(f'batchnorm_backward gz {name}', gz, grads[3], TOLERANCE['float32'])


# ---------------------------------------------------------------------------
# Benchmarks.

def timed(fn, reps, warmup=3):
    """Median milliseconds of fn over reps runs, CUDA events on the current stream (dry run: one run)."""
    if DRY:
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(reps)]
    for start, end in events:
        start.record()
        fn()
        end.record()
    torch.cuda.synchronize()
    return statistics.median(start.elapsed_time(end) for start, end in events)


class Timings:
    def __init__(self):
        self.rows = []
        self.copy_gbs = None

    def report(self, row, text):
        row['met'] = not DRY and row['ratio'] >= row['target']
        self.rows.append(row)
        print(f"  {'dry ' if DRY else 'MET ' if row['met'] else 'MISS'} {row['bench']}: {text}")

    def add(self, name, ours_ms, base_ms, target, baseline):
        """ratio = baseline time / our time (how many times faster we are), against target."""
        ratio = base_ms / ours_ms if ours_ms > 0 else math.inf
        self.report({'bench': name, 'ours_ms': ours_ms, 'baseline_ms': base_ms, 'baseline': baseline, 'ratio': ratio,
                     'target': target},
                    f'ours {ours_ms:.3f} ms, {baseline} {base_ms:.3f} ms, ratio {ratio:.2f} (target >= {target})')

    def add_fraction(self, name, ours_ms, bytes_moved, target):
        """Bandwidth as a fraction of the device-to-device copy bandwidth, against target."""
        if self.copy_gbs is None:
            n = size(1 << 28, 1 << 20)
            a, b = torch.randn(n, device=DEVICE), torch.empty(n, device=DEVICE)
            self.copy_gbs = 2 * 4 * n / timed(lambda: b.copy_(a), 20) / 1e6
            print(f'       copy (torch copy_): {self.copy_gbs:.0f} GB/s counting read + write')
            del a, b
        gbs = bytes_moved / ours_ms / 1e6 if ours_ms > 0 else math.inf
        frac = gbs / self.copy_gbs
        self.report({'bench': name, 'ours_ms': ours_ms, 'GB_per_s': gbs, 'copy_GB_per_s': self.copy_gbs, 'ratio': frac,
                     'target': target},
                    f'{ours_ms:.3f} ms, {gbs:.0f} GB/s = {100 * frac:.0f}% of copy {self.copy_gbs:.0f} GB/s '
                    f'(target >= {100 * target:.0f}%)')


def free_memory():
    if not DRY:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()


@bench('spmm')
def bench_sparse():
    n, nnz, F_ = size(2_000_000, 2000), size(20_000_000, 20000), 128
    print(f'sparse: {n} nodes, {nnz} edges (SpMM F = {F_} vs cuSPARSE through torch.sparse; SDDMM and edge softmax '
          'vs PyTorch gather/scatter ops)')
    row_ptr, col_idx, vals, row_of = random_csr(n, n, nnz)
    a = csr_struct(n, n, row_ptr, col_idx, vals)
    nbytes = 4 * (row_ptr.numel() + col_idx.numel())
    timings.add_fraction('csr_validate', timed(lambda: lib.csr_validate(ctypes.byref(a), stream()), 10), nbytes, 0.3)
    x = torch.randn(n, F_, device=DEVICE)
    out = poisoned((n, F_))
    A = torch.sparse_csr_tensor(row_ptr.long(), col_idx.long(), vals, size=(n, n))
    ours = timed(lambda: lib.spmm(ctypes.byref(a), ptr(x), F_, ptr(out), stream()), 20)
    ck.expect(f'spmm {n} x {F_} vs cuSPARSE float32', out, A @ x, 1e-5)
    timings.add(f'spmm {n}/{nnz} x{F_}', ours, timed(lambda: A @ x, 20), 1.0, 'cuSPARSE')
    del x, out, A
    col = col_idx.long()
    H, Fh = 4, 16
    xs, ys, s = torch.randn(n, H, Fh, device=DEVICE), torch.randn(n, H, Fh, device=DEVICE), poisoned((col.numel(), H))
    ours = timed(lambda: lib.sddmm(ctypes.byref(a), ptr(xs), ptr(ys), H, Fh, ptr(s), stream()), 10)
    timings.add(f'sddmm H={H} F={Fh}', ours, timed(lambda: (xs[row_of] * ys[col]).sum(-1), 10), 2.0, 'PyTorch gather + sum')
    scores, y, g, gs = torch.randn(col.numel(), H, device=DEVICE), poisoned(s.shape), torch.randn_like(s), poisoned(s.shape)
    ours = timed(lambda: lib.edge_softmax(ctypes.byref(a), ptr(scores), H, ptr(y), stream()), 10)
    timings.add(f'edge_softmax H={H}', ours, timed(lambda: edge_softmax_reference(scores, row_of, n), 10), 2.0,
              'PyTorch scatter_reduce + index_add')
    ours = timed(lambda: lib.edge_softmax_backward(ctypes.byref(a), ptr(y), ptr(g), H, ptr(gs), stream()), 10)
    theirs = timed(lambda: y * (g - torch.zeros(n, H, device=DEVICE).index_add(0, row_of, y * g)[row_of]), 10)
    timings.add(f'edge_softmax_backward H={H}', ours, theirs, 2.0, 'PyTorch index_add')
    free_memory()


@bench('gemm')
def bench_gemm():
    n = size(8192, 128)
    print(f'GEMM {n}^3 (vs cuBLAS through torch.mm)')
    a, b = torch.randn(n, n, device=DEVICE), torch.randn(n, n, device=DEVICE)
    out = torch.empty(n, n, device=DEVICE)
    a3, b3 = a[None], b[None]
    for precision, target in (('float32', 0.8), ('tf32', 0.6), ('bf16', 0.6)):
        torch.backends.cuda.matmul.allow_tf32 = precision == 'tf32'
        out.fill_(float('nan'))
        ours = timed(lambda: run_matmul(a3, b3, out[None], precision=precision), 10)
        if precision == 'bf16':
            ab, bb = a.bfloat16(), b.bfloat16()
            ref = (ab @ bb).float()
            theirs = timed(lambda: ab @ bb, 10)
            baseline = 'cuBLAS bf16 (bf16 inputs and output; ours reads float32)'
        else:
            ref = a @ b
            theirs = timed(lambda: a @ b, 10)
            baseline = 'cuBLAS ' + ('TF32' if precision == 'tf32' else 'float32, TF32 off')
        ck.expect(f'gemm {n}^3 {precision} vs cuBLAS', out, ref, TOLERANCE[precision])
        timings.add(f'gemm {n}^3 {precision}', ours, theirs, target, baseline)
        print(f'       ours {2 * n ** 3 / ours / 1e9:.1f} TFLOP/s, cuBLAS {2 * n ** 3 / theirs / 1e9:.1f} TFLOP/s')
    torch.backends.cuda.matmul.allow_tf32 = False
    free_memory()


@bench('conv')
def bench_conv():
    torch.backends.cudnn.benchmark = True
    layers = [('r3d layer N32 C64->64 T8 56x56 k3 p1',
               (size(32, 1), 64, size(8, 2), size(56, 8), size(56, 8), 64, (3, 3, 3), (1, 1, 1), (1, 1, 1))),
              ('r3d stem N32 C3->64 T16 112x112 k(3,7,7) s(1,2,2) p(1,3,3)',
               (size(32, 1), 3, size(16, 2), size(112, 16), size(112, 16), 64, (3, 7, 7), (1, 2, 2), (1, 3, 3)))]
    for precision in ('float32', 'tf32'):
        torch.backends.cudnn.allow_tf32 = precision == 'tf32'
        print(f'conv3d {precision} (vs cuDNN, TF32 {"on" if precision == "tf32" else "off"})')
        for name, (N, C, D, H, W, O, k, st, pad) in layers:
            p = conv_params(N, C, D, H, W, O, k, st, pad, precision=precision)
            x = torch.randn(N, C, D, H, W, device=DEVICE)
            w = torch.randn(O, C, *k, device=DEVICE) / math.sqrt(C * k[0] * k[1] * k[2])
            y = torch.empty(N, O, p.oD, p.oH, p.oW, device=DEVICE)
            gy = torch.randn_like(y)
            gx, gw = torch.empty_like(x), torch.empty_like(w)
            directions = {
                'forward': (lambda: lib.conv_forward(ptr(x), ptr(w), None, ptr(y), ctypes.byref(p), stream()),
                            lambda: F.conv3d(x, w, None, st, pad)),
                'backward input': (lambda: lib.conv_backward_input(ptr(gy), ptr(w), ptr(gx), ctypes.byref(p), stream()),
                                   lambda: torch.ops.aten.convolution_backward(
                                       gy, x, w, None, st, pad, (1, 1, 1), False, (0, 0, 0), 1, (True, False, False))),
                'backward weight': (lambda: lib.conv_backward_weight(ptr(x), ptr(gy), ptr(gw), ctypes.byref(p), stream()),
                                    lambda: torch.ops.aten.convolution_backward(
                                        gy, x, w, None, st, pad, (1, 1, 1), False, (0, 0, 0), 1, (False, True, False))),
            }
            if C == 3:
                del directions['backward input']  # the stem's input (the video) needs no gradient
            total_ours = total_theirs = 0.0
            for direction, (ours_fn, theirs_fn) in directions.items():
                ours, theirs = timed(ours_fn, 10), timed(theirs_fn, 10)
                total_ours, total_theirs = total_ours + ours, total_theirs + theirs
                timings.add(f'conv3d {precision} {name} {direction}', ours, theirs, 0.7, 'cuDNN')
            ck.expect(f'conv3d {precision} {name} forward vs cuDNN', y, F.conv3d(x, w, None, st, pad), TOLERANCE[precision])
            timings.add(f'conv3d {precision} {name} all directions', total_ours, total_theirs, 0.7, 'cuDNN')
            free_memory()
    torch.backends.cudnn.allow_tf32 = False


@bench('cmd')
def bench_cmd():
    k, d = 5, 256
    nx, ny = size(500_000, 5000), size(2_000_000, 20000)
    print(f'CMD K=5 forward + backward, X {nx}x{d} and Y {ny}x{d} (vs PyTorch ops with autograd)')
    X, Y = torch.randn(nx, d, device=DEVICE), torch.randn(ny, d, device=DEVICE) * 1.3 + 0.2
    bufs = {}
    for name, t in (('X', X), ('Y', Y)):
        bufs[name] = (torch.empty(d, device=DEVICE), torch.empty(k - 1, d, device=DEVICE),
                      torch.randn(d, device=DEVICE), torch.randn(k - 1, d, device=DEVICE), torch.empty_like(t))

    def ours():
        for name, t in (('X', X), ('Y', Y)):
            mean, mom, gm, gc, gx = bufs[name]
            lib.cmd_moments(ptr(t), t.shape[0], d, k, ptr(mean), ptr(mom), stream())
            lib.cmd_moments_backward(ptr(t), t.shape[0], d, k, ptr(mean), ptr(mom), ptr(gm), ptr(gc), ptr(gx), stream())

    def theirs():
        for name, t in (('X', X), ('Y', Y)):
            _, _, gm, gc, _ = bufs[name]
            tr = t.detach().requires_grad_()
            m = tr.mean(0)
            c = tr - m
            mom = torch.stack([(c ** j).mean(0) for j in range(2, k + 1)])
            torch.autograd.backward([m, mom], [gm, gc])

    timings.add(f'cmd K=5 fwd+bwd X {nx} / Y {ny} x{d}', timed(ours, 10), timed(theirs, 10), 5.0, 'PyTorch ops + autograd')
    free_memory()


@bench('elementwise')
def bench_elementwise():
    n = size(1 << 28, 1 << 20)  # 1 GiB of float32 per tensor
    print(f'elementwise on {n} float32 elements vs device-to-device copy bandwidth')
    a, b, out = torch.randn(n, device=DEVICE), torch.randn(n, device=DEVICE), torch.empty(n, device=DEVICE)
    timings.add_fraction('fill dense', timed(lambda: lib.fill(ptr(out), FLOAT32, n, 1.5, stream()), 20), 4 * n, 0.8)
    for op in ('relu', 'exp', 'gelu'):
        timings.add_fraction(f'unary {op} dense', timed(lambda: run_unary(op, a, out), 20), 2 * 4 * n, 0.8)
    for op in ('add', 'mul'):
        timings.add_fraction(f'binary {op} dense', timed(lambda: run_binary(op, a, b, out), 20), 3 * 4 * n, 0.8)
    rows, cols = n // 4096, 4096
    m, bias = a.view(rows, cols), b[:cols].expand(rows, cols)
    ms = timed(lambda: run_binary('add', m, bias, out.view(rows, cols)), 20)
    timings.add_fraction('binary add row-broadcast bias (strided path)', ms, 2 * 4 * n, 0.8)
    free_memory()


@bench('index')
def bench_index():
    n = size(1 << 28, 1 << 20)
    print(f'copy, where, gather, scatterAdd on {n} float32 elements (vs copy bandwidth and PyTorch)')
    a, b, out = torch.randn(n, device=DEVICE), torch.randn(n, device=DEVICE), torch.empty(n, device=DEVICE)
    t = a.view(n // 4096, 4096).t()
    timings.add_fraction('copy transposed 4096 columns', timed(lambda: run_copy(t, out.view(t.shape)), 20), 2 * 4 * n, 0.5)
    c = (b > 0).float()
    timings.add_fraction('where dense', timed(lambda: run_where(c, a, b, out), 20), 4 * 4 * n, 0.8)
    rows, F_ = n // 128, 128
    x = a.view(rows, F_)
    idx = torch.randint(0, rows, (rows, 1), device=DEVICE, dtype=torch.int32).expand(rows, F_)
    idx64 = idx.long()
    value, position = I64(), I64()
    timings.add_fraction('check_indices (row lookups, broadcast)', timed(lambda: run_check_indices(
        idx, x, 0, value, position), 10), 4 * rows * F_, 0.3)
    g = out.view(rows, F_)
    timings.add(f'gather rows {rows} x {F_}', timed(lambda: run_gather(x, 0, idx, g), 10),
              timed(lambda: torch.gather(x, 0, idx64), 10), 0.8, 'torch.gather')
    timings.add(f'scatterAdd rows {rows} x {F_}', timed(lambda: run_scatter_add(g, 0, idx, x), 10),
              timed(lambda: g.scatter_add_(0, idx64, x), 10), 0.8, 'torch.scatter_add_')
    free_memory()


@bench('reduce')
def bench_reduce():
    rows, cols = size(16384, 128), size(16384, 128)
    print(f'reductions of a {rows} x {cols} float32 matrix (vs torch.sum / amax / argmax)')
    x = torch.randn(rows, cols, device=DEVICE)
    out, arg = torch.empty(max(rows, cols), device=DEVICE), torch.empty(max(rows, cols), dtype=torch.int32, device=DEVICE)
    for op, theirs in (('sum', lambda t, dim: t.sum(dim)), ('max', lambda t, dim: t.amax(dim)),
                       ('argmax', lambda t, dim: t.argmax(dim))):
        o = arg if op == 'argmax' else out
        timings.add(f'reduce {op} over rows', timed(lambda: run_reduce(op, x.view(rows, cols, 1), o[:rows]), 20),
                  timed(lambda: theirs(x, 1), 20), 0.8, f'torch {op}')
        timings.add(f'reduce {op} over columns', timed(lambda: run_reduce(op, x.view(1, rows, cols), o[:cols]), 20),
                  timed(lambda: theirs(x, 0), 20), 0.8, f'torch {op}')
    free_memory()


@bench('pool')
def bench_pool():
    N, C, D, H, W = size(32, 1), 64, size(16, 2), size(56, 8), size(56, 8)
    k, st, pad = (1, 3, 3), (1, 2, 2), (0, 1, 1)
    print(f'pooling x [{N}, {C}, {D}, {H}, {W}] k{k} s{st} p{pad} (vs cuDNN through torch)')
    p = pool_params(N, C, D, H, W, k, st, pad)
    x = torch.randn(N, C, D, H, W, device=DEVICE)
    y, am = torch.empty(N, C, p.oD, p.oH, p.oW, device=DEVICE), torch.empty(N, C, p.oD, p.oH, p.oW, dtype=torch.int32, device=DEVICE)
    gy, gx = torch.randn_like(y), torch.empty_like(x)
    timings.add('max_pool', timed(lambda: lib.max_pool(ptr(x), ptr(y), ptr(am), ctypes.byref(p), stream()), 20),
              timed(lambda: F.max_pool3d(x, k, st, pad, return_indices=True), 20), 0.8, 'cuDNN max_pool3d')
    timings.add('avg_pool', timed(lambda: lib.avg_pool(ptr(x), ptr(y), ctypes.byref(p), stream()), 20),
              timed(lambda: F.avg_pool3d(x, k, st, pad), 20), 0.8, 'cuDNN avg_pool3d')
    timings.add('avg_pool_backward', timed(lambda: lib.avg_pool_backward(ptr(gy), ptr(gx), ctypes.byref(p), stream()), 20),
              timed(lambda: torch.ops.aten.avg_pool3d_backward(gy, x, k, st, pad, False, True, None), 20), 0.8,
              'cuDNN avg_pool3d backward')
    free_memory()


@check('cumulative')
def check_cumulative():
    # float32 against float64 torch.cumsum/cumprod; int32 exact (values beyond 2^24, which float32 would round).
    for shape, axis in (((0, 4), 1), ((5, 1), 1), ((3, size(1000, 30), 4), 1), ((size(3000, 40), 7), 0)):
        outer, inner = math.prod(shape[:axis]), math.prod(shape[axis + 1:])
        x = torch.randn(shape, device=DEVICE)
        xi = torch.randint(-3, 4, shape, device=DEVICE, dtype=torch.int32) * (1 << 22)
        for op, name in ((0, 'sum'), (1, 'prod')):
            for reverse in (0, 1):
                src = 1 + 0.01 * x if name == 'prod' else x
                ref = src.double().flip(axis) if reverse else src.double()
                ref = (ref.cumsum(axis) if name == 'sum' else ref.cumprod(axis))
                ref = ref.flip(axis) if reverse else ref
                out = poisoned(shape)
                lib.cumulative(op, ptr(src), 0, outer, shape[axis], inner, reverse, ptr(out), stream())
                ck.expect(f'cumulative {name} {list(shape)} axis {axis} reverse={reverse}', out, ref.to(out.device), 1e-5)
            if name == 'sum':
                ints = xi.flip(axis) if reverse else xi
                want = ints.long().cumsum(axis)
                want = (want.flip(axis) if reverse else want)
                want = ((want + (1 << 31)) % (1 << 32) - (1 << 31)).int()  # int32 wrap-around
                out = poisoned(shape, torch.int32)
                lib.cumulative(0, ptr(xi), 1, outer, shape[axis], inner, reverse, ptr(out), stream())
                ck.expect(f'cumulative int32 sum {list(shape)} axis {axis} reverse={reverse}', out, want.to(out.device), 0)


@bench('cumulative')
def bench_cumulative():
    rows, n = size(8192, 8), size(1024, 64)
    print(f'cumsum of {rows} rows of {n} along the rows (vs torch.cumsum)')
    x = torch.randn(rows, n, device=DEVICE)
    out = torch.empty_like(x)
    ours = timed(lambda: lib.cumulative(0, ptr(x), 0, rows, n, 1, 0, ptr(out), stream()), 20)
    timings.add('cumulative', ours, timed(lambda: torch.cumsum(x, 1), 20), 0.3, 'torch.cumsum')
    free_memory()


@bench('argsort')
def bench_argsort():
    rows, n = size(4096, 8), size(1024, 64)
    print(f'argsort of {rows} rows of {n} (vs torch.sort)')
    x = torch.randn(rows, n, device=DEVICE)
    out = torch.empty(rows, n, dtype=torch.int32, device=DEVICE)
    ours = timed(lambda: lib.argsort(ptr(x), rows, n, 1, 0, ptr(out), stream()), 20)
    timings.add('argsort', ours, timed(lambda: torch.sort(x, dim=1, stable=True), 20), 0.1, 'torch.sort (stable)')
    free_memory()


@bench('nms')
def bench_nms():
    K, classes, threshold = size(10000, 200), 80, 0.5
    print(f'batched NMS, {K} boxes of {classes} classes (vs torchvision batched_nms where installed)')
    boxes, scores, groups = random_boxes(K, classes)
    keep = torch.empty(K + 1, dtype=torch.int32, device=DEVICE)
    ours = timed(lambda: lib.nms(ptr(boxes), ptr(scores), ptr(groups), K, threshold, ptr(keep), stream()), 20)
    try:
        from torchvision.ops import batched_nms
        theirs = timed(lambda: batched_nms(boxes, scores, groups.long(), threshold), 20)
        timings.add('nms', ours, theirs, 1.0, 'torchvision batched_nms')
    except ImportError:
        print('  (torchvision not installed: nms timed alone)')
        timings.add('nms', ours, float('nan'), 1.0, 'torchvision batched_nms (absent)')
    free_memory()


@bench('optim')
def bench_optim():
    # AdamW and SGD momentum steps at the detector's scale (one 4M-element tensor, and 100 tensors of 40K): one
    # kernel per tensor against torch's AdamW (fused=True where this torch has it, else foreach) and SGD (foreach).
    for count, n in ((1, size(1 << 22, 1024)), (size(100, 4), size(40_000, 256))):
        params = [torch.randn(n, device=DEVICE) for _ in range(count)]
        grads = [torch.randn(n, device=DEVICE) for _ in range(count)]
        ms, vs = [torch.zeros(n, device=DEVICE) for _ in range(count)], [torch.zeros(n, device=DEVICE) for _ in range(count)]
        p = adam_params(n, 1e-3, 0.9, 0.999, 1e-8, 0.01, True, 10)

        def ours():
            for x, g, m, v in zip(params, grads, ms, vs):
                lib.adam_update(ptr(x), ptr(g), ptr(m), ptr(v), ctypes.byref(p), stream())

        leaves = [x.clone().requires_grad_() for x in params]
        for leaf, g in zip(leaves, grads):
            leaf.grad = g.clone()
        try:
            opt, kind = torch.optim.AdamW(leaves, lr=1e-3, fused=True), 'fused'
        except (TypeError, RuntimeError):
            opt, kind = torch.optim.AdamW(leaves, lr=1e-3, foreach=True), 'foreach'
        timings.add(f'adamw step {count} x {n}', timed(ours, 20), timed(opt.step, 20), 1.0, f'torch.optim.AdamW ({kind})')
        sp = sgd_params(n, 1e-3, 0.0, 0.9, 0.0, False, False)

        def ours_sgd():
            for x, g, m in zip(params, grads, ms):
                lib.sgd_update(ptr(x), ptr(g), ptr(m), ctypes.byref(sp), stream())

        sgd = torch.optim.SGD(leaves, lr=1e-3, momentum=0.9, foreach=True)
        timings.add(f'sgd momentum step {count} x {n}', timed(ours_sgd, 20), timed(sgd.step, 20), 1.0,
                    'torch.optim.SGD (foreach)')
    free_memory()


@bench('lstm')
def bench_lstm():
    # DeepAR's shapes: training (T = 60, B = 32, in 30, H = 40, forward + backward) and ancestral sampling
    # (one step of 512 paths, forward). Ours is a whole layer: the input projection and the weight gradients as
    # cuBLAS GEMMs (torch.addmm / mm, as Tessera's op does them with its matmul) around the recurrence kernels.
    for T, B, I, H, backward in ((60, 32, 30, 40, True), (1, size(512, 16), 30, 40, False)):
        G = 4 * H
        print(f'LSTM layer T={T} B={B} in={I} H={H} {"forward + backward" if backward else "forward"} (vs torch.nn.LSTM, cuDNN)')
        x = torch.randn(T, B, I, device=DEVICE)
        w_ih, w_hh = torch.randn(G, I, device=DEVICE) * 0.1, torch.randn(G, H, device=DEVICE) * 0.1
        bias, h0, c0 = torch.randn(G, device=DEVICE) * 0.1, torch.randn(B, H, device=DEVICE), torch.randn(B, H, device=DEVICE)
        gates_in, states, gates = torch.empty(T, B, G, device=DEVICE), torch.empty(2, T, B, H, device=DEVICE), torch.empty(T, B, G, device=DEVICE)
        grad_states = torch.randn(2, T, B, H, device=DEVICE)
        grad_gates, grad_h0, grad_c0 = torch.empty(T, B, G, device=DEVICE), torch.empty(B, H, device=DEVICE), torch.empty(B, H, device=DEVICE)
        p = lstm_params(T, B, H, False)

        def ours():
            torch.addmm(bias, x.view(T * B, I), w_ih.t(), out=gates_in.view(T * B, G))
            lib.lstm_forward(ptr(gates_in), ptr(w_hh), ptr(h0), ptr(c0), ptr(states), ptr(gates), ctypes.byref(p), stream())
            if backward:
                lib.lstm_backward(ptr(w_hh), ptr(c0), ptr(gates), ptr(states), ptr(grad_states), ptr(grad_gates),
                                  ptr(grad_h0), ptr(grad_c0), ctypes.byref(p), stream())
                gz = grad_gates.view(T * B, G)
                gz.mm(w_ih)                                                                  # dL/dx
                gz.t().mm(x.view(T * B, I))                                                  # dL/dW_ih
                gz.t().mm(torch.cat([h0[None], states[0, :T - 1]]).view(T * B, H))           # dL/dW_hh

        lstm = torch.nn.LSTM(I, H).to(DEVICE)
        xr = x.clone().requires_grad_(backward)

        def theirs():
            out, (hn, cn) = lstm(xr, (h0[None], c0[None]))
            if backward:
                torch.autograd.backward([out, cn], [grad_states[0], grad_states[1, -1:]])

        timings.add(f'lstm layer T={T} B={B} in={I} H={H}{" fwd+bwd" if backward else " fwd"}', timed(ours, 20),
                    timed(theirs, 20), 0.5, 'torch.nn.LSTM (cuDNN)')
    free_memory()


@bench('batchnorm')
def bench_batchnorm():
    # The detector's largest Conv-BN-SiLU activation (batch 16): forward and backward against torch's
    # batch_norm + silu (cuDNN batch norm, then the elementwise SiLU and its backward).
    shape = (16, 32, 64, 64)
    N, C = shape[0], shape[1]
    inner = math.prod(shape[2:])
    x, g = torch.randn(shape, device=DEVICE), torch.randn(shape, device=DEVICE)
    weight, bias = torch.ones(C, device=DEVICE), torch.zeros(C, device=DEVICE)
    out, stats, gx, sums = torch.empty(shape, device=DEVICE), torch.empty(2, C, device=DEVICE), torch.empty(shape, device=DEVICE), torch.empty(2, C, device=DEVICE)
    p = batchnorm_params(N, C, inner, 'silu')

    def ours():
        lib.batchnorm_forward(ptr(x), ptr(weight), ptr(bias), ptr(None), ptr(out), ptr(stats), ctypes.byref(p), stream())
        lib.batchnorm_backward(ptr(g), ptr(x), ptr(weight), ptr(bias), ptr(None), ptr(stats), ptr(gx), ptr(sums), ptr(None),
                               ctypes.byref(p), stream())

    xr, wr, br = x.clone().requires_grad_(), weight.clone().requires_grad_(), bias.clone().requires_grad_()

    def theirs():
        y = torch.nn.functional.silu(torch.nn.functional.batch_norm(xr, None, None, wr, br, training=True))
        torch.autograd.grad(y, (xr, wr, br), g)

    timings.add(f'batchnorm + silu fwd+bwd {list(shape)}', timed(ours, 20), timed(theirs, 20), 0.5,
                'torch batch_norm + silu (cuDNN)')
    free_memory()


def coverage_problems():
    """Kernel functions of capi.h that no check or no benchmark called in this run."""
    problems = []
    for name in kernel_functions():
        for section in ('check', 'bench'):
            if name not in CALLED[section]:
                problems.append(f'tsr_cuda_{name}: called by no {section} in this run')
    return problems


def main():
    global DRY, DEVICE, lib, ck, timings
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--lib', help='path to libtessera_cuda.so')
    ap.add_argument('--dry-run', action='store_true', help='no GPU: CPU tensors, small sizes, a mock library')
    ap.add_argument('--build-seconds', type=float, default=None)
    ap.add_argument('--skip-bench', action='store_true')
    ap.add_argument('--skip-checks', action='store_true')
    ap.add_argument('--only', nargs='*', default=[],
                    help='kernel families to run: ' + ' '.join(sorted({f for f, _ in CHECKS + BENCHES})))
    args = ap.parse_args()
    DRY = args.dry_run
    if not DRY and not args.lib:
        ap.error('--lib is required (or --dry-run)')
    seed = int(time.time()) % 1_000_000
    torch.manual_seed(seed)
    problems = header_problems()
    for p in problems:
        print(f'  FAIL capi.py vs kernels/cuda/capi.h: {p}')
    if DRY:
        DEVICE, lib, device = 'cpu', MockLib(), f'none (dry run on CPU tensors, torch {torch.__version__})'
    else:
        if not torch.cuda.is_available():
            sys.exit('check_and_bench: PyTorch sees no CUDA GPU')
        lib = Lib(args.lib)
        count = INT()
        lib.device_count(ctypes.byref(count))
        if count.value == 0:
            sys.exit('check_and_bench: the library sees no CUDA GPU: ' + lib.last_error())
        torch.cuda.set_device(0)
        lib.set_device(0)
        props = torch.cuda.get_device_properties(0)
        device = f'{props.name}, {props.multi_processor_count} SMs, torch {torch.__version__}'
    print(f'device: {device}, seed {seed}')

    ck, timings = Checker(), Timings()
    started = time.time()
    wanted = set(args.only)
    for section, table, skip in (('check', CHECKS, args.skip_checks), ('bench', BENCHES, args.skip_bench)):
        if skip:
            continue
        SECTION[0] = section
        print('checks (rel_err = max|out - ref| / max|ref|, float64 reference)' if section == 'check' else
              'benchmarks (ratio = baseline time / our time; bandwidth-bound kernels: fraction of copy bandwidth)')
        for family, fn in table:
            if not wanted or family in wanted:
                ck.run(fn.__name__, fn)
                free_memory()
    if DRY:
        full_run = not wanted and not args.skip_checks and not args.skip_bench
        for p in lib.problems + (coverage_problems() if full_run else []):
            problems.append(p)
            print(f'  FAIL {p}')
    failed = [r for r in ck.results if not r['ok']]
    missed = [r for r in timings.rows if not r['met']]
    print(f'\n{len(ck.results) - len(failed)}/{len(ck.results)} checks passed; ' +
          ('speed not measured (dry run); ' if DRY else f'{len(timings.rows) - len(missed)}/{len(timings.rows)} speed targets met; ') +
          f'{len(problems)} problems; total {time.time() - started:.0f} s')
    for r in failed:
        print(f"  FAILED: {r['check']}: {r.get('message', r.get('rel_err'))}")
    result = {'device': device, 'dry_run': DRY, 'seed': seed, 'build_seconds': args.build_seconds,
              'problems': problems, 'checks': ck.results, 'benchmarks': timings.rows}
    out_dir = os.environ.get('OUT')
    if out_dir:
        with open(os.path.join(out_dir, 'cuda_bench_dry.json' if DRY else 'cuda_bench.json'), 'w') as f:
            json.dump(result, f, indent=1, default=str)
    sys.exit(1 if failed or problems else 0)


if __name__ == '__main__':
    main()
