#!/usr/bin/env python3
"""Test vectors for the canonical ABI of package component, computed by the
canonical ABI's executable specification, definitions.py (from
WebAssembly/component-model, design/mvp/canonical-abi).

    python3 gen_spec_vectors.py path/to/definitions.py spec_vectors.jsonl.gz

Each line is one JSON vector: a random type (and value, memory or core
values), what definitions.py does with it (stores and lowerings: the realloc
calls, the memory image and core values; loads and liftings: the value or a
trap), under each string encoding. abi_spec_test.go runs the same operations
and compares. Host strings are UTF-8 strings whose code units are their bytes;
handles (own, borrow, stream, future, error-context) are indices that both
sides map through the same function; NaNs follow the deterministic profile.
The seed is fixed, so the output only changes with definitions.py.
"""

import gzip
import hashlib
import importlib.util
import json
import random
import struct
import sys

spec_path, out_path = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("definitions", spec_path)
d = importlib.util.module_from_spec(spec)
sys.modules["definitions"] = d  # dataclasses look their module up
spec.loader.exec_module(d)
d.DETERMINISTIC_PROFILE = True

# Handles: the same involution as the Go test's hooks.
HANDLE_XOR = 0x5A5A5A5A
for name in ["lift_own", "lift_borrow", "lift_stream", "lift_future"]:
    setattr(d, name, lambda cx, i, t: i ^ HANDLE_XOR)
d.lift_error_context = lambda cx, i: i ^ HANDLE_XOR
for name in ["lower_own", "lower_borrow", "lower_stream", "lower_future"]:
    setattr(d, name, lambda cx, v, t: v ^ HANDLE_XOR)
d.lower_error_context = lambda cx, v: v ^ HANDLE_XOR

rng = random.Random(0x5EED)
MEM_SIZE = 1 << 16
BASE = 16
ENCODINGS = ["utf8", "utf16", "latin1+utf16"]


class Cx(d.LiftLowerContext):
    """A context whose realloc is a logged bump allocator (it never frees
    or reuses, and copies what it moves), like the Go test's fake memory."""

    def __init__(self, opts):
        super().__init__(opts, None)
        self.top = BASE
        self.calls = []

    def reallocate(self, old, old_len, align, new_len):
        p = d.align_to(self.top, align)
        self.top = p + new_len
        mem = self.opts.memory
        n = min(old_len, new_len)
        if p + n <= len(mem) and old + n <= len(mem):
            mem.bytes[p:p + n] = bytes(mem.bytes[old:old + n])
        self.calls.append([old, old_len, align, new_len, p])
        return p


def make_cx(enc, mem=None):
    if mem is None:
        mem = bytearray(MEM_SIZE)
    opts = d.CanonicalOptions(string_encoding=enc, memory=d.MemInst(mem, "i32"), realloc=True)
    return Cx(opts)


# Types: a JSON form (shared with the Go test) and the definitions.py form.

LEAVES = ["bool", "s8", "u8", "s16", "u16", "s32", "u32", "s64", "u64", "f32", "f64",
          "char", "string", "error-context", "own", "borrow", "enum", "flags"]
NODES = ["list", "list", "record", "tuple", "variant", "option", "result", "map", "stream", "future"]


def gen_type(depth):
    k = rng.choice(NODES if depth > 0 and rng.random() < 0.6 else LEAVES)
    sub = lambda: gen_type(depth - 1)
    opt = lambda: None if rng.random() < 0.25 else sub()
    if k == "enum":
        return {"k": k, "labels": rng.choice([rng.randint(1, 10), 256, 257, 300])}
    if k == "flags":
        return {"k": k, "labels": rng.choice([rng.randint(1, 8), rng.randint(9, 16), rng.randint(17, 32)])}
    if k == "list":
        t = {"k": k, "e": sub()}
        if rng.random() < 0.3:
            t["n"] = rng.randint(1, 4)
        return t
    if k in ("record", "tuple"):
        return {"k": k, "f": [sub() for _ in range(rng.randint(1, 4))]}
    if k == "variant":
        n = rng.choice([rng.randint(1, 4), 260]) if rng.random() < 0.1 else rng.randint(1, 4)
        return {"k": k, "c": [opt() if i < 4 else None for i in range(n)]}
    if k == "option":
        return {"k": k, "e": sub()}
    if k == "result":
        return {"k": k, "ok": opt(), "err": opt()}
    if k == "map":
        return {"k": k, "key": gen_type(0), "e": sub()}
    if k in ("stream", "future"):
        return {"k": k, "e": opt()}
    return {"k": k}


RESOURCE = d.ResourceType.__new__(d.ResourceType)

PRIMS = {
    "bool": d.BoolType, "s8": d.S8Type, "u8": d.U8Type, "s16": d.S16Type, "u16": d.U16Type,
    "s32": d.S32Type, "u32": d.U32Type, "s64": d.S64Type, "u64": d.U64Type, "f32": d.F32Type,
    "f64": d.F64Type, "char": d.CharType, "string": d.StringType, "error-context": d.ErrorContextType,
}


def labels(n, prefix):
    return [prefix + str(i) for i in range(n)]


def to_spec(t):
    if t is None:
        return None
    k = t["k"]
    if k in PRIMS:
        return PRIMS[k]()
    if k == "own":
        return d.OwnType(RESOURCE)
    if k == "borrow":
        return d.BorrowType(RESOURCE)
    if k == "enum":
        return d.EnumType(labels(t["labels"], "l"))
    if k == "flags":
        return d.FlagsType(labels(t["labels"], "l"))
    if k == "list":
        return d.ListType(to_spec(t["e"]), t.get("n"))
    if k == "record":
        return d.RecordType([d.FieldType("f" + str(i), to_spec(f)) for i, f in enumerate(t["f"])])
    if k == "tuple":
        return d.TupleType([to_spec(f) for f in t["f"]])
    if k == "variant":
        return d.VariantType([d.CaseType("c" + str(i), to_spec(c)) for i, c in enumerate(t["c"])])
    if k == "option":
        return d.OptionType(to_spec(t["e"]))
    if k == "result":
        return d.ResultType(to_spec(t["ok"]), to_spec(t["err"]))
    if k == "map":
        return d.MapType(to_spec(t["key"]), to_spec(t["e"]))
    if k == "stream":
        return d.StreamType(to_spec(t["e"]))
    if k == "future":
        return d.FutureType(to_spec(t["e"]))
    raise ValueError(k)


def cases(t):
    """The payload types and labels of a variant-like JSON type."""
    k = t["k"]
    if k == "variant":
        return [("c" + str(i), c) for i, c in enumerate(t["c"])]
    if k == "enum":
        return [("l" + str(i), None) for i in range(t["labels"])]
    if k == "option":
        return [("none", None), ("some", t["e"])]
    return [("ok", t["ok"]), ("error", t["err"])]


def pair(t):
    return {"k": "tuple", "f": [t["key"], t["e"]]}


# Values: a JSON form (shared with the Go test) and the definitions.py form.

def f32_from_bits(b):
    return struct.unpack("<f", struct.pack("<I", b))[0]


def f64_from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def f32_bits(f):
    return struct.unpack("<I", struct.pack("<f", f))[0]


def f64_bits(f):
    return struct.unpack("<Q", struct.pack("<d", f))[0]


SPECIAL_F32 = [0, 0x80000000, 0x3FC00000, 0x7F800000, 0xFF800000, 0x7FC00000, 0x7FA00001, 0xFFC00000, 1, 0x7F7FFFFF]
SPECIAL_F64 = [0, 1 << 63, 0x3FF8000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
               0x7FF8000000000000, 0x7FF0000000000001, 0xFFF8000000000000, 1, 0x7FEFFFFFFFFFFFFF]
INT_BITS = {"s8": 8, "u8": 8, "s16": 16, "u16": 16, "s32": 32, "u32": 32, "s64": 64, "u64": 64}


def gen_char(widest=4):
    c = rng.randrange(widest + 1)
    if c < 2:
        return rng.randrange(0x80)  # twice as likely
    if c == 2:
        return rng.randrange(0x80, 0x100)
    if c == 3:
        return rng.choice([rng.randrange(0x100, 0xD800), rng.randrange(0xE000, 0x10000)])
    return rng.randrange(0x10000, 0x110000)


def gen_value(t):
    k = t["k"]
    if k == "bool":
        return rng.random() < 0.5
    if k in INT_BITS:
        bits = INT_BITS[k]
        v = rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
        if k[0] == "s" and v >= 1 << (bits - 1):
            v -= 1 << bits
        return v
    if k == "f32":
        return rng.choice(SPECIAL_F32) if rng.random() < 0.5 else rng.getrandbits(32)
    if k == "f64":
        return rng.choice(SPECIAL_F64) if rng.random() < 0.5 else rng.getrandbits(64)
    if k == "char":
        return gen_char()
    if k == "string":
        # ASCII only, Latin-1, BMP or anything: each string encoder
        # takes another path for each.
        widest = rng.choice([1, 2, 3, 4])
        return "".join(chr(gen_char(widest)) for _ in range(rng.randrange(12)))
    if k in ("own", "borrow", "stream", "future", "error-context"):
        return rng.getrandbits(32)
    if k == "enum":
        return rng.randrange(t["labels"])
    if k == "flags":
        return rng.getrandbits(t["labels"])
    if k in ("list", "map"):
        n = t.get("n") or rng.randrange(6)
        e = pair(t) if k == "map" else t["e"]
        return [gen_value(e) for _ in range(n)]
    if k in ("record", "tuple"):
        return [gen_value(f) for f in t["f"]]
    cs = cases(t)
    i = rng.randrange(len(cs))
    pt = cs[i][1]
    return {"c": i, "v": None if pt is None else gen_value(pt)}


def to_py(t, v):
    """The definitions.py value of the JSON value v of type t."""
    k = t["k"]
    if k == "f32":
        return f32_from_bits(v)
    if k == "f64":
        return f64_from_bits(v)
    if k == "char":
        return chr(v)
    if k == "string":
        return (v, "utf8", len(v.encode("utf-8")))
    if k == "enum":
        return {"l" + str(v): None}
    if k == "flags":
        return {"l" + str(i): bool(v >> i & 1) for i in range(t["labels"])}
    if k in ("list", "map"):
        e = pair(t) if k == "map" else t["e"]
        return [to_py(e, x) for x in v]
    if k == "record":
        return {"f" + str(i): to_py(f, x) for i, (f, x) in enumerate(zip(t["f"], v))}
    if k == "tuple":
        return {str(i): to_py(f, x) for i, (f, x) in enumerate(zip(t["f"], v))}
    if k in ("variant", "option", "result"):
        label, pt = cases(t)[v["c"]]
        return {label: None if pt is None else to_py(pt, v["v"])}
    return v


def from_py(t, v):
    """The JSON value of the definitions.py value v of type t."""
    k = t["k"]
    if k == "f32":
        return f32_bits(v)
    if k == "f64":
        return f64_bits(v)
    if k == "char":
        return ord(v)
    if k == "string":
        return v[0]
    if k == "bool":
        return bool(v)
    if k == "flags":
        return sum(1 << i for i in range(t["labels"]) if v["l" + str(i)])
    if k in ("list", "map"):
        e = pair(t) if k == "map" else t["e"]
        return [from_py(e, x) for x in v]
    if k == "record":
        return [from_py(f, v["f" + str(i)]) for i, f in enumerate(t["f"])]
    if k == "tuple":
        return [from_py(f, v[str(i)]) for i, f in enumerate(t["f"])]
    if k in ("variant", "option", "result", "enum"):
        [(label, x)] = v.items()
        cs = cases(t)
        i = [j for j, c in enumerate(cs) if c[0] == label][0]
        if k == "enum":
            return i
        pt = cs[i][1]
        return {"c": i, "v": None if pt is None else from_py(pt, x)}
    return v


def flat_to_bits(vals, types):
    out = []
    for v, ct in zip(vals, types):
        if ct == "f32":
            out.append(f32_bits(v))
        elif ct == "f64":
            out.append(f64_bits(v))
        else:
            out.append(v)
    return out


def flat_from_bits(vals, types):
    out = []
    for v, ct in zip(vals, types):
        if ct == "f32":
            out.append(f32_from_bits(v))
        elif ct == "f64":
            out.append(f64_from_bits(v))
        else:
            out.append(v)
    return out


def image(cx):
    return bytes(cx.opts.memory.bytes[:cx.top]).hex()


def trapping(f):
    try:
        return f(), False
    except d.Trap:
        return None, True


out = []
emit = out.append
opts0 = make_cx("utf8").opts


def type_info(t):
    st = to_spec(t)
    return {"size": d.elem_size(st, "i32"), "align": d.alignment(st, "i32"),
            "flat": d.flatten_type(st, opts0)}


# Stores and flat lowerings of random values.
for _ in range(700):
    t = gen_type(3)
    v = gen_value(t)
    st = to_spec(t)
    enc = rng.choice(ENCODINGS)
    vec = {"op": "store", "type": t, "value": v, "enc": enc}
    vec.update(type_info(t))
    cx = make_cx(enc)
    ptr = cx.allocate(d.alignment(st, "i32"), d.elem_size(st, "i32"))
    d.store(cx, to_py(t, v), st, ptr)
    vec.update(ptr=ptr, calls=cx.calls, mem=image(cx))
    emit(vec)

    cx = make_cx(enc)
    flat = d.lower_flat(cx, to_py(t, v), st)
    emit({"op": "lower_flat", "type": t, "value": v, "enc": enc,
          "flatvals": flat_to_bits(flat, d.flatten_type(st, opts0)), "calls": cx.calls, "mem": image(cx)})

# Value lists, flat or spilled.
for _ in range(300):
    ts = [gen_type(2) for _ in range(rng.randrange(5))]
    vs = [gen_value(t) for t in ts]
    sts = [to_spec(t) for t in ts]
    enc = rng.choice(ENCODINGS)
    max_flat = rng.choice([0, 1, 4, 16])
    cx = make_cx(enc)
    out_ptr = None
    if ts and rng.random() < 0.5:
        tt = d.TupleType(sts)
        out_ptr = cx.allocate(d.alignment(tt, "i32"), d.elem_size(tt, "i32"))
    vi = None if out_ptr is None else d.CoreValueIter([out_ptr])
    flat = d.lower_flat_values(cx, max_flat, [to_py(t, v) for t, v in zip(ts, vs)], sts, vi)
    spilled = len(d.flatten_types(sts, opts0)) > max_flat
    bits = flat if spilled else flat_to_bits(flat, d.flatten_types(sts, opts0))
    emit({"op": "lower_values", "types": ts, "values": vs, "enc": enc, "max_flat": max_flat,
          "out_ptr": out_ptr, "flatvals": bits, "calls": cx.calls, "mem": image(cx)})


def mutate(mem, n):
    for _ in range(n):
        i = rng.randrange(len(mem))
        mem[i] = rng.choice([0, 1, 2, 0xFF, 0x80, 0xD8, 0xDC, rng.randrange(256)])


# Loads of stored values, some with bytes changed.
for _ in range(900):
    t = gen_type(3)
    st = to_spec(t)
    enc = rng.choice(ENCODINGS)
    cx = make_cx(enc)
    ptr = cx.allocate(d.alignment(st, "i32"), d.elem_size(st, "i32"))
    d.store(cx, to_py(t, gen_value(t)), st, ptr)
    size = d.align_to(cx.top, 8) + rng.choice([0, 8])
    mem = bytearray(cx.opts.memory.bytes[:size])
    mutate(mem, rng.choice([0, 0, 1, 2, 4]))
    if rng.random() < 0.3:
        enc = rng.choice(ENCODINGS)  # read with another encoding
    lcx = make_cx(enc, mem)
    if rng.random() < 0.1:
        ptr = rng.choice([ptr + 1, size, size - 1, (1 << 32) - 4])
    def load():
        trap_if = d.trap_if
        trap_if(ptr != d.align_to(ptr, d.alignment(st, "i32")))
        trap_if(ptr + d.elem_size(st, "i32") > len(mem))
        return from_py(t, d.load(lcx, ptr, st))
    value, trapped = trapping(load)
    emit({"op": "load", "type": t, "enc": enc, "ptr": ptr, "mem": bytes(mem).hex(),
          "value": value, "trap": trapped})


def rand_core(ct, mem_size):
    if ct == "i32":
        return rng.choice([0, 1, 2, 3, rng.randrange(mem_size), rng.getrandbits(32), 0xD800, 0x110000,
                           (1 << 31) | rng.randrange(8)])
    if ct == "i64":
        return rng.choice([0, 1, rng.getrandbits(64), rng.getrandbits(32)])
    if ct == "f32":
        return rng.choice(SPECIAL_F32 + [rng.getrandbits(32)])
    return rng.choice(SPECIAL_F64 + [rng.getrandbits(64)])


# Flat liftings from core values: lowered ones (some changed) or random.
for _ in range(500):
    ts = [gen_type(2) for _ in range(rng.randrange(1, 4))]
    sts = [to_spec(t) for t in ts]
    enc = rng.choice(ENCODINGS)
    max_flat = rng.choice([1, 4, 16])
    cx = make_cx(enc)
    flat = d.lower_flat_values(cx, max_flat, [to_py(t, gen_value(t)) for t in ts], sts)
    spilled = len(d.flatten_types(sts, opts0)) > max_flat
    types = ["i32"] if spilled else d.flatten_types(sts, opts0)
    bits = flat_to_bits(flat, types)
    size = d.align_to(cx.top, 8)
    mem = bytearray(cx.opts.memory.bytes[:size])
    if rng.random() < 0.5:
        for _ in range(rng.randrange(1, 3)):
            i = rng.randrange(len(bits))
            bits[i] = rand_core(types[i], size)
    if rng.random() < 0.3:
        mutate(mem, 2)
    lcx = make_cx(enc, mem)
    value, trapped = trapping(lambda: [from_py(t, x) for t, x in zip(
        ts, d.lift_flat_values(lcx, max_flat, d.CoreValueIter(flat_from_bits(bits, types)), sts))])
    emit({"op": "lift_values", "types": ts, "enc": enc, "max_flat": max_flat, "flatvals": bits,
          "mem": bytes(mem).hex(), "value": value, "trap": trapped})

# Function types.
for _ in range(200):
    params = [gen_type(1) for _ in range(rng.choice([0, 1, 2, 3, 5, 17]))]
    result = gen_type(1) if rng.random() < 0.7 else None
    async_ = rng.random() < 0.5
    callback = async_ and rng.random() < 0.5
    context = rng.choice(["lift", "lower"])
    ft = d.FuncType([("p" + str(i), to_spec(p)) for i, p in enumerate(params)],
                    [] if result is None else [to_spec(result)], async_=async_)
    opts = d.CanonicalOptions(memory=d.MemInst(bytearray(0), "i32"), async_=async_,
                              callback=(lambda: None) if callback else None)
    cft = d.flatten_functype(opts, ft, context)
    emit({"op": "functype", "params": params, "result": result, "async": async_, "callback": callback,
          "lift": context == "lift", "core_params": cft.params, "core_results": cft.results})

with open(spec_path, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
# No name or time in the gzip header: the file depends on its content only.
with open(out_path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as f:
    f.write((json.dumps({"definitions.py sha256": digest, "vectors": len(out)}) + "\n").encode())
    for v in out:
        f.write((json.dumps(v, separators=(",", ":")) + "\n").encode())
