"""ctypes mirror of kernels/cuda/capi.h, the C ABI of Tessera's CUDA kernels.

The one place check_and_bench.py takes its mirrors from: the op codes and
parameter records come from bench/device/schema.py (generated from
src/schema.ts, as kernels/schema.h is); the rest (views, CSR, status codes,
function signatures) is capi.h's own.
Every struct field is 8 bytes wide, so there are no padding rules to mirror.
header_problems() compares everything here with the header itself.
"""
import ctypes
import os
import re

I64, F64, PTR, INT, SIZE = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t

# The op codes and parameter records, generated from src/schema.ts.
from schema import ACTIVATION, BINARY, DTYPE, FLOAT32, INT32, NORM_ACTIVATION, PRECISION, REDUCE, UNARY  # noqa: F401
from schema import AdamParams, BatchnormParams, ConvParams, LstmParams, MatmulParams, PoolParams, SgdParams

# The C enum that each imported list mirrors.
ENUMS = {'tsr_dtype': DTYPE, 'tsr_unary_op': UNARY, 'tsr_binary_op': BINARY, 'tsr_reduce_op': REDUCE,
         'tsr_activation': ACTIVATION, 'tsr_precision': PRECISION, 'tsr_norm_activation': NORM_ACTIVATION}
MAX_DIMS = 8
STATUS = ['TSR_OK', 'TSR_INVALID_ARGUMENT', 'TSR_CUDA_ERROR', 'TSR_OUT_OF_MEMORY', 'TSR_INDEX_OUT_OF_RANGE',
          'TSR_NO_DEVICE']


class View(ctypes.Structure):
    _fields_ = [('rank', I64), ('shape', I64 * MAX_DIMS), ('strides', I64 * MAX_DIMS), ('offset', I64)]


class Csr(ctypes.Structure):
    _fields_ = [('rows', I64), ('cols', I64), ('nnz', I64), ('row_ptr', PTR), ('col_idx', PTR), ('values', PTR)]


STRUCTS = {'tsr_matmul_params': MatmulParams, 'tsr_conv_params': ConvParams, 'tsr_pool_params': PoolParams,
           'tsr_lstm_params': LstmParams, 'tsr_adam_params': AdamParams, 'tsr_sgd_params': SgdParams,
           'tsr_batchnorm_params': BatchnormParams, 'tsr_view': View, 'tsr_csr': Csr}  # C name -> mirror
VP, CP, MP, KP, PP, LP, AP, SP, BP = (ctypes.POINTER(t) for t in (View, Csr, MatmulParams, ConvParams, PoolParams,
                                                                  LstmParams, AdamParams, SgdParams, BatchnormParams))
P_I64, P_INT, P_SIZE, P_PTR = (ctypes.POINTER(t) for t in (I64, INT, SIZE, PTR))

# Argument types of every function of capi.h (all return int, except tsr_cuda_last_error).
SIGNATURES = {
    'device_count': [P_INT],
    'device_info': [INT, ctypes.c_char_p, SIZE, P_INT, P_INT, P_SIZE, P_INT],
    'set_device': [INT],
    'stream_create': [P_PTR],
    'stream_destroy': [PTR],
    'stream_synchronize': [PTR],
    'alloc': [SIZE, PTR, P_PTR],
    'free': [PTR, PTR],
    'empty_cache': [],
    'memory_stats': [P_SIZE, P_SIZE, P_SIZE, P_SIZE],
    'host_alloc': [SIZE, P_PTR],
    'host_free': [PTR],
    'copy_h2d': [PTR, PTR, SIZE, PTR],
    'copy_d2h_async': [PTR, PTR, SIZE, PTR],
    'copy_d2h': [PTR, PTR, SIZE, PTR],
    'event_record': [PTR, P_PTR],
    'event_synchronize': [PTR],
    'event_destroy': [PTR],
    'fill': [PTR, I64, I64, F64, PTR],
    'unary': [I64, PTR, I64, VP, PTR, I64, F64, PTR],
    'binary': [I64, PTR, I64, VP, PTR, I64, VP, PTR, I64, PTR],
    'copy': [PTR, I64, VP, PTR, I64, VP, PTR],
    'where': [PTR, I64, VP, PTR, I64, VP, PTR, I64, VP, PTR, I64, PTR],
    'check_indices': [PTR, VP, VP, I64, P_I64, P_I64, PTR],
    'gather': [PTR, I64, VP, I64, PTR, VP, PTR, I64, PTR],
    'scatter_add': [PTR, I64, P_I64, I64, I64, PTR, VP, PTR, I64, VP, PTR],
    'reduce': [I64, PTR, I64, I64, I64, I64, PTR, I64, PTR],
    'matmul': [PTR, PTR, PTR, MP, PTR],
    'csr_validate': [CP, PTR],
    'spmm': [CP, PTR, I64, PTR, PTR],
    'sddmm': [CP, PTR, PTR, I64, I64, PTR, PTR],
    'edge_softmax': [CP, PTR, I64, PTR, PTR],
    'edge_softmax_backward': [CP, PTR, PTR, I64, PTR, PTR],
    'cmd_moments': [PTR, I64, I64, I64, PTR, PTR, PTR],
    'cmd_moments_backward': [PTR, I64, I64, I64, PTR, PTR, PTR, PTR, PTR, PTR],
    'conv_forward': [PTR, PTR, PTR, PTR, KP, PTR],
    'conv_backward_input': [PTR, PTR, PTR, KP, PTR],
    'conv_backward_weight': [PTR, PTR, PTR, KP, PTR],
    'max_pool': [PTR, PTR, PTR, PP, PTR],
    'avg_pool': [PTR, PTR, PP, PTR],
    'avg_pool_backward': [PTR, PTR, PP, PTR],
    'nms': [PTR, PTR, PTR, I64, F64, PTR, PTR],
    'argsort': [PTR, I64, I64, I64, I64, PTR, PTR],
    'cumulative': [I64, PTR, I64, I64, I64, I64, I64, PTR, PTR],
    'lstm_forward': [PTR, PTR, PTR, PTR, PTR, PTR, LP, PTR],
    'lstm_backward': [PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, LP, PTR],
    'adam_update': [PTR, PTR, PTR, PTR, AP, PTR],
    'sgd_update': [PTR, PTR, PTR, SP, PTR],
    'batchnorm_forward': [PTR, PTR, PTR, PTR, PTR, PTR, BP, PTR],
    'batchnorm_backward': [PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, BP, PTR],
}

HEADER = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'kernels', 'cuda', 'capi.h')


def read_header(path=HEADER):
    """capi.h without comments, with what it #includes from the repository spliced in."""
    def code(p):
        return re.sub(r'/\*.*?\*/|//[^\n]*', '', open(p).read(), flags=re.S)
    root = os.path.join(os.path.dirname(path), '..', '..')
    return re.sub(r'#include "([^"]+)"', lambda m: code(os.path.join(root, m.group(1))), code(path))


def c_type(decl, structs):
    """The ctypes type of a C parameter or field type ('const View*', 'int64_t', 'void**', ...)."""
    base = decl.replace('const', '').replace('*', '').strip()
    stars = decl.count('*')
    scalar = {'int64_t': I64, 'double': F64, 'int': INT, 'size_t': SIZE}
    if stars == 0:
        return scalar[base]
    if stars == 2 and base == 'void':
        return P_PTR
    if base == 'char':
        return ctypes.c_char_p
    if base in ('void', 'float', 'int32_t'):
        return PTR
    return ctypes.POINTER(scalar.get(base) or structs[base])


def header_problems(path=HEADER):
    """Differences between this module and capi.h: enums, struct fields, function signatures."""
    text, problems = read_header(path), []
    for name, names in ENUMS.items():
        m = re.search(r'enum %s \{([^}]*)\}' % name, text)
        values = [v.split('=')[0].strip() for v in m.group(1).split(',')] if m else []
        values = [v for v in values if v and not v.endswith('_COUNT')]
        want = ['TSR_' + re.sub(r'([A-Z])', r'_\1', n).upper() for n in names]
        if len(values) != len(want) or any(not v.endswith(w[4:]) for v, w in zip(values, want)):
            problems.append(f'enum {name}: header {values}, mirror {names}')
    for name, cls in STRUCTS.items():
        m = re.search(r'typedef struct \{([^}]*)\} %s;' % name, text)
        fields = []
        for decl in (m.group(1).split(';') if m else []):
            decl = decl.strip()
            if not decl:
                continue
            first = re.match(r'((?:const )?\w+\s*\**)\s*(.*)', decl)
            for var in first.group(2).split(','):
                var = var.strip()
                count = re.search(r'\[(\w+)\]', var)
                t = c_type(first.group(1) + '*' * var.count('*'), STRUCTS)
                n = int(count.group(1)) if count and count.group(1).isdigit() else MAX_DIMS if count else None
                fields.append((var.strip('*').split('[')[0].strip(), t * n if n else t))
        mirror = [(f, t) for f, t in cls._fields_]
        if [f for f, _ in fields] != [f for f, _ in mirror] or \
                any(ctypes.sizeof(a) != ctypes.sizeof(b) for (_, a), (_, b) in zip(fields, mirror)):
            problems.append(f'struct {name}: header {fields}, mirror {mirror}')
    declared = {}
    for m in re.finditer(r'\b(?:int|const char\*) tsr_cuda_(\w+)\(([^)]*)\);', text):
        params = [p.strip() for p in m.group(2).split(',') if p.strip() and p.strip() != 'void']
        declared[m.group(1)] = [c_type(re.sub(r'\s*\w+$', '', p), STRUCTS) for p in params]
    declared.pop('last_error', None)
    for name in sorted(set(declared) | set(SIGNATURES)):
        if declared.get(name) != SIGNATURES.get(name):
            problems.append(f'tsr_cuda_{name}: header {declared.get(name)}, mirror {SIGNATURES.get(name)}')
    return problems


def kernel_functions(path=HEADER):
    """The functions of capi.h's kernel sections (those naming a kernels/cuda/<family>.cu), by family."""
    raw = open(path).read()
    out, family = {}, None
    for line in raw.split('\n'):
        section = re.match(r'/\* ---- (.*) ---- \*/', line) or re.match(r'/\* ---- (.*) ----', line)
        if section:
            cu = re.search(r'kernels/cuda/(\w+)\.cu', section.group(1))
            family = cu.group(1) if cu else None
        for m in re.finditer(r'\btsr_cuda_(\w+)\(', line):
            if family:
                out[m.group(1)] = family
    return out
