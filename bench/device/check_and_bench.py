#!/usr/bin/env python3
"""Checks and benchmarks Tessera's CUDA kernels through their C ABI (ctypes).

Checks: every kernel against PyTorch computed in float64 on fresh random
inputs, outputs poisoned (NaN, or a sentinel for int32) before each run so
that an unwritten element fails. The error of a check is
    rel_err = max |out - ref| / max |ref|        (normwise, float64)
and must stay under 1e-5 on float32 paths, 5e-3 on TF32 (10-bit mantissa
operands) and 1e-2 on BF16 (7-bit mantissa operands).

Benchmarks: the same run, against PyTorch (cuBLAS, cuSPARSE, cuDNN), timed
with CUDA events on one stream, median of many runs, with the target ratio
of each. Results go to $OUT/cuda_bench.json when OUT is set.
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

# ---------------------------------------------------------------------------
# Mirror of native/cuda/capi.h (every struct field is 8 bytes wide).

I64, F64, PTR, INT = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p, ctypes.c_int
MAX_DIMS = 8
FLOAT32, INT32 = 0, 1
UNARY = ['neg', 'exp', 'log', 'log1p', 'sqrt', 'rsqrt', 'abs', 'sign', 'tanh', 'sigmoid', 'relu', 'leakyRelu',
         'elu', 'gelu', 'geluGrad', 'softplus', 'sin', 'cos', 'square', 'reciprocal', 'floor']
BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'minimum', 'maximum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge']
REDUCE = ['sum', 'prod', 'max', 'min', 'argmax', 'argmin']
ACTS = ['none', 'relu', 'gelu', 'tanh', 'sigmoid']
PRECISIONS = ['float32', 'tf32', 'bf16']
TOLERANCE = {'float32': 1e-5, 'tf32': 5e-3, 'bf16': 1e-2}


class View(ctypes.Structure):
    _fields_ = [('rank', I64), ('shape', I64 * MAX_DIMS), ('strides', I64 * MAX_DIMS), ('offset', I64)]


class Csr(ctypes.Structure):
    _fields_ = [('rows', I64), ('cols', I64), ('nnz', I64), ('row_ptr', PTR), ('col_idx', PTR), ('values', PTR)]


class MatmulParams(ctypes.Structure):
    _fields_ = [('batch', I64), ('M', I64), ('N', I64), ('K', I64), ('a_strides', I64 * 3), ('a_offset', I64),
                ('b_strides', I64 * 3), ('b_offset', I64), ('alpha', F64), ('bias', PTR), ('act', I64),
                ('precision', I64)]


class ConvParams(ctypes.Structure):
    _fields_ = [(n, I64) for n in ['N', 'C', 'D', 'H', 'W', 'O', 'kd', 'kh', 'kw']] + \
               [('stride', I64 * 3), ('padding', I64 * 3), ('dilation', I64 * 3)] + \
               [(n, I64) for n in ['groups', 'oD', 'oH', 'oW', 'precision']]


class PoolParams(ctypes.Structure):
    _fields_ = [(n, I64) for n in ['N', 'C', 'D', 'H', 'W', 'kd', 'kh', 'kw']] + \
               [('stride', I64 * 3), ('padding', I64 * 3)] + [(n, I64) for n in ['oD', 'oH', 'oW']]


VP, CP, MP, KP, PP = (ctypes.POINTER(t) for t in (View, Csr, MatmulParams, ConvParams, PoolParams))
SIGNATURES = {
    'tsr_cuda_device_count': [ctypes.POINTER(INT)],
    'tsr_cuda_set_device': [INT],
    'tsr_cuda_stream_synchronize': [PTR],
    'tsr_cuda_fill': [PTR, I64, I64, F64, PTR],
    'tsr_cuda_unary': [I64, PTR, I64, VP, PTR, I64, F64, PTR],
    'tsr_cuda_binary': [I64, PTR, I64, VP, PTR, I64, VP, PTR, I64, PTR],
    'tsr_cuda_copy': [PTR, I64, VP, PTR, I64, PTR],
    'tsr_cuda_where': [PTR, I64, VP, PTR, VP, PTR, VP, PTR, I64, PTR],
    'tsr_cuda_check_indices': [PTR, VP, I64, ctypes.POINTER(I64), ctypes.POINTER(I64), PTR],
    'tsr_cuda_gather': [PTR, VP, I64, PTR, VP, PTR, PTR],
    'tsr_cuda_scatter_add': [PTR, I64, ctypes.POINTER(I64), I64, I64, PTR, VP, PTR, VP, PTR],
    'tsr_cuda_reduce': [I64, PTR, I64, I64, I64, I64, PTR, I64, PTR],
    'tsr_cuda_matmul': [PTR, PTR, PTR, MP, PTR],
    'tsr_cuda_csr_validate': [CP, PTR],
    'tsr_cuda_spmm': [CP, PTR, I64, PTR, PTR],
    'tsr_cuda_sddmm': [CP, PTR, PTR, I64, I64, PTR, PTR],
    'tsr_cuda_edge_softmax': [CP, PTR, I64, PTR, PTR],
    'tsr_cuda_edge_softmax_backward': [CP, PTR, PTR, I64, PTR, PTR],
    'tsr_cuda_cmd_moments': [PTR, I64, I64, I64, PTR, PTR, PTR],
    'tsr_cuda_cmd_moments_backward': [PTR, I64, I64, I64, PTR, PTR, PTR, PTR, PTR, PTR],
    'tsr_cuda_conv_forward': [PTR, PTR, PTR, PTR, KP, PTR],
    'tsr_cuda_conv_backward_input': [PTR, PTR, PTR, KP, PTR],
    'tsr_cuda_conv_backward_weight': [PTR, PTR, PTR, KP, PTR],
    'tsr_cuda_max_pool': [PTR, PTR, PTR, PP, PTR],
    'tsr_cuda_avg_pool': [PTR, PTR, PP, PTR],
    'tsr_cuda_avg_pool_backward': [PTR, PTR, PP, PTR],
}


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
            fn = getattr(self.dll, name)
            fn.argtypes = args
            fn.restype = INT

    def __getattr__(self, name):
        fn = getattr(self.dll, 'tsr_cuda_' + name)

        def call(*args):
            status = fn(*args)
            if status != 0:
                raise TsrError(status, self.dll.tsr_cuda_last_error().decode())
        return call


def stream():
    return PTR(torch.cuda.current_stream().cuda_stream)


def dtype_code(t):
    return {torch.float32: FLOAT32, torch.int32: INT32}[t.dtype]


def base(t):
    """Pointer to the start of t's storage: views carry their offset separately."""
    return PTR(t.untyped_storage().data_ptr())


def ptr(t):
    return PTR(t.data_ptr()) if t is not None else PTR(0)


def view(t):
    v = View()
    v.rank = t.dim()
    for d in range(t.dim()):
        v.shape[d], v.strides[d] = t.shape[d], t.stride(d)
    v.offset = t.storage_offset()
    return v


def poisoned(shape, dtype=torch.float32):
    return torch.full(shape, float('nan') if dtype.is_floating_point else -12345, dtype=dtype, device='cuda')


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
    def __init__(self, lib):
        self.lib = lib
        self.results = []

    def expect(self, name, out, ref, tol):
        err = rel_err(out, ref)
        ok = err <= tol
        self.results.append({'check': name, 'rel_err': err, 'tolerance': tol, 'ok': ok})
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: rel_err {err:.2e} (tolerance {tol:.0e})")

    def expect_error(self, name, fn, fragment):
        try:
            fn()
        except TsrError as e:
            ok = fragment in str(e)
            self.results.append({'check': name, 'ok': ok, 'message': str(e)})
            print(f"  {'ok  ' if ok else 'FAIL'} {name}: {e}")
            return
        self.results.append({'check': name, 'ok': False, 'message': 'no error raised'})
        print(f'  FAIL {name}: no error raised')

    def run(self, name, body):
        try:
            body()
            torch.cuda.synchronize()
        except Exception as e:  # a crashed check is a failed check; the others still run
            traceback.print_exc()
            self.results.append({'check': name, 'ok': False, 'message': f'{type(e).__name__}: {e}'})
            print(f'  FAIL {name}: {type(e).__name__}: {e}')


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
    }
    return table[op]()


def binary_reference(op, a, b, int_math):
    a, b = a.double(), b.double()
    r = {'add': a + b, 'sub': a - b, 'mul': a * b, 'div': a / b, 'pow': torch.pow(a, b),
         'minimum': torch.minimum(a, b), 'maximum': torch.maximum(a, b),
         'eq': (a == b).double(), 'ne': (a != b).double(), 'lt': (a < b).double(), 'le': (a <= b).double(),
         'gt': (a > b).double(), 'ge': (a >= b).double()}[op]
    return r.trunc() if int_math else r


def activation_reference(act, x):
    return {'none': x, 'relu': x.relu(), 'gelu': F.gelu(x), 'tanh': x.tanh(), 'sigmoid': x.sigmoid()}[act]


def matmul_params(a, b, batch, M, N, K, alpha, bias, act, precision):
    p = MatmulParams()
    p.batch, p.M, p.N, p.K = batch, M, N, K
    for d in range(3):
        p.a_strides[d], p.b_strides[d] = a.stride(d), b.stride(d)
    p.a_offset, p.b_offset = a.storage_offset(), b.storage_offset()
    p.alpha, p.bias = alpha, (bias.data_ptr() if bias is not None else None)
    p.act, p.precision = ACTS.index(act), PRECISIONS.index(precision)
    return p


def run_matmul(lib, a, b, out, alpha=1.0, bias=None, act='none', precision='float32'):
    batch, M, K = a.shape
    N = b.shape[2]
    p = matmul_params(a, b, batch, M, N, K, alpha, bias, act, precision)
    lib.matmul(PTR(a.untyped_storage().data_ptr()), PTR(b.untyped_storage().data_ptr()), ptr(out),
               ctypes.byref(p), stream())


def conv_params(N, C, D, H, W, O, k, stride, padding, dilation=(1, 1, 1), groups=1, precision='float32'):
    p = ConvParams()
    p.N, p.C, p.D, p.H, p.W, p.O = N, C, D, H, W, O
    p.kd, p.kh, p.kw = k
    for i in range(3):
        p.stride[i], p.padding[i], p.dilation[i] = stride[i], padding[i], dilation[i]
    p.groups = groups
    out = [(n + 2 * padding[i] - dilation[i] * (k[i] - 1) - 1) // stride[i] + 1 for i, n in enumerate((D, H, W))]
    p.oD, p.oH, p.oW = out
    p.precision = PRECISIONS.index(precision)
    return p


def pool_params(N, C, D, H, W, k, stride, padding):
    p = PoolParams()
    p.N, p.C, p.D, p.H, p.W = N, C, D, H, W
    p.kd, p.kh, p.kw = k
    for i in range(3):
        p.stride[i], p.padding[i] = stride[i], padding[i]
    p.oD, p.oH, p.oW = [(n + 2 * padding[i] - k[i]) // stride[i] + 1 for i, n in enumerate((D, H, W))]
    return p


def random_csr(rows, cols, nnz, device='cuda', values=True):
    """Uniform random entries, duplicates merged, columns sorted within rows (some rows empty)."""
    r = torch.randint(0, rows, (nnz,), device=device, dtype=torch.int64)
    c = torch.randint(0, cols, (nnz,), device=device, dtype=torch.int64)
    key = torch.unique(r * cols + c)  # sorted: row-major order
    r, c = key // cols, key % cols
    row_ptr = torch.zeros(rows + 1, dtype=torch.int64, device=device)
    row_ptr[1:] = torch.cumsum(torch.bincount(r, minlength=rows), 0)
    vals = torch.randn(key.numel(), device=device) if values else None
    return row_ptr.int(), c.int(), vals, r


def csr_struct(rows, cols, row_ptr, col_idx, vals):
    return Csr(rows, cols, col_idx.numel(), row_ptr.data_ptr(), col_idx.data_ptr(),
               vals.data_ptr() if vals is not None else None)


def checks(lib, ck):
    s = stream
    print('checks (rel_err = max|out - ref| / max|ref|, float64 reference)')

    def fill():
        for dtype, value in ((torch.float32, -2.75), (torch.int32, 7)):
            out = poisoned((1000003,), dtype)
            lib.fill(ptr(out), dtype_code(out), out.numel(), value, s())
            ck.expect(f'fill {dtype}', out, torch.full_like(out, value), 0)
    ck.run('fill', fill)

    def copy():
        x = torch.randn(37, 45, 29, device='cuda') * 100
        for name, v in (('permuted', x.permute(2, 0, 1)), ('sliced', x[3:30:2, ::3, 1:]), ('broadcast', x[:1].expand(5, 45, 29))):
            for to in (torch.float32, torch.int32):
                out = poisoned(v.shape, to)
                lib.copy(base(v), FLOAT32, ctypes.byref(view(v)), ptr(out), dtype_code(out), s())
                ck.expect(f'copy {name} float32->{to}', out, v.double().trunc() if to == torch.int32 else v, 0)
        xi = torch.randint(-1000, 1000, (64, 33), device='cuda', dtype=torch.int32).t()
        out = poisoned(xi.shape)
        lib.copy(base(xi), INT32, ctypes.byref(view(xi)), ptr(out), FLOAT32, s())
        ck.expect('copy transposed int32->float32', out, xi, 0)
    ck.run('copy', copy)

    def unary():
        for op in UNARY:
            positive = op in ('log', 'log1p', 'sqrt', 'rsqrt', 'reciprocal')
            x = (torch.rand(517, 300, device='cuda') * 3 + 0.1) if positive else torch.randn(517, 300, device='cuda') * 4
            xv = x.t()  # strided
            out = poisoned(xv.shape)
            lib.unary(UNARY.index(op), base(xv), FLOAT32, ctypes.byref(view(xv)), ptr(out), FLOAT32, 0.3, s())
            ck.expect(f'unary {op}', out, unary_reference(op, xv, 0.3), 1e-5)
    ck.run('unary', unary)

    def binary():
        for op in BINARY:
            gen = (lambda *sh: torch.rand(*sh, device='cuda') * 2 + 0.5) if op == 'pow' else \
                (lambda *sh: torch.randint(-3, 4, sh, device='cuda').float() + 0.5 * torch.rand(*sh, device='cuda'))
            a = gen(64, 1, 333).expand(64, 200, 333)
            b = gen(200, 333).t()[None].expand(64, 333, 200).transpose(1, 2)
            out = poisoned(a.shape)
            lib.binary(BINARY.index(op), base(a), FLOAT32, ctypes.byref(view(a)), base(b), FLOAT32,
                       ctypes.byref(view(b)), ptr(out), FLOAT32, s())
            ck.expect(f'binary {op} broadcast', out, binary_reference(op, a, b, False), 1e-5)
            ai = torch.randint(-50, 50, (1000, 77), device='cuda', dtype=torch.int32)
            bi = torch.randint(1, 9, (77,), device='cuda', dtype=torch.int32).expand(1000, 77)
            if op == 'pow':
                continue
            out = poisoned(ai.shape, torch.int32)
            lib.binary(BINARY.index(op), base(ai), INT32, ctypes.byref(view(ai)), base(bi), INT32,
                       ctypes.byref(view(bi)), ptr(out), INT32, s())
            ck.expect(f'binary {op} int32', out, binary_reference(op, ai, bi, True), 0)
        a, b = torch.randn(1 << 26, device='cuda'), torch.randn(1 << 26, device='cuda')
        out = poisoned(a.shape)
        lib.binary(BINARY.index('add'), base(a), FLOAT32, ctypes.byref(view(a)), base(b), FLOAT32,
                   ctypes.byref(view(b)), ptr(out), FLOAT32, s())
        ck.expect('binary add dense 2^26', out, a.double() + b.double(), 1e-7)
    ck.run('binary', binary)

    def where():
        c = (torch.randn(300, 1, 40, device='cuda') > 0).float().expand(300, 70, 40)
        a, b = torch.randn(300, 70, 40, device='cuda'), torch.randn(70, 1, device='cuda').expand(300, 70, 40)
        out = poisoned(a.shape)
        lib.where(base(c), FLOAT32, ctypes.byref(view(c)), base(a), ctypes.byref(view(a)), base(b),
                  ctypes.byref(view(b)), ptr(out), FLOAT32, s())
        ck.expect('where broadcast', out, torch.where(c != 0, a, b), 0)
    ck.run('where', where)

    def reduce():
        for shape in ((128, 5000, 1), (4, 3_000_000, 1), (16, 300, 77), (1, 100_000, 64), (3, 0, 5)):
            outer, size, inner = shape
            x = torch.randn(outer, size, inner, device='cuda')
            for op in REDUCE:
                xin = (1 + 1e-3 * x) if op == 'prod' else (x * 2).round() if op.startswith('arg') else x
                arg = op.startswith('arg')
                out = poisoned((outer, inner), torch.int32 if arg else torch.float32)
                lib.reduce(REDUCE.index(op), ptr(xin), FLOAT32, outer, size, inner, ptr(out),
                           INT32 if arg else FLOAT32, s())
                x64 = xin.double()
                if size == 0:
                    ref = {'sum': 0.0, 'prod': 1.0, 'max': -math.inf, 'min': math.inf, 'argmax': 0, 'argmin': 0}[op]
                    ref = torch.full((outer, inner), ref, dtype=torch.float64, device='cuda')
                else:
                    ref = {'sum': lambda: x64.sum(1), 'prod': lambda: x64.prod(1), 'max': lambda: x64.amax(1),
                           'min': lambda: x64.amin(1), 'argmax': lambda: x64.argmax(1),
                           'argmin': lambda: x64.argmin(1)}[op]()
                ck.expect(f'reduce {op} {list(shape)}', out, ref, 0 if arg else 1e-6)
    ck.run('reduce', reduce)

    def matmul():
        for precision in PRECISIONS:
            for batch, M, N, K, ta, tb, bcast, act in ((1, 1000, 1500, 700, False, False, False, 'gelu'),
                                                       (3, 257, 130, 515, True, True, True, 'relu'),
                                                       (2, 64, 200, 4099, False, True, False, 'sigmoid'),
                                                       (4, 33, 17, 9, True, False, False, 'tanh'),
                                                       (1, 128, 128, 0, False, False, False, 'none')):
                a = torch.randn(batch, K, M, device='cuda').transpose(1, 2) if ta else torch.randn(batch, M, K, device='cuda')
                bb = 1 if bcast else batch
                b = torch.randn(bb, N, K, device='cuda').transpose(1, 2) if tb else torch.randn(bb, K, N, device='cuda')
                b = b.expand(batch, K, N)
                bias = torch.randn(N, device='cuda')
                out = poisoned((batch, M, N))
                run_matmul(lib, a, b, out, 0.7, bias, act, precision)
                ref = activation_reference(act, 0.7 * torch.matmul(a.double(), b.double()) + bias.double())
                ck.expect(f'matmul {precision} b{batch} {M}x{N}x{K} tA={ta} tB={tb} bcast={bcast} {act}',
                          out, ref, TOLERANCE[precision])
    ck.run('matmul', matmul)

    def index():
        x = torch.randn(40, 50, 60, device='cuda')
        for axis in range(3):
            shape = [30, 45, 55]
            shape[axis] = 70
            idx = torch.randint(0, x.shape[axis], shape, device='cuda', dtype=torch.int32)
            out = poisoned(shape)
            lib.gather(base(x), ctypes.byref(view(x)), axis, base(idx), ctypes.byref(view(idx)), ptr(out), s())
            ck.expect(f'gather axis {axis}', out, torch.gather(x, axis, idx.long()), 0)
            src = torch.randn(shape, device='cuda')
            acc = torch.randn(40, 50, 60, device='cuda')
            expect = acc.double().scatter_add(axis, idx.long(), src.double())
            shape_arr = (I64 * 3)(*acc.shape)
            lib.scatter_add(ptr(acc), FLOAT32, shape_arr, 3, axis, base(idx), ctypes.byref(view(idx)), base(src),
                            ctypes.byref(view(src)), s())
            ck.expect(f'scatterAdd axis {axis}', acc, expect, 1e-6)
        bad = torch.zeros(10, dtype=torch.int32, device='cuda')
        bad[7] = 99
        value, position = I64(), I64()
        ck.expect_error('check_indices reports the first bad index',
                        lambda: lib.check_indices(base(bad), ctypes.byref(view(bad)), 50, ctypes.byref(value),
                                                  ctypes.byref(position), s()),
                        'index 99 out of range [0, 50) at element 7')
    ck.run('gather/scatterAdd', index)

    def sparse():
        rows, cols = 3000, 2000
        row_ptr, col_idx, vals, row_of = random_csr(rows, cols, 40000)
        lib.csr_validate(ctypes.byref(csr_struct(rows, cols, row_ptr, col_idx, vals)), s())
        A = torch.sparse_csr_tensor(row_ptr.long(), col_idx.long(), vals.double(), size=(rows, cols))
        for F_ in (128, 37, 1):
            x = torch.randn(cols, F_, device='cuda')
            out = poisoned((rows, F_))
            for with_values in (True, False):
                a = csr_struct(rows, cols, row_ptr, col_idx, vals if with_values else None)
                lib.spmm(ctypes.byref(a), ptr(x), F_, ptr(out), s())
                A_ = A if with_values else torch.sparse_csr_tensor(row_ptr.long(), col_idx.long(),
                                                                   torch.ones_like(vals).double(), size=(rows, cols))
                ck.expect(f'spmm F={F_} values={with_values}', out, (A_ @ x.double()), 1e-5)
        a = csr_struct(rows, cols, row_ptr, col_idx, vals)
        col = col_idx.long()
        for H, F_ in ((4, 32), (1, 5), (2, 64)):
            xs, ys = torch.randn(rows, H, F_, device='cuda'), torch.randn(cols, H, F_, device='cuda')
            out = poisoned((col.numel(), H))
            lib.sddmm(ctypes.byref(a), ptr(xs), ptr(ys), H, F_, ptr(out), s())
            ck.expect(f'sddmm H={H} F={F_}', out, (xs.double()[row_of] * ys.double()[col]).sum(-1), 1e-5)
            scores = torch.randn(col.numel(), H, device='cuda') * 3
            y = poisoned(scores.shape)
            lib.edge_softmax(ctypes.byref(a), ptr(scores), H, ptr(y), s())
            s64 = scores.double()
            mx = torch.full((rows, H), -math.inf, dtype=torch.float64, device='cuda')
            mx = mx.scatter_reduce(0, row_of[:, None].expand(-1, H), s64, 'amax')
            e = (s64 - mx[row_of]).exp()
            den = torch.zeros(rows, H, dtype=torch.float64, device='cuda').index_add(0, row_of, e)
            ref = e / den[row_of]
            ck.expect(f'edge_softmax H={H}', y, ref, 1e-5)
            g = torch.randn_like(scores)
            gs = poisoned(scores.shape)
            lib.edge_softmax_backward(ctypes.byref(a), ptr(y), ptr(g), H, ptr(gs), s())
            y64 = y.double()
            dot = torch.zeros(rows, H, dtype=torch.float64, device='cuda').index_add(0, row_of, y64 * g.double())
            ck.expect(f'edge_softmax_backward H={H}', gs, y64 * (g.double() - dot[row_of]), 1e-5)
        broken = col_idx.clone()
        broken[-1] = cols
        ck.expect_error('csr_validate rejects a column out of range',
                        lambda: lib.csr_validate(ctypes.byref(csr_struct(rows, cols, row_ptr, broken, vals)), s()),
                        f'column index {cols} at entry {broken.numel() - 1}')
    ck.run('sparse', sparse)

    def cmd():
        for n, d, k in ((100_000, 256, 5), (777, 33, 8), (5, 3, 1)):
            x = torch.randn(n, d, device='cuda') * 1.5 + 2
            mean, moments = poisoned((d,)), poisoned((max(k - 1, 0), d))
            lib.cmd_moments(ptr(x), n, d, k, ptr(mean), ptr(moments), s())
            x64 = x.double()
            m64 = x64.mean(0)
            c64 = torch.stack([((x64 - m64) ** j).mean(0) for j in range(2, k + 1)]) if k > 1 else moments.double()
            ck.expect(f'cmd_moments mean n={n} d={d}', mean, m64, 1e-5)
            if k > 1:
                ck.expect(f'cmd_moments moments n={n} d={d} k={k}', moments, c64, 1e-5)
            gm, gc = torch.randn(d, device='cuda'), torch.randn(max(k - 1, 0), d, device='cuda')
            gx = poisoned((n, d))
            lib.cmd_moments_backward(ptr(x), n, d, k, ptr(mean), ptr(moments), ptr(gm), ptr(gc), ptr(gx), s())
            xr = x64.clone().requires_grad_()
            mr = xr.mean(0)
            outs, grads = [mr], [gm.double()]
            if k > 1:
                outs.append(torch.stack([((xr - mr) ** j).mean(0) for j in range(2, k + 1)]))
                grads.append(gc.double())
            torch.autograd.backward(outs, grads)
            ck.expect(f'cmd_moments_backward n={n} d={d} k={k}', gx, xr.grad, 1e-5)
    ck.run('cmd', cmd)

    def conv():
        shapes = [  # N, C, D, H, W, O, k, stride, padding, dilation, groups
            (2, 16, 6, 20, 20, 24, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), 1),
            (2, 3, 8, 30, 30, 16, (3, 7, 7), (1, 2, 2), (1, 3, 3), (1, 1, 1), 1),
            (3, 8, 1, 17, 13, 6, (1, 3, 2), (1, 2, 1), (0, 1, 0), (1, 2, 1), 2),
            (1, 160, 3, 7, 9, 130, (2, 3, 3), (1, 1, 1), (0, 1, 1), (1, 1, 1), 1),
        ]
        for precision in PRECISIONS:
            for N, C, D, H, W, O, k, st, pad, dil, groups in shapes:
                p = conv_params(N, C, D, H, W, O, k, st, pad, dil, groups, precision)
                x = torch.randn(N, C, D, H, W, device='cuda')
                w = torch.randn(O, C // groups, *k, device='cuda') / math.sqrt(C // groups * k[0] * k[1] * k[2])
                bias = torch.randn(O, device='cuda')
                y = poisoned((N, O, p.oD, p.oH, p.oW))
                lib.conv_forward(ptr(x), ptr(w), ptr(bias), ptr(y), ctypes.byref(p), s())
                x64, w64 = x.double().requires_grad_(), w.double().requires_grad_()
                y64 = F.conv3d(x64, w64, bias.double(), st, pad, dil, groups)
                tag = f'conv {precision} x{[N, C, D, H, W]} w{list(w.shape)} s{st} p{pad} d{dil} g{groups}'
                ck.expect(f'{tag} forward', y, y64, TOLERANCE[precision])
                gy = torch.randn_like(y64).float()
                y64.backward(gy.double())
                gx, gw = poisoned(x.shape), poisoned(w.shape)
                lib.conv_backward_input(ptr(gy), ptr(w), ptr(gx), ctypes.byref(p), s())
                lib.conv_backward_weight(ptr(x), ptr(gy), ptr(gw), ctypes.byref(p), s())
                ck.expect(f'{tag} backward input', gx, x64.grad, TOLERANCE[precision])
                ck.expect(f'{tag} backward weight', gw, w64.grad, TOLERANCE[precision])
    ck.run('conv', conv)

    def pool():
        for N, C, D, H, W, k, st, pad in ((2, 3, 8, 20, 17, (2, 3, 3), (2, 2, 2), (0, 1, 1)),
                                          (4, 5, 1, 31, 31, (1, 3, 3), (1, 2, 2), (0, 1, 1))):
            p = pool_params(N, C, D, H, W, k, st, pad)
            x = torch.randn(N, C, D, H, W, device='cuda')
            y, am = poisoned((N, C, p.oD, p.oH, p.oW)), poisoned((N, C, p.oD, p.oH, p.oW), torch.int32)
            lib.max_pool(ptr(x), ptr(y), ptr(am), ctypes.byref(p), s())
            ry, ram = F.max_pool3d(x.double(), k, st, pad, return_indices=True)
            ck.expect(f'max_pool {list(x.shape)} k{k}', y, ry, 0)
            ck.expect(f'max_pool argmax {list(x.shape)} k{k}', am, ram, 0)
            ya = poisoned(y.shape)
            lib.avg_pool(ptr(x), ptr(ya), ctypes.byref(p), s())
            xr = x.double().requires_grad_()
            ra = F.avg_pool3d(xr, k, st, pad, count_include_pad=True)
            ck.expect(f'avg_pool {list(x.shape)} k{k}', ya, ra, 1e-6)
            gy = torch.randn_like(ya)
            ra.backward(gy.double())
            gx = poisoned(x.shape)
            lib.avg_pool_backward(ptr(gy), ptr(gx), ctypes.byref(p), s())
            ck.expect(f'avg_pool_backward {list(x.shape)} k{k}', gx, xr.grad, 1e-6)
    ck.run('pool', pool)


# ---------------------------------------------------------------------------
# Benchmarks.

def timed(fn, reps, warmup=3):
    """Median milliseconds of fn over reps runs, CUDA events on the current stream."""
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


class Bench:
    def __init__(self):
        self.rows = []

    def add(self, name, ours_ms, base_ms, target, baseline):
        """ratio = baseline time / our time (how many times faster we are), against target."""
        ratio = base_ms / ours_ms
        ok = ratio >= target
        self.rows.append({'bench': name, 'ours_ms': ours_ms, 'baseline_ms': base_ms, 'baseline': baseline,
                          'ratio': ratio, 'target': target, 'met': ok})
        print(f"  {'MET ' if ok else 'MISS'} {name}: ours {ours_ms:.3f} ms, {baseline} {base_ms:.3f} ms, "
              f"ratio {ratio:.2f} (target >= {target})")

    def add_fraction(self, name, ours_ms, bytes_moved, copy_gbs, target):
        gbs = bytes_moved / ours_ms / 1e6
        frac = gbs / copy_gbs
        ok = frac >= target
        self.rows.append({'bench': name, 'ours_ms': ours_ms, 'GB_per_s': gbs, 'copy_GB_per_s': copy_gbs,
                          'ratio': frac, 'target': target, 'met': ok})
        print(f"  {'MET ' if ok else 'MISS'} {name}: {ours_ms:.3f} ms, {gbs:.0f} GB/s = {100 * frac:.0f}% of "
              f"copy {copy_gbs:.0f} GB/s (target >= {100 * target:.0f}%)")


def free_memory():
    torch.cuda.synchronize()
    torch.cuda.empty_cache()


def benchmarks(lib, ck, bench, only):
    s = stream

    def want(name):
        return not only or name in only

    if want('spmm'):
        print('SpMM: 2,000,000 nodes, 20,000,000 edges, F = 128 (vs cuSPARSE through torch.sparse)')
        n, F_ = 2_000_000, 128
        row_ptr, col_idx, vals, _ = random_csr(n, n, 20_000_000)
        a = csr_struct(n, n, row_ptr, col_idx, vals)
        lib.csr_validate(ctypes.byref(a), s())
        x = torch.randn(n, F_, device='cuda')
        out = poisoned((n, F_))
        A = torch.sparse_csr_tensor(row_ptr, col_idx, vals, size=(n, n))
        ours = timed(lambda: lib.spmm(ctypes.byref(a), ptr(x), F_, ptr(out), s()), 20)
        ref = A @ x
        ck.expect('spmm 2M x 128 vs cuSPARSE float32', out, ref, 1e-5)
        theirs = timed(lambda: A @ x, 20)
        bench.add('spmm 2M/20M x128', ours, theirs, 1.0, 'cuSPARSE')
        del row_ptr, col_idx, vals, x, out, A, ref
        free_memory()

    if want('gemm'):
        n = 8192
        print(f'GEMM {n}^3 (vs cuBLAS through torch.mm)')
        a, b = torch.randn(n, n, device='cuda'), torch.randn(n, n, device='cuda')
        out = torch.empty(n, n, device='cuda')
        a3, b3 = a[None], b[None]
        for precision, target in (('float32', 0.8), ('tf32', 0.6), ('bf16', 0.6)):
            torch.backends.cuda.matmul.allow_tf32 = precision == 'tf32'
            out.fill_(float('nan'))
            ours = timed(lambda: run_matmul(lib, a3, b3, out[None], precision=precision), 10)
            if precision == 'bf16':
                ab, bb = a.bfloat16(), b.bfloat16()
                ref = (ab @ bb).float()
                theirs = timed(lambda: ab @ bb, 10)
                baseline = 'cuBLAS bf16 (bf16 inputs and output; ours reads float32)'
            else:
                ref = a @ b
                theirs = timed(lambda: a @ b, 10)
                baseline = 'cuBLAS ' + ('TF32' if precision == 'tf32' else 'float32, TF32 off')
            ck.expect(f'gemm {n}^3 {precision} vs cuBLAS', out, ref, {'float32': 1e-5, 'tf32': 5e-3, 'bf16': 1e-2}[precision])
            bench.add(f'gemm {n}^3 {precision}', ours, theirs, target, baseline)
            tflops = 2 * n ** 3 / ours / 1e9
            print(f'       ours {tflops:.1f} TFLOP/s, cuBLAS {2 * n ** 3 / theirs / 1e9:.1f} TFLOP/s')
        torch.backends.cuda.matmul.allow_tf32 = False
        del a, b, out, a3, b3
        free_memory()

    if want('conv'):
        torch.backends.cudnn.benchmark = True
        layers = [('r3d layer N32 C64->64 T8 56x56 k3 p1', (32, 64, 8, 56, 56, 64, (3, 3, 3), (1, 1, 1), (1, 1, 1))),
                  ('r3d stem N32 C3->64 T16 112x112 k(3,7,7) s(1,2,2) p(1,3,3)',
                   (32, 3, 16, 112, 112, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3)))]
        for precision in ('float32', 'tf32'):
            torch.backends.cudnn.allow_tf32 = precision == 'tf32'
            print(f'conv3d {precision} (vs cuDNN, TF32 {"on" if precision == "tf32" else "off"})')
            for name, (N, C, D, H, W, O, k, st, pad) in layers:
                p = conv_params(N, C, D, H, W, O, k, st, pad, precision=precision)
                x = torch.randn(N, C, D, H, W, device='cuda')
                w = torch.randn(O, C, *k, device='cuda') / math.sqrt(C * k[0] * k[1] * k[2])
                y = torch.empty(N, O, p.oD, p.oH, p.oW, device='cuda')
                gy = torch.randn_like(y)
                gx, gw = torch.empty_like(x), torch.empty_like(w)
                directions = {
                    'forward': (lambda: lib.conv_forward(ptr(x), ptr(w), None, ptr(y), ctypes.byref(p), s()),
                                lambda: F.conv3d(x, w, None, st, pad)),
                    'backward input': (lambda: lib.conv_backward_input(ptr(gy), ptr(w), ptr(gx), ctypes.byref(p), s()),
                                       lambda: torch.ops.aten.convolution_backward(
                                           gy, x, w, None, st, pad, (1, 1, 1), False, (0, 0, 0), 1, (True, False, False))),
                    'backward weight': (lambda: lib.conv_backward_weight(ptr(x), ptr(gy), ptr(gw), ctypes.byref(p), s()),
                                        lambda: torch.ops.aten.convolution_backward(
                                            gy, x, w, None, st, pad, (1, 1, 1), False, (0, 0, 0), 1, (False, True, False))),
                }
                if C == 3:
                    del directions['backward input']  # the stem's input (the video) needs no gradient
                total_ours = total_theirs = 0.0
                for direction, (ours_fn, theirs_fn) in directions.items():
                    ours = timed(ours_fn, 10)
                    theirs = timed(theirs_fn, 10)
                    total_ours, total_theirs = total_ours + ours, total_theirs + theirs
                    bench.add(f'conv3d {precision} {name} {direction}', ours, theirs, 0.7, 'cuDNN')
                ref = F.conv3d(x, w, None, st, pad)
                ck.expect(f'conv3d {precision} {name} forward vs cuDNN', y, ref, TOLERANCE[precision])
                bench.add(f'conv3d {precision} {name} all directions', total_ours, total_theirs, 0.7, 'cuDNN')
                del x, w, y, gy, gx, gw, ref
                free_memory()
        torch.backends.cudnn.allow_tf32 = False

    if want('cmd'):
        print('CMD K=5 forward + backward, X 500000x256 and Y 2000000x256 (vs PyTorch ops with autograd)')
        k, d = 5, 256
        X, Y = torch.randn(500_000, d, device='cuda'), torch.randn(2_000_000, d, device='cuda') * 1.3 + 0.2
        bufs = {}
        for name, t in (('X', X), ('Y', Y)):
            bufs[name] = (torch.empty(d, device='cuda'), torch.empty(k - 1, d, device='cuda'),
                          torch.randn(d, device='cuda'), torch.randn(k - 1, d, device='cuda'), torch.empty_like(t))

        def ours():
            for name, t in (('X', X), ('Y', Y)):
                mean, mom, gm, gc, gx = bufs[name]
                lib.cmd_moments(ptr(t), t.shape[0], d, k, ptr(mean), ptr(mom), s())
                lib.cmd_moments_backward(ptr(t), t.shape[0], d, k, ptr(mean), ptr(mom), ptr(gm), ptr(gc), ptr(gx), s())

        def theirs():
            for name, t in (('X', X), ('Y', Y)):
                _, _, gm, gc, _ = bufs[name]
                tr = t.detach().requires_grad_()
                m = tr.mean(0)
                c = tr - m
                mom = torch.stack([(c ** j).mean(0) for j in range(2, k + 1)])
                torch.autograd.backward([m, mom], [gm, gc])

        t_ours = timed(ours, 10)
        t_theirs = timed(theirs, 10)
        bench.add('cmd K=5 fwd+bwd X 500k / Y 2M x256', t_ours, t_theirs, 5.0, 'PyTorch ops + autograd')
        del X, Y, bufs
        free_memory()

    if want('elementwise'):
        n = 1 << 28  # 1 GiB of float32 per tensor
        print(f'elementwise on {n} float32 elements vs device-to-device copy bandwidth')
        a, b, out = torch.randn(n, device='cuda'), torch.randn(n, device='cuda'), torch.empty(n, device='cuda')
        copy_ms = timed(lambda: out.copy_(a), 20)
        copy_gbs = 2 * 4 * n / copy_ms / 1e6
        print(f'       copy (torch copy_): {copy_ms:.3f} ms = {copy_gbs:.0f} GB/s counting read + write')
        va, vb = view(a), view(b)
        for op in ('relu', 'exp', 'gelu'):
            ms = timed(lambda: lib.unary(UNARY.index(op), ptr(a), FLOAT32, ctypes.byref(va), ptr(out), FLOAT32, 0.0, s()), 20)
            bench.add_fraction(f'unary {op} dense', ms, 2 * 4 * n, copy_gbs, 0.8)
        for op in ('add', 'mul'):
            ms = timed(lambda: lib.binary(BINARY.index(op), ptr(a), FLOAT32, ctypes.byref(va), ptr(b), FLOAT32,
                                          ctypes.byref(vb), ptr(out), FLOAT32, s()), 20)
            bench.add_fraction(f'binary {op} dense', ms, 3 * 4 * n, copy_gbs, 0.8)
        rows, cols = n // 4096, 4096
        m, bias = a.view(rows, cols), b[:cols].expand(rows, cols)
        vm, vbias = view(m), view(bias)
        ms = timed(lambda: lib.binary(BINARY.index('add'), ptr(m), FLOAT32, ctypes.byref(vm), base(bias), FLOAT32,
                                      ctypes.byref(vbias), ptr(out), FLOAT32, s()), 20)
        bench.add_fraction('binary add row-broadcast bias (strided path)', ms, 2 * 4 * n, copy_gbs, 0.8)
        del a, b, out
        free_memory()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--lib', required=True, help='path to libtessera_cuda.so')
    ap.add_argument('--build-seconds', type=float, default=None)
    ap.add_argument('--skip-bench', action='store_true')
    ap.add_argument('--skip-checks', action='store_true')
    ap.add_argument('--only', nargs='*', default=[], help='benchmarks to run: spmm gemm conv cmd elementwise')
    args = ap.parse_args()

    if not torch.cuda.is_available():
        sys.exit('check_and_bench: PyTorch sees no CUDA GPU')
    seed = int(time.time()) % 1_000_000
    torch.manual_seed(seed)
    lib = Lib(args.lib)
    count = INT()
    lib.device_count(ctypes.byref(count))
    if count.value == 0:
        sys.exit('check_and_bench: the library sees no CUDA GPU: ' + lib.dll.tsr_cuda_last_error().decode())
    torch.cuda.set_device(0)
    lib.set_device(0)
    props = torch.cuda.get_device_properties(0)
    print(f'device: {props.name}, {props.multi_processor_count} SMs, torch {torch.__version__}, seed {seed}')

    ck, bench = Checker(lib), Bench()
    started = time.time()
    if not args.skip_checks:
        checks(lib, ck)
    checks_s = time.time() - started
    if not args.skip_bench:
        print('benchmarks (ratio = baseline time / our time, except elementwise: fraction of copy bandwidth)')
        benchmarks(lib, ck, bench, set(args.only))
    failed = [r for r in ck.results if not r['ok']]
    missed = [r for r in bench.rows if not r['met']]
    print(f'\n{len(ck.results) - len(failed)}/{len(ck.results)} checks passed; '
          f'{len(bench.rows) - len(missed)}/{len(bench.rows)} speed targets met; '
          f'checks {checks_s:.0f} s, total {time.time() - started:.0f} s')
    for r in failed:
        print(f"  FAILED: {r['check']}: {r.get('message', r.get('rel_err'))}")
    result = {'device': props.name, 'torch': torch.__version__, 'seed': seed, 'build_seconds': args.build_seconds,
              'checks': ck.results, 'benchmarks': bench.rows}
    out_dir = os.environ.get('OUT')
    if out_dir:
        with open(os.path.join(out_dir, 'cuda_bench.json'), 'w') as f:
            json.dump(result, f, indent=1, default=str)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
