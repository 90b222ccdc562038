#!/usr/bin/env python3
"""Writes the hostile-input corpus for the `respodiff` command line.

    python3 tests/hostile/make_corpus.py OUTDIR [--model DIR] [--concept FILE]

Deterministic (fixed seeds, fixed zip timestamps): running it twice gives the same bytes. Only the
Python standard library is used. OUTDIR gets:

    base_model/          one copy of the toy model (resources/toyworld/model, ~24 MB)
    models/<variant>/    broken model folders: symlinks into base_model except the broken part
    concepts/            concept modules (good copy + hostile variants)
    xdg/<variant>/       XDG_DATA_HOME folders whose respodiff/concepts hold a bad file and a good one
    files/               hostile inputs: FIFOs, gzip bombs, torch zips, prompt lists, long words, ...
    cases.json           {"version", "cases": [{"id", "class", "argv", ...}]}

Case fields (see README.md): argv (after `respodiff`; placeholders {dir} = OUTDIR, {model} = the model
the driver is given, {out} = the case's own empty working folder, {file:REL} = the text of
OUTDIR/REL as one argument), stdin, env (extra variables, placeholders allowed), may_succeed (exit 0
is acceptable), pre (argv lists run first in the same folder), check (an extra check of the
output), note (what the case is after).
"""
import argparse
import gzip
import json
import os
import random
import shutil
import struct
import sys
import zipfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FIXED_DATE = (2020, 1, 1, 0, 0, 0)

# ---------------------------------------------------------------------------------------------
# small writers


def write_bytes(path, data):
    """Writes `data`; a run of zero bytes at its end becomes a hole (sparse file, no disk blocks)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = bytes(data)
    body = data.rstrip(b"\0")
    with open(path, "wb") as f:
        f.write(body)
        f.truncate(len(data))
    return path


def write_text(path, text):
    return write_bytes(path, text.encode("utf-8", "surrogateescape"))


def symlink(path, target):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    os.symlink(target, path)
    return path


def mkfifo(path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


def sparse(path, size, head=b""):
    """A sparse file of `size` bytes starting with `head` (zero bytes on disk beyond it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(head)
        f.truncate(size)
    return path


def deep_array(depth):
    return "[" * depth + "]" * depth


# ---------------------------------------------------------------------------------------------
# safetensors

DTYPE_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1, "I64": 8, "I32": 4,
              "I16": 2, "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}


def st_bytes(tensors, metadata=None, raw_header=None):
    """tensors: list of (name, dtype, shape, data bytes). Laid out in the given order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":"))
    text = text.encode("utf-8") if isinstance(text, str) else text
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def st_read(path):
    data = Path(path).read_bytes()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        b, e = info["data_offsets"]
        tensors[name] = (info["dtype"], info["shape"], data[base + b:base + e])
    return metadata, tensors


def floats(values):
    return struct.pack("<%df" % len(values), *values)


# ---------------------------------------------------------------------------------------------
# pickle / torch.save zip (hand-built opcodes, nothing is ever unpickled)


class P:
    """A pickle opcode writer (protocol 2, as torch.save writes)."""

    def __init__(self):
        self.b = bytearray(b"\x80\x02")

    def op(self, code):
        self.b += code
        return self

    def mark(self): return self.op(b"(")
    def empty_dict(self): return self.op(b"}")
    def empty_tuple(self): return self.op(b")")
    def tuple(self): return self.op(b"t")
    def setitems(self): return self.op(b"u")
    def setitem(self): return self.op(b"s")
    def reduce(self): return self.op(b"R")
    def binpersid(self): return self.op(b"Q")
    def newfalse(self): return self.op(b"\x89")
    def stop(self): return self.op(b".")

    def glob(self, module, name):
        return self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")

    def string(self, s):
        data = s.encode("utf-8")
        if len(data) < 256:
            return self.op(b"\x8c" + bytes([len(data)]) + data)
        return self.op(b"X" + struct.pack("<I", len(data)) + data)

    def int(self, n):
        if 0 <= n < 256:
            return self.op(b"K" + bytes([n]))
        if 0 <= n < 65536:
            return self.op(b"M" + struct.pack("<H", n))
        if -2**31 <= n < 2**31:
            return self.op(b"J" + struct.pack("<i", n))
        return self.op(b"\x8a\x08" + struct.pack("<q", n))

    def put(self, i):
        return self.op(b"q" + bytes([i])) if i < 256 else self.op(b"r" + struct.pack("<I", i))

    def get(self, i):
        return self.op(b"h" + bytes([i])) if i < 256 else self.op(b"j" + struct.pack("<I", i))

    def int_tuple(self, values):
        self.mark()
        for v in values:
            self.int(v)
        return self.tuple()

    def tensor(self, key, numel, size, stride, offset=0, storage="FloatStorage"):
        """torch._utils._rebuild_tensor_v2((storage, offset, size, stride, False, OrderedDict()))"""
        self.glob("torch._utils", "_rebuild_tensor_v2")
        self.mark()
        self.mark().string("storage").glob("torch", storage).string(key).string("cpu").int(numel).tuple().binpersid()
        self.int(offset).int_tuple(size).int_tuple(stride).newfalse()
        self.glob("collections", "OrderedDict").empty_tuple().reduce()
        return self.tuple().reduce()


def torch_zip(path, pickle_bytes, storages=None, prefix="archive", byteorder=b"little", compress=None,
              extra_records=None):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        def add(name, data, method=zipfile.ZIP_STORED):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = method
            z.writestr(info, data)
        add(prefix + "/data.pkl", bytes(pickle_bytes), compress or zipfile.ZIP_STORED)
        if byteorder is not None:
            add(prefix + "/byteorder", byteorder)
        for key, data in (storages or {}).items():
            add(prefix + "/data/" + key, data)
        for name, data in (extra_records or {}).items():
            add(name, data)
        add(prefix + "/version", b"3\n")
    return path


def state_dict_pickle(entries):
    """entries: list of (name, key, numel, size, stride, offset, storage type)."""
    p = P().glob("collections", "OrderedDict").empty_tuple().reduce().mark()
    for name, key, numel, size, stride, offset, stype in entries:
        p.string(name).tensor(key, numel, size, stride, offset, stype)
    return p.setitems().stop().b


def alias_pickle(count, numel):
    """A torch.save-like dict of `count` tensors that are all full views of one storage. As
    torch.save does for a shared storage, the storage is memoised; so is the argument tuple of
    _rebuild_tensor_v2 (keeps the file small: 10 bytes per entry)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    p = P().glob("collections", "OrderedDict").empty_tuple().reduce()
    p.mark()
    for i in range(count):
        key = alphabet[i % 62] + alphabet[(i // 62) % 62] + alphabet[i // 3844]
        p.string(key)
        if i == 0:  # memo 0: the function, memo 1: (storage, 0, size, stride, False, OrderedDict())
            p.glob("torch._utils", "_rebuild_tensor_v2").put(0)
            p.mark()
            p.mark().string("storage").glob("torch", "FloatStorage").string("0").string("cpu").int(numel).tuple()
            p.binpersid()
            p.int(0).int_tuple([numel]).int_tuple([1]).newfalse()
            p.glob("collections", "OrderedDict").empty_tuple().reduce()
            p.tuple().put(1).reduce()
        else:
            p.get(0).get(1).reduce()
        if i % 1000 == 999:
            p.setitems().mark()
    return p.setitems().stop().b


# ---------------------------------------------------------------------------------------------
# gzip bombs


def gzip_repeat(path, chunk, repeat):
    """A valid gzip whose content is `chunk` repeated `repeat` times, built without materialising
    the content: one full-flushed deflate segment of the chunk, repeated (independent blocks)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)  # an empty final block
    crc = 0
    for _ in range(repeat):
        crc = zlib.crc32(chunk, crc)
    size = (len(chunk) * repeat) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00" + b"\x00\x00\x00\x00" + b"\x02\xff"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(header)
        for _ in range(repeat):
            f.write(segment)
        f.write(tail)
        f.write(struct.pack("<II", crc & 0xFFFFFFFF, size))
    return path


def gzip_bytes(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---------------------------------------------------------------------------------------------


class Corpus:
    def __init__(self, out, model_src, concept_src):
        self.out = Path(out).resolve()
        self.model_src = Path(model_src)
        self.concept_src = Path(concept_src)
        self.cases = []
        self.ids = set()
        self.rng = random.Random(20251201)

    # -- cases -----------------------------------------------------------------------------------
    def add(self, cls, cid, argv, may_succeed=False, **extra):
        cid = cls + "/" + cid
        if cid in self.ids:
            raise SystemExit("duplicate case id " + cid)
        self.ids.add(cid)
        case = {"id": cid, "class": cls, "argv": list(argv), "may_succeed": bool(may_succeed)}
        case.update({k: v for k, v in extra.items() if v is not None})
        self.cases.append(case)

    def rel(self, path):
        return "{dir}/" + str(Path(path).resolve().relative_to(self.out))

    # -- model variants --------------------------------------------------------------------------
    def base_config(self, comp):
        name = "scheduler_config.json" if comp == "scheduler" else "config.json"
        return json.loads((self.out / "base_model" / comp / name).read_text())

    def variant(self, name, edits):
        """edits: {relpath: bytes | str | ('symlink', target) | ('fifo',) | ('dir',) | ('remove',)}"""
        vdir = self.out / "models" / name
        if vdir.exists():
            raise SystemExit("duplicate model variant " + name)
        vdir.mkdir(parents=True)
        base = self.out / "base_model"
        short = self.out / "models" / "b"  # short symlink targets are stored in the inode
        if not short.is_symlink():
            os.symlink("../base_model", short)
        touched = {p.split("/")[0] for p in edits}
        for entry in sorted(os.listdir(base)):
            if entry not in touched:
                os.symlink(os.path.join("..", "b", entry), vdir / entry)
            elif (base / entry).is_dir() and not any(p == entry for p in edits):
                (vdir / entry).mkdir()
                for f in sorted(os.listdir(base / entry)):
                    if entry + "/" + f not in edits:
                        os.symlink(os.path.join("..", "..", "b", entry, f), vdir / entry / f)
        for rel, what in edits.items():
            target = vdir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink():
                target.unlink()
            if isinstance(what, tuple):
                kind = what[0]
                if kind == "symlink":
                    os.symlink(what[1], target)
                elif kind == "fifo":
                    os.mkfifo(target)
                elif kind == "dir":
                    target.mkdir()
                elif kind == "remove":
                    pass
            elif isinstance(what, bytes):
                target.write_bytes(what)
            else:
                target.write_text(what)
        return "{dir}/models/" + name

    def cfg(self, comp, raw=None, **changes):
        """A component config (unet / vae / text_encoder / scheduler) with keys changed; `raw`
        maps keys to JSON text inserted verbatim (1e999, deep nesting, ...)."""
        d = self.base_config(comp)
        for k, v in changes.items():
            if v is DELETE:
                d.pop(k, None)
            else:
                d[k] = v
        for i, k in enumerate(raw or {}):
            d[k] = "@@RAW%d@@" % i
        text = json.dumps(d, indent=2)
        for i, (k, v) in enumerate((raw or {}).items()):
            text = text.replace('"@@RAW%d@@"' % i, v)
        return text

    def cfg_path(self, comp):
        return comp + ("/scheduler_config.json" if comp == "scheduler" else "/config.json")


class _Delete:
    pass


DELETE = _Delete()


def build(out, model_src, concept_src):
    c = Corpus(out, model_src, concept_src)
    o = c.out
    if o.exists():
        shutil.rmtree(o)
    o.mkdir(parents=True)
    shutil.copytree(model_src, o / "base_model", symlinks=False)
    files = o / "files"
    files.mkdir()

    GEN = ["--prompt", "x", "--steps", "1", "--out", "{out}/o.png", "--quiet"]

    def gen(model, *more):
        return ["generate", "--model", model] + GEN + list(more)

    TRAIN = ["--name", "hostile", "--group", "g", "--kind", "fairness", "--neutral", "a person", "--target", "a man",
             "--steps", "1", "--trajectory-steps", "2", "--max-trajectory-step", "0", "--quiet"]

    def train(model="{model}", *more, out="{out}/c.safetensors"):
        return ["train-concept", "--model", model] + TRAIN + list(more) + ["--out", out]

    one_prompt = write_text(files / "one_prompt.txt", "a photo of a doctor\n")
    REPORT = ["--prompts", c.rel(one_prompt), "--steps", "1", "--quiet"]

    def report(*more):
        return ["report", "--model", "{model}"] + REPORT + list(more)

    # ============================================================================================
    # class json: exceptions that are not respo::Error (JSON numbers that overflow, JSON of the
    # wrong kind, filesystem errors, invalid UTF-8, shapes that make torch throw)
    cls = "json"
    good_meta, good_tensors = st_read(concept_src)
    ram = good_tensors["ram"][2]
    sam = good_tensors["sam"][2]
    C, H, W = good_tensors["ram"][1][1:]
    overflow_headers = {
        "shape": '{"t":{"dtype":"F32","shape":[1e999],"data_offsets":[0,4]}}',
        "offsets": '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,1e999]}}',
        "negative-shape": '{"t":{"dtype":"F32","shape":[-1e999],"data_offsets":[0,4]}}',
        "stray-key": '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1E+400}}',
        "metadata-value": '{"__metadata__":{"a":1e999},"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        "top-level": '{"n":123456789e99999,"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}',
        "huge-int": '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"n":1' + "0" * 400 + '}}',
    }
    for name, header in overflow_headers.items():
        f = write_bytes(files / "st" / ("overflow-%s.safetensors" % name), st_bytes([], raw_header=header) + b"\0" * 4)
        c.add(cls, "inspect-overflow-" + name, ["inspect", c.rel(f)], note="1e999 in a safetensors header")
    # the same in a concept file and as model weights
    conc_overflow = write_bytes(o / "concepts" / "overflow.safetensors", st_bytes(
        [], raw_header='{"__metadata__":{"format":"respodiff-concept"},"ram":{"dtype":"F32","shape":[1e999],'
                       '"data_offsets":[0,4]}}') + b"\0" * 4)
    c.add(cls, "concept-overflow", ["generate", "--model", "{model}", "--concept", c.rel(conc_overflow)] + GEN)
    c.add(cls, "single-file-overflow", gen(c.rel(files / "st" / "overflow-shape.safetensors")))
    m = c.variant("unet-weights-overflow", {"unet/diffusion_pytorch_model.safetensors":
                                            (files / "st" / "overflow-offsets.safetensors").read_bytes()})
    c.add(cls, "unet-weights-overflow", gen(m))

    # configs with numbers that overflow
    overflow_cfgs = [
        ("unet-sample-size", "unet", {"sample_size": "1e999"}),
        ("unet-unused-key", "unet", {"hostile_unused": "1e999"}),
        ("unet-neg", "unet", {"norm_eps": "-1e999"}),
        ("vae-scaling", "vae", {"scaling_factor": "1e999"}),
        ("vae-unused", "vae", {"hostile_unused": "1e400"}),
        ("text-encoder-eps", "text_encoder", {"layer_norm_eps": "1e999"}),
        ("text-encoder-unused", "text_encoder", {"hostile_unused": "1e999"}),
        ("scheduler-beta", "scheduler", {"beta_end": "1e999"}),
    ]
    for name, comp, raw in overflow_cfgs:
        m = c.variant("overflow-" + name, {c.cfg_path(comp): c.cfg(comp, raw=raw)})
        c.add(cls, "config-overflow-" + name, gen(m), note="1e999 in " + c.cfg_path(comp))
    tok = o / "base_model" / "tokenizer"
    m = c.variant("overflow-vocab", {"tokenizer/vocab.json":
                                     '{"<|startoftext|>": 49406, "<|endoftext|>": 49407, "hostile": 1e999}'})
    c.add(cls, "vocab-overflow", gen(m))
    c.add(cls, "tokenize-vocab-overflow", ["tokenize", "--tokenizer", m + "/tokenizer", "x"])
    m = c.variant("overflow-tokenizer-config", {"tokenizer/tokenizer_config.json": '{"model_max_length": 1e999}'})
    c.add(cls, "tokenizer-config-overflow", gen(m))
    m = c.variant("overflow-special-tokens", {"tokenizer/special_tokens_map.json": '{"bos_token": 1e999}'})
    c.add(cls, "special-tokens-overflow", gen(m))
    mi = json.loads((o / "base_model" / "model_index.json").read_text())
    m = c.variant("overflow-model-index", {"model_index.json": json.dumps(mi)[:-1] + ', "hostile": 1e999}'})
    c.add(cls, "model-index-overflow", gen(m))
    unet_weights = "../../b/unet/diffusion_pytorch_model.safetensors"
    m = c.variant("overflow-shard-index", {
        "unet/diffusion_pytorch_model.safetensors": ("remove",),
        "unet/diffusion_pytorch_model.safetensors.index.json":
            '{"metadata":{"total_size":1e999},"weight_map":{"conv_in.weight":"part.safetensors"}}',
        "unet/part.safetensors": ("symlink", unet_weights)})
    c.add(cls, "shard-index-overflow", gen(m))
    m = c.variant("overflow-shard-index-2", {
        "unet/diffusion_pytorch_model.safetensors": ("remove",),
        "unet/diffusion_pytorch_model.safetensors.index.json": '{"weight_map":{"a":"part.safetensors","b":-1e999}}',
        "unet/part.safetensors": ("symlink", unet_weights)})
    c.add(cls, "shard-index-overflow-value", gen(m))

    # model_index.json of the wrong kind
    for name, text in [("array", "[1, 2, 3]"), ("string", '"StableDiffusionPipeline"'), ("number", "42"),
                       ("null", "null"), ("true", "true"), ("empty-array", "[]"),
                       ("class-number", '{"_class_name": 5}'), ("class-null", '{"_class_name": null}'),
                       ("class-array", '{"_class_name": ["StableDiffusionPipeline"]}'),
                       ("class-object", '{"_class_name": {"a": 1}}'),
                       ("xl-zeros-string", '{"_class_name": "StableDiffusionXLPipeline", '
                                           '"force_zeros_for_empty_prompt": "yes"}'),
                       ("text-encoder-2-string", '{"_class_name": "StableDiffusionPipeline", "text_encoder_2": "x"}'),
                       ("deep", deep_array(1000))]:
        m = c.variant("model-index-" + name, {"model_index.json": text})
        c.add(cls, "model-index-" + name, gen(m), note="model_index.json is " + name,
              may_succeed=name == "text-encoder-2-string")

    # --out naming an existing directory, a folder that does not exist, an existing file
    (files / "existing-dir").mkdir()
    existing_file = write_text(files / "existing-file", "x")
    c.add(cls, "out-existing-dir", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet",
                                    "--out", "{out}"])
    c.add(cls, "out-nonexistent-folder", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1",
                                          "--quiet", "--out", "{out}/no/such/folder/o.png"])
    c.add(cls, "out-batch-existing-dir", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet",
                                          "--batch", "2", "--out", "{out}"], may_succeed=True,
          note="batch names are derived (<dir>-0, <dir>-1 beside it)")
    c.add(cls, "out-empty", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet", "--out", ""])
    c.add(cls, "out-root", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet", "--out", "/"])
    c.add(cls, "out-dot", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet", "--out", "."])
    c.add(cls, "out-proc", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet",
                            "--out", "/proc/version"])
    c.add(cls, "train-out-existing-dir", train("{model}", out="{out}"))
    c.add(cls, "train-out-nonexistent-folder", train("{model}", out="{out}/no/such/c.safetensors"))
    c.add(cls, "train-checkpoint-nonexistent-folder", train("{model}", "--checkpoint", "{out}/no/such/ck.safetensors"))
    # import-reference creates --out with create_directories: an existing file there
    small_zip = torch_zip(files / "zip" / "empty-dict.pt", P().empty_dict().stop().b)
    c.add(cls, "import-out-existing-file", ["import-reference", c.rel(small_zip), "--out", c.rel(existing_file)])
    c.add(cls, "import-out-under-file", ["import-reference", c.rel(small_zip), "--out", c.rel(existing_file) + "/sub"])
    c.add(cls, "tokenizer-export-out-existing-file",
          ["tokenizer-export", "--tokenizer", "{model}/tokenizer", "--out", c.rel(existing_file)])
    c.add(cls, "tokenizer-export-out-under-file",
          ["tokenizer-export", "--tokenizer", "{model}/tokenizer", "--out", c.rel(existing_file) + "/sub"])
    c.add(cls, "toyworld-concepts-out-existing-file",
          ["toyworld", "concepts", "--model", "{model}", "--out", c.rel(existing_file), "--steps", "1"])
    c.add(cls, "report-json-existing-dir", report("--n", "1", "--json", c.rel(files / "existing-dir")))

    # invalid UTF-8 (0xFF 0xFE) in names and prompts; argv strings carry the bytes as lone surrogates
    bad = "\udcff\udcfe"
    for key in ["name", "group", "neutral", "target"]:
        argv = train()
        argv[argv.index("--" + key) + 1] = "x" + bad + "y"
        c.add(cls, "train-invalid-utf8-" + key, argv, note="invalid UTF-8 in --" + key)
    c.add(cls, "train-invalid-utf8-negative", train("{model}", "--negative", bad))
    bad_list = write_bytes(files / "invalid-utf8-list.txt", b"a person\n\xff\xfe\n")
    c.add(cls, "train-invalid-utf8-list", train("{model}", "--neutral-list", c.rel(bad_list)))
    c.add(cls, "generate-invalid-utf8-prompt", ["generate", "--model", "{model}", "--prompt", bad, "--steps", "1",
                                                "--quiet", "--out", "{out}/o.png"], may_succeed=True)
    c.add(cls, "generate-invalid-utf8-negative", gen("{model}", "--negative", "a" + bad), may_succeed=True)
    c.add(cls, "tokenize-invalid-utf8", ["tokenize", "--tokenizer", "{model}/tokenizer", bad + "\udc80"],
          may_succeed=True)
    c.add(cls, "generate-invalid-utf8-concept-name", gen("{model}", "--concept", bad), note="not a file: library lookup")

    # tensors of a wrong shape in a model folder (small weight files: the loader reads every file
    # before it compares shapes, so one tensor is enough to reach the check)
    conv = struct.pack("<f", 0.0) * (48 * 4 * 9)
    wrong_shapes = {
        "transposed": [("conv_in.weight", "F32", [4, 48, 3, 3], conv)],
        "extra-dim": [("conv_in.weight", "F32", [1, 48, 4, 3, 3], conv)],
        "scalar": [("conv_in.weight", "F32", [], b"\0" * 4)],
        "zero-huge": [("conv_in.weight", "F32", [0, 2**62, 2**62], b"")],
        "zero-huge-4d": [("conv_in.weight", "F32", [48, 0, 2**40, 2**40], b"")],
        "bool-dtype": [("conv_in.weight", "BOOL", [48, 4, 3, 3], b"\0" * (48 * 36))],
        "f8-dtype": [("conv_in.weight", "F8_E4M3", [48, 4, 3, 3], b"\0" * (48 * 36))],
    }
    for name, tensors in wrong_shapes.items():
        m = c.variant("unet-shape-" + name, {"unet/diffusion_pytorch_model.safetensors": st_bytes(tensors)})
        c.add(cls, "unet-shape-" + name, gen(m), note="unet weight " + name)
    te_emb = [("text_model.embeddings.position_embedding.weight", "F32", [0, 2**62], b"")]
    m = c.variant("text-encoder-shape-zero-huge", {"text_encoder/model.safetensors": st_bytes(te_emb)})
    c.add(cls, "text-encoder-shape-zero-huge", gen(m))
    vae_t = [("decoder.conv_in.weight", "F32", [2**31, 0, 3, 3], b"")]
    m = c.variant("vae-shape-zero-huge", {"vae/diffusion_pytorch_model.safetensors": st_bytes(vae_t)})
    c.add(cls, "vae-shape-zero-huge", gen(m))

    # ============================================================================================
    # class config: hostile values in the model folder's configs
    cls = "config"
    unet_cases = [
        ("norm-groups-0", {"norm_num_groups": 0}),
        ("norm-groups-neg", {"norm_num_groups": -16}),
        ("norm-groups-huge", {"norm_num_groups": 2**31 - 1}),
        ("channels-neg", {"block_out_channels": [-48, 96]}),
        ("channels-zero", {"block_out_channels": [0, 96]}),
        ("channels-2^30", {"block_out_channels": [2**30, 2**30]}),
        ("channels-int64", {"block_out_channels": [2**40, 96]}),
        ("channels-empty", {"block_out_channels": []}),
        ("channels-string", {"block_out_channels": "48,96"}),
        ("layers-1e7-float", {"layers_per_block": 1e7}),
        ("layers-1e7", {"layers_per_block": 10**7}),
        ("layers-neg", {"layers_per_block": -1}),
        ("layers-zero", {"layers_per_block": 0}),
        ("heads-0", {"attention_head_dim": 0}),
        ("heads-neg", {"attention_head_dim": -4}),
        ("num-heads-0", {"num_attention_heads": [0, 0]}),
        ("heads-wrong-count", {"attention_head_dim": [4]}),
        ("transformer-layers-huge", {"transformer_layers_per_block": [1, 10**7]}),
        ("transformer-layers-neg", {"transformer_layers_per_block": -1}),
        ("cross-attention-0", {"cross_attention_dim": 0}),
        ("cross-attention-neg", {"cross_attention_dim": -64}),
        ("cross-attention-list", {"cross_attention_dim": [64, 64]}),
        ("sample-size-neg", {"sample_size": -16}),
        ("sample-size-0", {"sample_size": 0}),
        ("sample-size-huge", {"sample_size": 100000}),
        ("sample-size-int-max", {"sample_size": 2**31 - 1}),
        ("sample-size-string", {"sample_size": "16"}),
        ("in-channels-0", {"in_channels": 0}),
        ("in-channels-neg", {"in_channels": -4}),
        ("in-channels-2^30", {"in_channels": 2**30}),
        ("out-channels-0", {"out_channels": 0}),
        ("time-embedding-neg", {"time_embedding_dim": -1}),
        ("time-embedding-2^30", {"time_embedding_dim": 2**30}),
        ("norm-eps-neg", {"norm_eps": -1.0}),
        ("mid-block-null", {"mid_block_type": None}),
        ("block-types-short", {"down_block_types": ["DownBlock2D"]}),
        ("text-time-no-projection", {"addition_embed_type": "text_time", "addition_time_embed_dim": 256,
                                     "projection_class_embeddings_input_dim": -5}),
        ("config-array", None),
    ]
    for name, changes in unet_cases:
        text = "[]" if changes is None else c.cfg("unet", **changes)
        m = c.variant("unet-" + name, {"unet/config.json": text})
        c.add(cls, "unet-" + name, gen(m), note="unet/config.json " + name)
    m = c.variant("unet-deep", {"unet/config.json": c.cfg("unet", raw={"block_out_channels": deep_array(100000)})})
    c.add(cls, "unet-deep-nesting", gen(m), note="100000 nested arrays in block_out_channels")
    # sample sizes that only hurt with a concept (the bottleneck is computed before validation)
    for name in ["sample-size-neg", "sample-size-huge", "sample-size-int-max"]:
        c.add(cls, "unet-%s-with-concept" % name, gen("{dir}/models/unet-" + name, "--concept", "gender",
                                                      "--ignore-fingerprint"))

    vae_cases = [
        ("norm-groups-0", {"norm_num_groups": 0}),
        ("norm-groups-neg", {"norm_num_groups": -8}),
        ("channels-neg", {"block_out_channels": [-16, 32, 64]}),
        ("channels-2^30", {"block_out_channels": [2**30, 32, 64]}),
        ("channels-empty", {"block_out_channels": []}),
        ("channels-many", {"block_out_channels": [8] * 40}),
        ("layers-1e7", {"layers_per_block": 10**7}),
        ("layers-neg", {"layers_per_block": -5}),
        ("latent-0", {"latent_channels": 0}),
        ("latent-neg", {"latent_channels": -4}),
        ("scaling-0", {"scaling_factor": 0}),
        ("scaling-string", {"scaling_factor": "x"}),
        ("in-channels-2^30", {"in_channels": 2**30}),
        ("out-channels-0", {"out_channels": 0}),
    ]
    for name, changes in vae_cases:
        m = c.variant("vae-" + name, {"vae/config.json": c.cfg("vae", **changes)})
        c.add(cls, "vae-" + name, gen(m), may_succeed=name == "scaling-0", note="vae/config.json " + name)

    te_cases = [
        ("vocab-2^30", {"vocab_size": 2**30}),
        ("vocab-0", {"vocab_size": 0}),
        ("vocab-neg", {"vocab_size": -1}),
        ("hidden-0", {"hidden_size": 0}),
        ("hidden-neg", {"hidden_size": -64}),
        ("hidden-2^30", {"hidden_size": 2**30}),
        ("layers-1e7", {"num_hidden_layers": 10**7}),
        ("layers-neg", {"num_hidden_layers": -1}),
        ("heads-0", {"num_attention_heads": 0}),
        ("heads-neg", {"num_attention_heads": -2}),
        ("positions-0", {"max_position_embeddings": 0}),
        ("positions-1", {"max_position_embeddings": 1}),
        ("positions-2^30", {"max_position_embeddings": 2**30}),
        ("intermediate-2^30", {"intermediate_size": 2**30}),
        ("act-relu", {"hidden_act": "relu"}),
        ("eos-huge", {"eos_token_id": 2**62}),
        ("projection-neg", {"architectures": ["CLIPTextModelWithProjection"], "projection_dim": -1}),
        ("architectures-string", {"architectures": "CLIPTextModel"}),
    ]
    for name, changes in te_cases:
        m = c.variant("te-" + name, {"text_encoder/config.json": c.cfg("text_encoder", **changes)})
        c.add(cls, "text-encoder-" + name, gen(m), note="text_encoder/config.json " + name)

    sched_cases = [
        ("timesteps-2e9", {"num_train_timesteps": 2e9}),
        ("timesteps-2000000000", {"num_train_timesteps": 2000000000}),
        ("timesteps-cosine-2e9", {"num_train_timesteps": 2000000000, "beta_schedule": "squaredcos_cap_v2"}),
        ("timesteps-0", {"num_train_timesteps": 0}),
        ("timesteps-neg", {"num_train_timesteps": -1}),
        ("timesteps-1", {"num_train_timesteps": 1}),
        ("timesteps-1.5", {"num_train_timesteps": 1.5}),
        ("timesteps-string", {"num_train_timesteps": "1000"}),
        ("beta-neg", {"beta_start": -5.0, "beta_end": 7.0}),
        ("schedule-unknown", {"beta_schedule": "foo"}),
        ("steps-offset-huge", {"steps_offset": 2000000000}),
        ("spacing-unknown", {"timestep_spacing": "x"}),
        ("prediction-unknown", {"prediction_type": "x"}),
        ("class-unknown", {"_class_name": "FooScheduler"}),
        ("clip-range-neg", {"clip_sample": True, "clip_sample_range": -1.0}),
    ]
    for name, changes in sched_cases:
        m = c.variant("sched-" + name, {"scheduler/scheduler_config.json": c.cfg("scheduler", **changes)})
        c.add(cls, "scheduler-" + name, gen(m), may_succeed=name in ("timesteps-1.5",),
              note="scheduler_config.json " + name)
    m = c.variant("sched-deep", {"scheduler/scheduler_config.json":
                                 c.cfg("scheduler", raw={"num_train_timesteps": deep_array(100000)})})
    c.add(cls, "scheduler-deep-nesting", gen(m))
    m = c.variant("sched-array", {"scheduler/scheduler_config.json": "[1]"})
    c.add(cls, "scheduler-array", gen(m))

    # small vocabularies (the special tokens and a few words) keep the corpus small
    vocab = {"<|startoftext|>": 49406, "<|endoftext|>": 49407, "a</w>": 320, "x</w>": 343}
    first_token = "a</w>"
    tok_cases = {
        "vocab-array": '["a", "b"]',
        "vocab-negative-id": json.dumps(dict(vocab, **{first_token: -1})),
        "vocab-huge-id": json.dumps(dict(vocab, hostile=2**62)),
        "vocab-id-2^31": json.dumps(dict(vocab, hostile=2**31)),
        "vocab-id-float": json.dumps(dict(vocab, hostile=1.5)),
        "vocab-no-eos": json.dumps({k: v for k, v in vocab.items() if k != "<|endoftext|>"}),
    }
    for name, text in tok_cases.items():
        m = c.variant("tok-" + name, {"tokenizer/vocab.json": text})
        c.add(cls, "tokenizer-" + name, gen(m), note="tokenizer/vocab.json " + name)
    tok_cfg_cases = {
        "max-length-1": ("tokenizer/tokenizer_config.json", '{"model_max_length": 1}'),
        "max-length-2": ("tokenizer/tokenizer_config.json", '{"model_max_length": 2}'),
        "max-length-1e6": ("tokenizer/tokenizer_config.json", '{"model_max_length": 1000000}'),
        "max-length-neg": ("tokenizer/tokenizer_config.json", '{"model_max_length": -5}'),
        "bos-content-number": ("tokenizer/special_tokens_map.json", '{"bos_token": {"content": 5}}'),
        "eos-unknown": ("tokenizer/special_tokens_map.json", '{"eos_token": "<|nope|>"}'),
        "special-array": ("tokenizer/special_tokens_map.json", "[1, 2]"),
        "merges-bad-line": ("tokenizer/merges.txt", "#version: 0.2\ni n\nthis is three\n"),
        "merges-empty": ("tokenizer/merges.txt", ""),
    }
    for name, (rel, text) in tok_cfg_cases.items():
        m = c.variant("tok-" + name, {rel: text})
        c.add(cls, "tokenizer-" + name, gen(m), may_succeed=name in ("max-length-1", "max-length-2", "max-length-neg",
                                                                       "max-length-1e6",
                                                                       "merges-empty", "special-array",
                                                                       "bos-content-number", "eos-unknown"),
              note=rel + " " + name)

    # ============================================================================================
    # class concept: hostile concept module files
    cls = "concept"
    cdir = o / "concepts"
    good = cdir / "good-man.safetensors"
    shutil.copyfile(concept_src, good)

    zero_t = b"\0" * len(ram)

    def concept(name, ram_t=None, sam_t=None, meta=None, drop=(), extra=None):
        md = dict(good_meta)
        for k in drop:
            md.pop(k, None)
        md.update(meta or {})
        # zeros instead of the trained values (the values do not matter here), laid out last so
        # that they are a hole on disk
        tensors = list(extra or [])
        tensors += [("ram",) + (ram_t or ("F32", [1, C, H, W], zero_t)), ("sam",) + (sam_t or ("F32", [1, C, H, W], zero_t))]
        tensors.sort(key=lambda t: any(t[3]))
        tensors.reverse()
        return write_bytes(cdir / (name + ".safetensors"), st_bytes(tensors, md))

    n = C * H * W
    nan = struct.pack("<f", float("nan")) * n
    inf = struct.pack("<f", float("inf")) * n
    big = struct.pack("<f", 3e38) * n
    concept_files = {
        "first-dim-2": concept("first-dim-2", ("F32", [2, C, H, W], zero_t * 2), ("F32", [2, C, H, W], zero_t * 2)),
        "first-dim-0": concept("first-dim-0", ("F32", [0, C, H, W], b""), ("F32", [0, C, H, W], b"")),
        "first-dim-2-safety": concept("first-dim-2-safety", ("F32", [2, C, H, W], zero_t * 2),
                                      ("F32", [2, C, H, W], zero_t * 2), meta={"kind": "safety", "group": "safety"}),
        "five-dims": concept("five-dims", ("F32", [1, C, H, W, 1], zero_t), ("F32", [1, C, H, W, 1], zero_t)),
        "three-dims": concept("three-dims", ("F32", [C, H, W], zero_t), ("F32", [C, H, W], zero_t)),
        "shape-mismatch": concept("shape-mismatch", None, ("F32", [1, C, W, H * 2], zero_t * 2)),
        "zero-huge": concept("zero-huge", ("F32", [1, 0, 2**40, 2**40], b""), ("F32", [1, 0, 2**40, 2**40], b"")),
        "zero-huge-first": concept("zero-huge-first", ("F32", [0, 2**62, 2**62, 1], b""),
                                   ("F32", [0, 2**62, 2**62, 1], b"")),
        "nan": concept("nan", ("F32", [1, C, H, W], nan)),
        "inf": concept("inf", None, ("F32", [1, C, H, W], inf)),
        "huge-values": concept("huge-values", ("F32", [1, C, H, W], big)),
        "ram-f16": concept("ram-f16", ("F16", [1, C, H, W], zero_t[:n * 2])),
        "sam-f64": concept("sam-f64", None, ("F64", [1, C, H, W], zero_t * 2)),
        "sam-f16": concept("sam-f16", None, ("F16", [1, C, H, W], zero_t[:n * 2])),
        "sam-bf16": concept("sam-bf16", None, ("BF16", [1, C, H, W], zero_t[:n * 2])),
        "sam-f8": concept("sam-f8", None, ("F8_E4M3", [1, C, H, W], b"\0" * n)),
        "sam-i64": concept("sam-i64", None, ("I64", [1, C, H, W], b"\0" * (8 * n))),
        "sam-u64": concept("sam-u64", None, ("U64", [1, C, H, W], b"\0" * (8 * n))),
        "sam-bool": concept("sam-bool", None, ("BOOL", [1, C, H, W], b"\1" * n)),
        "steps-overflow": concept("steps-overflow", meta={"steps": "1e999", "steps_done": "99999999999999999999"}),
        "w-tar-overflow": concept("w-tar-overflow", meta={"w_tar": "1e999"}),
        "w-tar-nan": concept("w-tar-nan", meta={"w_tar": "nan", "lambda": "-inf"}),
        "steps-text": concept("steps-text", meta={"steps": "many"}),
        "seed-negative": concept("seed-negative", meta={"seed": "-1"}),
        "seed-huge": concept("seed-huge", meta={"seed": "9" * 40}),
        "resolution-empty": concept("resolution-empty", meta={"resolution": ""}),
        "no-fingerprint": concept("no-fingerprint", drop=["model_fingerprint"]),
        "no-format": concept("no-format", drop=["format"]),
        "format-other": concept("format-other", meta={"format": "something-else"}),
        "module-type-linear": concept("module-type-linear", meta={"module_type": "linear"}),
        "more-prompts-overflow": concept("more-prompts-overflow", meta={"more_neutral_prompts": "[1e999]"}),
        "more-prompts-not-json": concept("more-prompts-not-json", meta={"more_target_prompts": "{not json"}),
        "more-prompts-deep": concept("more-prompts-deep", meta={"more_neutral_prompts": deep_array(100000)}),
        "more-prompts-mixed": concept("more-prompts-mixed", meta={"more_neutral_prompts": '["a", 5]'}),
        "kind-weird": concept("kind-weird", meta={"kind": "weird"}),
        "name-empty": concept("name-empty", meta={"name": "", "group": ""}),
        "no-metadata": write_bytes(cdir / "no-metadata.safetensors",
                                   st_bytes([("ram", "F32", [1, C, H, W], zero_t), ("sam", "F32", [1, C, H, W], zero_t)])),
        "metadata-number": write_bytes(cdir / "metadata-number.safetensors", st_bytes(
            [], raw_header='{"__metadata__":{"format":"respodiff-concept","steps":5}}')),
        "no-sam": write_bytes(cdir / "no-sam.safetensors", st_bytes([("ram", "F32", [1, C, H, W], zero_t)], good_meta)),
        "empty-file": write_bytes(cdir / "empty-file.safetensors", b""),
        "header-deep": write_bytes(cdir / "header-deep.safetensors",
                                   st_bytes([], raw_header='{"a":' + deep_array(100000) + "}")),
        "checkpoint-extra": concept("checkpoint-extra", extra=[("rng_state", "U8", [3], b"\1\2\3")]),
    }
    # a concept whose tensors really are 2 GiB each (sparse: no disk blocks): loading copies them
    huge_meta = dict(good_meta)
    huge_hdr = st_bytes([], raw_header=json.dumps({
        "__metadata__": huge_meta,
        "ram": {"dtype": "F32", "shape": [1, 1, 1, 2**29], "data_offsets": [0, 2**31]},
        "sam": {"dtype": "F32", "shape": [1, 1, 1, 2**29], "data_offsets": [2**31, 2**32]}}, separators=(",", ":")))
    concept_files["sparse-4gib"] = sparse(cdir / "sparse-4gib.safetensors", len(huge_hdr) + 2**32, huge_hdr)

    may_concepts = {"nan", "inf", "huge-values", "sam-f64", "sam-f16", "sam-bf16", "sam-i64", "sam-u64", "sam-bool",
                    "steps-overflow", "seed-negative", "resolution-empty", "kind-weird", "name-empty",
                    "checkpoint-extra", "w-tar-nan", "more-prompts-deep"}
    for name, f in concept_files.items():
        c.add(cls, "generate-" + name, ["generate", "--model", "{model}", "--concept", c.rel(f), "--steps", "2",
                                        "--prompt", "x", "--out", "{out}/o.png", "--quiet"],
              may_succeed=name in may_concepts, note="concept file " + name)
    for name in ["first-dim-2", "first-dim-0", "zero-huge", "sam-f8", "header-deep", "sparse-4gib"]:
        c.add(cls, "inspect-" + name, ["inspect", c.rel(concept_files[name])], may_succeed=True)
    for name in ["first-dim-2", "zero-huge", "sam-f8"]:
        c.add(cls, "report-" + name, report("--n", "1", "--concept", c.rel(concept_files[name])))
    c.add(cls, "generate-batch-first-dim-2", ["generate", "--model", "{model}", "--concept",
                                              c.rel(concept_files["first-dim-2"]), "--batch", "2"] + GEN)
    c.add(cls, "generate-compare-nan", ["generate", "--model", "{model}", "--concept", c.rel(concept_files["nan"]),
                                        "--compare"] + GEN, may_succeed=True)
    # the concept library: a bad file next to a good copy; `--concept gender` must still work
    xdg_cases = dict((k, concept_files[k]) for k in [
        "first-dim-2", "first-dim-0", "zero-huge", "zero-huge-first", "sam-f8", "nan", "steps-overflow",
        "more-prompts-overflow", "more-prompts-deep", "metadata-number", "empty-file", "header-deep", "sparse-4gib",
        "no-sam", "kind-weird"])
    for name, f in xdg_cases.items():
        lib = o / "xdg" / name / "respodiff" / "concepts"
        lib.mkdir(parents=True)
        os.symlink(os.path.relpath(f, lib), lib / ("bad-" + name + ".safetensors"))
        os.symlink(os.path.relpath(good, lib), lib / "good-man.safetensors")
        c.add(cls, "library-" + name, ["generate", "--model", "{model}", "--concept", "gender", "--steps", "2",
                                       "--prompt", "x", "--out", "{out}/o.png", "--quiet"],
              may_succeed=True, env={"XDG_DATA_HOME": "{dir}/xdg/" + name},
              note="library holds a bad file (" + name + ") and a good one")
    for name, make in [("fifo", lambda p: mkfifo(p)), ("dev-zero", lambda p: symlink(p, "/dev/zero")),
                       ("directory", lambda p: p.mkdir()), ("loop", lambda p: symlink(p, p.name)),
                       ("dangling", lambda p: symlink(p, "nowhere.safetensors"))]:
        lib = o / "xdg" / ("special-" + name) / "respodiff" / "concepts"
        lib.mkdir(parents=True)
        make(lib / "bad.safetensors")
        os.symlink(os.path.relpath(good, lib), lib / "good-man.safetensors")
        c.add(cls, "library-special-" + name, ["generate", "--model", "{model}", "--concept", "gender", "--steps", "2",
                                               "--prompt", "x", "--out", "{out}/o.png", "--quiet"],
              may_succeed=True, env={"XDG_DATA_HOME": "{dir}/xdg/special-" + name},
              note="library holds a " + name + " named *.safetensors")
    # eval reads every file of a concept folder
    for name in ["zero-huge", "empty-file"]:  # (first-dim-2 fails only after minutes of evaluation)
        c.add(cls, "eval-concepts-" + name, ["eval", "toyworld", "--quick", "--model", "{model}", "--concepts",
                                             "{dir}/xdg/" + name + "/respodiff/concepts"])

    # resuming from a hostile checkpoint: metadata that passes the checks, state that does not
    rng = struct.pack("<QiiQ", 0, 1, 1, 0) + b"".join(struct.pack("<Q", i + 1) for i in range(624))
    rng += struct.pack("<dddi", 0, 0, 0, 0)
    rng += b"\0" * (5048 - len(rng)) + struct.pack("<f", 0) + b"\0" * 4
    ck_meta = dict(good_meta, name="hostile", group="g", kind="fairness", neutral_prompt="a person",
                   target_prompt="a man", negative_prompt="", seed="0", steps_done="0")
    zeros = b"\0" * (4 * n)
    adam = [("adam.ram.exp", "F32", [1, C, H, W], zeros), ("adam.ram.exp_sq", "F32", [1, C, H, W], zeros),
            ("adam.sam.exp", "F32", [1, C, H, W], zeros), ("adam.sam.exp_sq", "F32", [1, C, H, W], zeros)]
    resume = {
        "rng-wrong-size": [("rng_state", "U8", [3], b"\1\2\3")],
        "rng-float": [("rng_state", "F32", [1264], b"\0" * 5056)],
        "rng-missing": [],
        "adam-steps-empty": [("rng_state", "U8", [5056], rng), ("adam.steps", "I64", [0], b"")] + adam,
        "adam-wrong-shape": [("rng_state", "U8", [5056], rng), ("adam.steps", "I64", [2], struct.pack("<qq", 1, 1)),
                             ("adam.ram.exp", "F32", [1, C, H // 2, W // 2], zeros[:len(zeros) // 4])] + adam[1:],
        "adam-missing-exp": [("rng_state", "U8", [5056], rng), ("adam.steps", "I64", [2], struct.pack("<qq", 1, 1))],
        "history-huge": [("rng_state", "U8", [5056], rng), ("loss_history", "F64", [0, 2**62], b"")],
    }
    for name, extra in resume.items():
        md = dict(ck_meta)
        tensors = extra + [("ram", "F32", [1, C, H, W], zero_t), ("sam", "F32", [1, C, H, W], zero_t)]
        f = write_bytes(cdir / ("checkpoint-" + name + ".safetensors"), st_bytes(tensors, md))
        c.add(cls, "resume-" + name, train("{model}", "--seed", "0", "--checkpoint", c.rel(f), "--resume"),
              may_succeed=name == "history-huge", note="--resume from a checkpoint with " + name)
    f = write_bytes(cdir / "checkpoint-steps-done-huge.safetensors", st_bytes(
        [("rng_state", "U8", [5056], rng), ("ram", "F32", [1, C, H, W], zero_t), ("sam", "F32", [1, C, H, W], zero_t)],
        dict(ck_meta, steps_done="2000000000")))
    c.add(cls, "resume-steps-done-huge", train("{model}", "--seed", "0", "--checkpoint", c.rel(f), "--resume"),
          may_succeed=True)

    # ============================================================================================
    # class ordering: sizes and counts that must be refused before anything is allocated
    cls = "ordering"
    base_gen = ["generate", "--model", "{model}", "--prompt", "x", "--out", "{out}/o.png", "--quiet"]
    ordering = [
        ("batch-100000", ["--batch", "100000"]),
        ("batch-1e9", ["--batch", "1000000000"]),
        ("batch-int-max", ["--batch", "2147483647"]),
        ("batch-neg", ["--batch", "-1"]),
        ("batch-int-min", ["--batch", "-2147483648"]),
        ("batch-0", ["--batch", "0"]),
        ("batch-65", ["--batch", "65"]),
        ("size-100000", ["--width", "100000", "--height", "100000"]),
        ("size-65536", ["--width", "65536", "--height", "65536"]),
        ("size-int-max", ["--width", "2147483644", "--height", "2147483644"]),
        ("width-neg", ["--width", "-8"]),
        ("height-neg-4096", ["--height", "-4096"]),
        ("width-3", ["--width", "3"]),
        ("width-4", ["--width", "4"]),
        ("steps-1e8", ["--steps", "100000000"]),
        ("steps-neg", ["--steps", "-1"]),
        ("batch-and-size", ["--batch", "1000", "--width", "4000", "--height", "4000"]),
    ]
    for name, more in ordering:
        c.add(cls, "concept-" + name, base_gen + ["--steps", "1", "--concept", "gender"] + more if "--steps" not in more
              else base_gen + ["--concept", "gender"] + more,
              note="with --concept: " + " ".join(more))
    for name, more in ordering[:3] + ordering[7:9] + [ordering[14]]:
        c.add(cls, "plain-" + name, base_gen + (["--steps", "1"] if "--steps" not in more else []) + more)
    c.add(cls, "concept-within-limits-huge", base_gen + ["--steps", "1", "--concept", "gender", "--batch", "64",
                                                         "--width", "4096", "--height", "4096"],
          note="inside the documented limits (batch 64, 4096x4096) yet tens of GB")
    c.add(cls, "plain-within-limits-huge", base_gen + ["--steps", "1", "--batch", "64", "--width", "4096",
                                                       "--height", "4096"],
          note="inside the documented limits (batch 64, 4096x4096) yet tens of GB")
    c.add(cls, "compare-size-100000", base_gen + ["--steps", "1", "--concept", "gender", "--compare", "--width",
                                                  "100000", "--height", "100000"])
    for name, more in [("resolution-100000", ["--resolution", "100000"]), ("resolution-8", ["--resolution", "8"]),
                       ("resolution-4", ["--resolution", "4"]), ("resolution-neg", ["--resolution", "-64"]),
                       ("resolution-int-max", ["--resolution", "2147483644"]),
                       ("batch-100000", ["--batch", "100000"]), ("trajectory-1e8", ["--trajectory-steps", "100000000"]),
                       ("max-step-neg", ["--max-trajectory-step", "-5"])]:
        c.add(cls, "train-" + name, train("{model}", *more), may_succeed=name in ("resolution-neg", "resolution-8"))
    c.add(cls, "report-n-1000", report("--n", "1000", "--concept", "gender"))
    c.add(cls, "report-n-100000", report("--n", "100000", "--concept", "gender"))

    # ============================================================================================
    # class resource: inputs that are small on disk and huge in memory or time
    cls = "resource"
    good_bpe = write_bytes(files / "bpe" / "good.txt.gz", gzip_bytes((tok / "merges.txt").read_bytes()))
    c.add(cls, "tokenize-good-bpe", ["tokenize", "--bpe", c.rel(good_bpe), "a photo of a doctor"], may_succeed=True,
          note="baseline: the toy vocabulary as a CLIP BPE file")
    bomb = gzip_repeat(files / "bpe" / "newlines-128MiB.txt.gz", b"\n" * (1 << 20), 128)
    c.add(cls, "tokenize-gzip-newline-bomb", ["tokenize", "--bpe", c.rel(bomb), "x"],
          note="128 MiB of newlines in 125 KB of gzip: 128 M lines")
    c.add(cls, "tokenizer-export-gzip-newline-bomb", ["tokenizer-export", "--bpe", c.rel(bomb), "--out", "{out}/t"])
    c.add(cls, "toyworld-train-gzip-newline-bomb", ["toyworld", "train", "--bpe", c.rel(bomb), "--out", "{out}/m",
                                                    "--vae-steps", "1", "--denoiser-steps", "1"])
    c.add(cls, "tokenize-bpe-dev-zero", ["tokenize", "--bpe", "/dev/zero", "x"], note="gzopen reads /dev/zero as is")
    c.add(cls, "tokenize-bpe-dev-urandom", ["tokenize", "--bpe", "/dev/urandom", "x"])
    c.add(cls, "tokenize-bpe-truncated", ["tokenize", "--bpe", c.rel(write_bytes(
        files / "bpe" / "truncated.txt.gz", good_bpe.read_bytes()[:5000])), "x"])
    c.add(cls, "tokenize-bpe-plain-text", ["tokenize", "--bpe", "{model}/tokenizer/merges.txt", "x"],
          may_succeed=True, note="not gzip: zlib's transparent mode reads it as is")
    c.add(cls, "tokenize-bpe-few-lines", ["tokenize", "--bpe", c.rel(write_bytes(
        files / "bpe" / "few-lines.txt.gz", gzip_bytes(b"#version\na b\n"))), "x"])
    for name in ["neutral-list", "target-list"]:
        c.add(cls, "train-%s-dev-zero" % name, train("{model}", "--" + name, "/dev/zero"))
    c.add(cls, "report-prompts-dev-zero", ["report", "--model", "{model}", "--prompts", "/dev/zero", "--n", "1",
                                           "--steps", "1", "--quiet"])
    sparse_list = sparse(files / "sparse-3GiB-prompts.txt", 3 << 30, b"a person\n")
    c.add(cls, "train-neutral-list-sparse-3GiB", train("{model}", "--neutral-list", c.rel(sparse_list)))
    sparse_csv = sparse(files / "sparse-3GiB-prompts.csv", 3 << 30, b"prompt\na person\n")
    c.add(cls, "report-prompts-sparse-3GiB-csv", ["report", "--model", "{model}", "--prompts", c.rel(sparse_csv),
                                                  "--n", "1", "--steps", "1", "--quiet"])
    m = c.variant("unet-config-sparse-3GiB", {"unet/config.json": ("symlink", os.path.relpath(
        sparse(files / "sparse-3GiB-config.json", 3 << 30, b"{}"), o / "models" / "unet-config-sparse-3GiB" / "unet"))})
    c.add(cls, "unet-config-sparse-3GiB", gen(m))

    # torch.save zips for import-reference
    numel = 1 << 14  # 64 KiB of float32
    alias = torch_zip(files / "zip" / "alias-40000.pt", alias_pickle(40000, numel), {"0": b"\0" * (4 * numel)})
    c.add(cls, "import-40000-aliases", ["import-reference", c.rel(alias), "--out", "{out}/imported"],
          note="40,000 dict entries viewing one 64 KiB storage: 2.6 GB of copies")
    c.add(cls, "import-40000-aliases-with-model", ["import-reference", c.rel(alias), "--out", "{out}/imported",
                                                   "--model", "{model}"])

    # long single words: the BPE merge loop on one 120 KB word
    r = c.rng
    words = {
        "random-lower": "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(120000)),
        "repeated-a": "a" * 120000,
        "accents": "".join(r.choice("aeiouéèêëàâäôöûüçñœ") for _ in range(60000)),
        "symbols": "".join(r.choice("!#$%&*+-./:;<=>?@^_`|~") for _ in range(60000)),
    }
    for name, word in words.items():
        write_bytes(files / "words" / (name + ".txt.gz"), gzip_bytes(word.encode("utf-8")))
    for name in words:
        arg = "{file:files/words/%s.txt.gz}" % name
        c.add(cls, "tokenize-word-" + name, ["tokenize", "--tokenizer", "{model}/tokenizer", arg],
              may_succeed=True, note="one 120 KB word")
        c.add(cls, "generate-word-" + name, ["generate", "--model", "{model}", "--prompt", arg, "--steps", "1",
                                             "--out", "{out}/o.png", "--quiet"], may_succeed=True)
    c.add(cls, "tokenize-bpe-word-random", ["tokenize", "--bpe", c.rel(good_bpe), "{file:files/words/random-lower.txt.gz}"],
          may_succeed=True)
    c.add(cls, "generate-negative-word-random", ["generate", "--model", "{model}", "--prompt", "x", "--negative",
                                                 "{file:files/words/random-lower.txt.gz}", "--steps", "1",
                                                 "--out", "{out}/o.png", "--quiet"], may_succeed=True)
    c.add(cls, "train-neutral-word-random", train("{model}", "--neutral", "{file:files/words/random-lower.txt.gz}"),
          may_succeed=True)
    write_bytes(files / "words" / "many-words.txt.gz", gzip_bytes(
        " ".join(words["random-lower"][i:i + 7] for i in range(0, 84000, 7)).encode()))
    write_bytes(files / "words" / "many-special-tokens.txt.gz", gzip_bytes(b"<|endoftext|>" * 9000))
    c.add(cls, "tokenize-many-words", ["tokenize", "--tokenizer", "{model}/tokenizer",
                                       "{file:files/words/many-words.txt.gz}"], may_succeed=True, note="12,000 words")
    c.add(cls, "tokenize-many-special-tokens", ["tokenize", "--tokenizer", "{model}/tokenizer",
                                                "{file:files/words/many-special-tokens.txt.gz}"], may_succeed=True)
    # CSV prompt lists with thousands of quote characters
    csvs = {
        "quotes-after-text": 'prompt\na' + '"' * 80000 + "\n",
        "spaces-then-quotes": "prompt\n" + " " * 30000 + '"' * 30000 + "\n",
        "many-quoted-fields": "prompt\n" + '"a""b",' * 5000 + "\n",
        "unterminated": 'prompt\n"' + "x" * 1000 + "\n",
        "odd-quotes": "prompt\n" + '"' * 60001 + "\n",
    }
    for name, text in csvs.items():
        f = write_text(files / "csv" / (name + ".csv"), text)
        c.add(cls, "train-csv-" + name, train("{model}", "--neutral-list", c.rel(f)),
              may_succeed=name != "unterminated", note="prompt list CSV: " + name)
    c.add(cls, "report-csv-quotes-after-text", report("--n", "1", "--prompts",
                                                      "{dir}/files/csv/quotes-after-text.csv"), may_succeed=True)
    many_lines = write_text(files / "many-prompts.txt", "".join("p%d\n" % i for i in range(12000)))
    c.add(cls, "train-12000-prompts", train("{model}", "--neutral-list", c.rel(many_lines)),
          note="12,000 prompts: over the 10,000 the settings allow")

    # ============================================================================================
    # class files: FIFOs, devices, directories, escaping shard paths, long names
    cls = "files"
    fifo = mkfifo(files / "fifo" / "input.safetensors")
    fifo_txt = mkfifo(files / "fifo" / "list.txt")
    fifo_gz = mkfifo(files / "fifo" / "bpe.txt.gz")
    fifo_pt = mkfifo(files / "fifo" / "checkpoint.pt")
    FIFO, FIFO_TXT, FIFO_GZ, FIFO_PT = c.rel(fifo), c.rel(fifo_txt), c.rel(fifo_gz), c.rel(fifo_pt)
    fcases = [
        ("inspect-fifo", ["inspect", FIFO]),
        ("inspect-dev-zero", ["inspect", "/dev/zero"]),
        ("inspect-dev-null", ["inspect", "/dev/null"]),
        ("inspect-directory", ["inspect", "{dir}/files"]),
        ("inspect-missing", ["inspect", "{dir}/no-such-file"]),
        ("inspect-empty-name", ["inspect", ""]),
        ("inspect-proc-file", ["inspect", "/proc/self/status"]),
        ("model-fifo", gen(FIFO)),
        ("model-dev-zero", gen("/dev/zero")),
        ("model-dev-null", gen("/dev/null")),
        ("model-empty-name", gen("")),
        ("model-file-not-model", gen(c.rel(existing_file))),
        ("concept-fifo", gen("{model}", "--concept", FIFO)),
        ("concept-dev-zero", gen("{model}", "--concept", "/dev/zero")),
        ("concept-directory", gen("{model}", "--concept", "{dir}/files")),
        ("concept-empty-item", gen("{model}", "--concept", ",,")),
        ("neutral-list-fifo", train("{model}", "--neutral-list", FIFO_TXT)),
        ("target-list-fifo", train("{model}", "--target-list", FIFO_TXT)),
        ("neutral-list-directory", train("{model}", "--neutral-list", "{dir}/files")),
        ("report-prompts-fifo", ["report", "--model", "{model}", "--prompts", FIFO_TXT, "--n", "1", "--quiet"]),
        ("report-prompts-directory", ["report", "--model", "{model}", "--prompts", "{dir}/files", "--n", "1"]),
        ("tokenize-bpe-fifo", ["tokenize", "--bpe", FIFO_GZ, "x"]),
        ("tokenize-bpe-directory", ["tokenize", "--bpe", "{dir}/files", "x"]),
        ("tokenize-tokenizer-fifo", ["tokenize", "--tokenizer", "{dir}/files/fifo", "x"]),
        ("import-fifo", ["import-reference", FIFO_PT, "--out", "{out}/imported"]),
        ("import-dev-zero", ["import-reference", "/dev/zero", "--out", "{out}/imported"]),
        ("import-directory", ["import-reference", "{dir}/files", "--out", "{out}/imported"]),
        ("resume-checkpoint-fifo", train("{model}", "--checkpoint", FIFO, "--resume")),
        ("resume-checkpoint-directory", train("{model}", "--checkpoint", "{dir}/files", "--resume")),
        ("eval-classifier-fifo", ["eval", "toyworld", "--quick", "--model", "{model}", "--classifier", FIFO]),
        ("eval-classifier-dev-zero", ["eval", "toyworld", "--quick", "--model", "{model}", "--classifier", "/dev/zero"]),
        ("report-classifier-fifo", report("--n", "1", "--classifier", FIFO)),
        ("report-clip-fifo", report("--n", "1", "--clip", "{dir}/files/fifo")),
    ]
    for name, argv in fcases:
        c.add(cls, name, argv)
    # model folders whose parts are FIFOs, devices or directories
    for part in ["unet/config.json", "vae/config.json", "text_encoder/config.json", "tokenizer/vocab.json",
                 "tokenizer/merges.txt", "tokenizer/tokenizer_config.json", "scheduler/scheduler_config.json",
                 "model_index.json", "unet/diffusion_pytorch_model.safetensors", "text_encoder/model.safetensors"]:
        slug = part.replace("/", "-").replace(".", "-")
        for kind, what in [("fifo", ("fifo",)), ("dev-zero", ("symlink", "/dev/zero")), ("dir", ("dir",))]:
            if kind == "dir" and part not in ("unet/config.json", "tokenizer/vocab.json",
                                              "scheduler/scheduler_config.json", "model_index.json",
                                              "unet/diffusion_pytorch_model.safetensors"):
                continue
            m = c.variant("%s-%s" % (slug, kind), {part: what})
            c.add(cls, "model-%s-%s" % (slug, kind), gen(m), note=part + " is " + kind)
    # shard index entries that leave the folder
    outside = o / "outside"
    outside.mkdir()
    os.symlink("../base_model/vae/diffusion_pytorch_model.safetensors", outside / "vae.safetensors")

    def shard_variant(name, weight_map, may=False, note=None):
        text = json.dumps({"metadata": {}, "weight_map": weight_map}) if not isinstance(weight_map, str) else weight_map
        m = c.variant("shard-" + name, {"vae/diffusion_pytorch_model.safetensors": ("remove",),
                                        "vae/diffusion_pytorch_model.safetensors.index.json": text})
        c.add(cls, "shard-" + name, gen(m), may_succeed=may, note=note)

    _, vae_tensors = st_read(o / "base_model" / "vae" / "diffusion_pytorch_model.safetensors")
    vae_names = sorted(vae_tensors)
    shard_variant("absolute-outside", {k: str(outside / "vae.safetensors") for k in vae_names},
                  note="absolute shard path outside the model folder (loads another folder's file)")
    shard_variant("dotdot-outside", {k: "../../../outside/vae.safetensors" for k in vae_names},
                  note="'..' shard path outside the model folder")
    shard_variant("dotdot-base", {k: "../../../base_model/vae/diffusion_pytorch_model.safetensors" for k in vae_names},
                  note="'..' shard path into another model folder")
    shard_variant("etc-passwd", {vae_names[0]: "/etc/passwd"})
    shard_variant("dev-zero", {vae_names[0]: "/dev/zero"})
    shard_variant("fifo", {vae_names[0]: str(fifo)})
    shard_variant("empty-name", {vae_names[0]: ""})
    shard_variant("dot", {vae_names[0]: "."})
    shard_variant("proc", {vae_names[0]: "/proc/self/mem"})
    shard_variant("numbers", {k: 7 for k in vae_names})
    shard_variant("weight-map-array", '{"weight_map": ["a.safetensors"]}')
    shard_variant("array", '[{"weight_map": {}}]')
    shard_variant("deep", '{"weight_map": {"a": ' + deep_array(20000) + "}}")
    shard_variant("2000-shards", {"%d" % i: "%d" % i for i in range(2000)}, note="2,000 distinct missing shards")
    # long output names
    for length in [244, 250, 255, 256, 4000]:
        c.add(cls, "out-name-%d" % length, ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1",
                                            "--quiet", "--out", "{out}/" + "n" * (length - 4) + ".png"],
              may_succeed=length <= 255, note="file name of %d bytes" % length)
    c.add(cls, "out-name-batch-253", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet",
                                      "--batch", "2", "--out", "{out}/" + "n" * 249 + ".png"], may_succeed=True)
    c.add(cls, "train-out-name-250", train("{model}", out="{out}/" + "n" * 238 + ".safetensors"), may_succeed=True,
          note="the checkpoint beside it gets a longer name")
    c.add(cls, "import-out-name-300", ["import-reference", c.rel(small_zip), "--out", "{out}/" + "d" * 300])
    c.add(cls, "out-path-5000", ["generate", "--model", "{model}", "--prompt", "x", "--steps", "1", "--quiet",
                                 "--out", "{out}/" + "/".join(["d" * 200] * 25) + "/o.png"])

    # ============================================================================================
    # class numbers: malformed and out-of-range numbers
    cls = "numbers"
    g_num = [
        ("steps-2^32+2", ["--steps", "4294967298"], False),
        ("steps-2^32+1", ["--steps", "4294967297"], False),
        ("steps-neg-wrap", ["--steps", "-4294967295"], False),
        ("width-2^32+64", ["--width", "4294967360"], False),
        ("height-2^32+64", ["--height", "4294967360"], False),
        ("batch-2^32+1", ["--batch", "4294967297"], False),
        ("clip-skip-2^32", ["--clip-skip", "4294967296"], False),
        ("seed-2^64", ["--seed", "18446744073709551616"], False),
        ("seed-neg", ["--seed", "-5"], True),
        ("seed-hex", ["--seed", "0x10"], False),
        ("cfg-7abc", ["--cfg", "7abc"], False),
        ("cfg-nan", ["--cfg", "nan"], False),
        ("cfg-inf", ["--cfg", "inf"], False),
        ("cfg-neg-inf", ["--cfg", "-inf"], False),
        ("cfg-1e999", ["--cfg", "1e999"], False),
        ("cfg-empty", ["--cfg", ""], False),
        ("cfg-space", ["--cfg", " 7"], True),
        ("cfg-trailing-space", ["--cfg", "7 "], True),
        ("cfg-hex-float", ["--cfg", "0x1p3"], True),
        ("cfg-comma", ["--cfg", "7,5"], False),
        ("cfg-neg", ["--cfg", "-1"], False),
        ("width-neg", ["--width", "-8"], False),
        ("height-neg", ["--height", "-64"], False),
        ("width-hex", ["--width", "0x40"], False),
        ("width-float", ["--width", "64.0"], False),
        ("width-7", ["--width", "7"], False),
        ("steps-space", ["--steps", " 2"], True),
        ("steps-trailing-space", ["--steps", "2 "], False),
        ("steps-plus", ["--steps", "+2"], True),
        ("steps-empty", ["--steps", ""], False),
        ("steps-1e3", ["--steps", "1e3"], False),
        ("steps-0", ["--steps", "0"], False),
        ("steps-1001", ["--steps", "1001"], False),
        ("steps-2^63", ["--steps", "9223372036854775808"], False),
        ("batch-0", ["--batch", "0"], False),
        ("clip-skip-99", ["--clip-skip", "99"], False),
        ("clip-skip-neg", ["--clip-skip", "-1"], False),
        ("ram-strength-nan", ["--concept", "gender", "--ram-strength", "nan"], False),
        ("ram-strength-inf", ["--concept", "gender", "--ram-strength", "inf"], False),
        ("ram-strength-neg-huge", ["--concept", "gender", "--ram-strength", "-1e308"], False),
        ("sam-strength-1e308", ["--concept", "gender", "--sam-strength", "1e308"], False),
        ("ram-strength-7abc", ["--concept", "gender", "--ram-strength", "7abc"], False),
        ("ram-strength-empty", ["--concept", "gender", "--ram-strength", ""], False),
        ("group-weight-nan", ["--concept", "gender", "--group-weight", "gender=nan"], False),
        ("group-weight-1e999", ["--concept", "gender", "--group-weight", "gender=1e999"], False),
        ("group-weight-empty", ["--concept", "gender", "--group-weight", "gender="], False),
        ("group-weight-7abc", ["--concept", "gender", "--group-weight", "gender=7abc"], False),
        ("group-weight-no-eq", ["--concept", "gender", "--group-weight", "gender"], False),
        ("group-weight-inf", ["--concept", "gender", "--group-weight", "gender=inf"], False),
    ]
    for name, more, may in g_num:
        argv = ["generate", "--model", "{model}", "--prompt", "x", "--out", "{out}/o.png", "--quiet"]
        if "--steps" not in more:
            argv += ["--steps", "1"]
        c.add(cls, "generate-" + name, argv + more, may_succeed=may, note="generate " + " ".join(more))
    t_num = [
        ("steps-2^32+2", ["--steps", "4294967298"], False),
        ("steps-0", ["--steps", "0"], False),
        ("steps-7abc", ["--steps", "7abc"], False),
        ("steps-1e999", ["--steps", "1e999"], False),
        ("ram-lr-nan", ["--ram-lr", "nan"], False),
        ("ram-lr-7abc", ["--ram-lr", "7abc"], False),
        ("sam-lr-inf", ["--sam-lr", "inf"], False),
        ("lambda-neg", ["--lambda", "-1"], False),
        ("lambda-nan", ["--lambda", "nan"], False),
        ("w-tar-inf", ["--w-tar", "inf"], False),
        ("trajectory-cfg-nan", ["--trajectory-cfg", "nan"], False),
        ("resolution-7", ["--resolution", "7"], False),
        ("resolution-2^32+64", ["--resolution", "4294967360"], False),
        ("resolution-empty", ["--resolution", ""], False),
        ("seed-neg", ["--seed", "-5"], True),
        ("seed-2^64", ["--seed", "18446744073709551616"], False),
        ("batch-2^32+1", ["--batch", "4294967297"], False),
        ("batch-0", ["--batch", "0"], False),
        ("trajectory-steps-2^32+2", ["--trajectory-steps", "4294967298"], False),
        ("checkpoint-every-0", ["--checkpoint-every", "0"], True),
        ("checkpoint-every-neg", ["--checkpoint-every", "-1"], True),
        ("max-step-neg", ["--max-trajectory-step", "-1"], False),
        ("kind-weird", ["--kind", "weird"], False),
        ("timestep-weird", ["--timestep", "weird"], False),
        ("init-weird", ["--init", "weird"], False),
        ("preset-unknown", ["--preset", "nope"], False),
    ]
    for name, more, may in t_num:
        argv = train()
        for i in range(0, len(more), 2):
            if more[i] in argv:
                j = argv.index(more[i])
                del argv[j:j + 2]
        c.add(cls, "train-" + name, argv[:-2] + more + argv[-2:], may_succeed=may, note="train-concept " + " ".join(more))
    r_num = [("n-0", ["--n", "0"]), ("n-neg", ["--n", "-1"]), ("n-2^32+1", ["--n", "4294967297"]),
             ("n-1e3", ["--n", "1e3"]), ("n-abc", ["--n", "abc"]), ("n-1001", ["--n", "1001"]),
             ("steps-2^32+1", ["--n", "1", "--steps", "4294967297"]), ("cfg-nan", ["--n", "1", "--cfg", "nan"]),
             ("cfg-7abc", ["--n", "1", "--cfg", "7abc"]), ("seed-neg", ["--n", "1", "--seed", "-1"]),
             ("ram-strength-nan", ["--n", "1", "--concept", "gender", "--ram-strength", "nan"]),
             ("scheduler-unknown", ["--n", "1", "--scheduler", "nope"])]
    for name, more in r_num:
        argv = report(*more)
        if "--steps" in more:
            j = argv.index("--steps")
            del argv[j:j + 2]
            argv += ["--steps", more[more.index("--steps") + 1]]
        c.add(cls, "report-" + name, argv, may_succeed=name == "seed-neg", note="report " + " ".join(more))
    e_num = [("images-0", ["--images-per-prompt", "0"]), ("images-neg", ["--images-per-prompt", "-1"]),
             ("images-abc", ["--images-per-prompt", "abc"]), ("images-1e3", ["--images-per-prompt", "1e3"]),
             ("images-2^32", ["--images-per-prompt", "4294967296"]),
             ("images-1e8", ["--images-per-prompt", "100000000"]),
             ("unsafe-0", ["--unsafe-images-per-prompt", "0"]), ("seed-abc", ["--seed", "abc"])]
    for name, more in e_num:
        c.add(cls, "eval-" + name, ["eval", "toyworld", "--quick", "--model", "{model}", "--quiet"] + more,
              note="eval " + " ".join(more))
    b_num = [("repeat-0", ["--load-only", "--repeat", "0"], True), ("repeat-0-run", ["--steps", "1", "--repeat", "0"], False),
             ("repeat-neg", ["--steps", "1", "--repeat", "-1"], False),
             ("repeat-abc", ["--repeat", "abc"], False), ("repeat-2^40", ["--repeat", "1099511627776"], False),
             ("threads-0", ["--threads", "0"], False), ("threads-neg", ["--threads", "-1"], False),
             ("threads-abc", ["--threads", "abc"], False), ("width-abc", ["--width", "abc"], False),
             ("steps-abc", ["--steps", "abc"], False), ("cfg-abc", ["--cfg", "abc"], False),
             ("unet-only-width-100000", ["--unet-only", "--width", "100000", "--height", "100000", "--repeat", "1"], False),
             ("train-step-k-1000", ["--train-step", "--k", "1000", "--repeat", "1"], False),
             ("train-step-k-neg", ["--train-step", "--k", "-1", "--repeat", "1"], False),
             ("concept-overhead-repeat-0", ["--concept-overhead", "--steps", "1", "--repeat", "0"], False)]
    for name, more, may in b_num:
        c.add(cls, "benchmark-" + name, ["benchmark", "--model", "{model}"] + more, may_succeed=may,
              note="benchmark " + " ".join(more))
    c.add(cls, "toyworld-classifier-steps-abc", ["toyworld", "classifier", "--out", "{out}/c.safetensors",
                                                 "--steps", "abc"])
    c.add(cls, "toyworld-classifier-steps-neg", ["toyworld", "classifier", "--out", "{out}/c.safetensors",
                                                 "--steps", "-1", "--test-count", "0"])
    c.add(cls, "toyworld-train-batch-2^32", ["toyworld", "train", "--out", "{out}/m", "--tokenizer",
                                             "{model}/tokenizer", "--batch", "4294967296", "--vae-steps", "1",
                                             "--denoiser-steps", "1"])
    c.add(cls, "toyworld-concepts-trajectory-0", ["toyworld", "concepts", "--model", "{model}", "--out", "{out}/c",
                                                  "--trajectory-steps", "0", "--steps", "1", "--only", "gender-man"])

    # ============================================================================================
    # class injection: text that forges generation parameters in the PNG
    cls = "injection"
    fake = "Steps: 999, Sampler: x, Size: 4096x4096"
    inj = {
        "name-newline": {"name": "x\n" + fake},
        "name-quote": {"name": 'x", ' + fake + ', y: "z'},
        "name-newline-quote": {"name": 'x"\n' + fake + ', "'},
        "group-newline": {"group": "g\n" + fake},
        "group-quote": {"group": 'g", ' + fake + ', y: "z'},
        "name-semicolon": {"name": "x [RAM 999% SAM 999%]; y"},
    }
    for name, meta in inj.items():
        f = concept("inject-" + name, meta=meta)
        c.add(cls, "concept-" + name, ["generate", "--model", "{model}", "--concept", c.rel(f), "--steps", "1",
                                       "--prompt", "x", "--out", "{out}/p.png", "--quiet"], may_succeed=True,
              check={"type": "png-parameters", "file": "{out}/p.png", "mode": "strict", "steps": 1, "size": "64x64"},
              note="concept " + list(meta)[0] + " " + json.dumps(list(meta.values())[0]))
    c.add(cls, "train-then-generate-name-newline",
          ["generate", "--model", "{model}", "--concept", "{out}/c.safetensors", "--steps", "1", "--prompt", "x",
           "--out", "{out}/p.png", "--quiet"], may_succeed=True,
          pre=[["train-concept", "--model", "{model}", "--name", "x\n" + fake, "--group", "g", "--kind", "fairness",
                "--neutral", "a person", "--target", "a man", "--steps", "1", "--trajectory-steps", "2",
                "--max-trajectory-step", "0", "--quiet", "--out", "{out}/c.safetensors"]],
          check={"type": "png-parameters", "file": "{out}/p.png", "mode": "strict", "steps": 1, "size": "64x64"},
          note="train-concept --name with a newline and a settings line, then generate with it")
    c.add(cls, "train-then-generate-group-quote",
          ["generate", "--model", "{model}", "--concept", "{out}/c.safetensors", "--steps", "1", "--prompt", "x",
           "--out", "{out}/p.png", "--quiet"], may_succeed=True,
          pre=[["train-concept", "--model", "{model}", "--name", "n", "--group", 'g", ' + fake + ', y: "z',
                "--kind", "fairness", "--neutral", "a person", "--target", "a man", "--steps", "1",
                "--trajectory-steps", "2", "--max-trajectory-step", "0", "--quiet", "--out", "{out}/c.safetensors"]],
          check={"type": "png-parameters", "file": "{out}/p.png", "mode": "strict", "steps": 1, "size": "64x64"})
    for name, more in [("prompt-newline", ["--prompt", "x\n" + fake]),
                       ("negative-newline", ["--prompt", "x", "--negative", "y\n" + fake]),
                       ("prompt-cr", ["--prompt", "x\r" + fake])]:
        c.add(cls, "generate-" + name, ["generate", "--model", "{model}", "--steps", "1", "--out", "{out}/p.png",
                                        "--quiet"] + more, may_succeed=True,
              check={"type": "png-parameters", "file": "{out}/p.png", "mode": "last", "steps": 1, "size": "64x64"})
    c.add(cls, "generate-fixed-member-newline", ["generate", "--model", "{model}", "--steps", "1", "--out",
                                                 "{out}/p.png", "--quiet", "--prompt", "x", "--concept",
                                                 c.rel(cdir / "inject-name-newline.safetensors"), "--policy", "fixed",
                                                 "--fixed-member", "x\n" + fake], may_succeed=True,
          check={"type": "png-parameters", "file": "{out}/p.png", "mode": "strict", "steps": 1, "size": "64x64"})

    # ============================================================================================
    # class args: malformed command lines
    cls = "args"
    args = [
        ("no-args", [], False),
        ("unknown-subcommand", ["frobnicate"], False),
        ("empty-subcommand", [""], False),
        ("help", ["--help"], True),
        ("version", ["--version"], True),
        ("generate-unknown-option", ["generate", "--model", "{model}", "--prompt", "x", "--frob", "1"], False),
        ("generate-missing-value", ["generate", "--model", "{model}", "--prompt", "x", "--steps"], False),
        # Without --model: the embedded default model.
        ("generate-default-model", ["generate", "--prompt", "x", "--steps", "1", "--out", "{out}/d.png", "--quiet"], True),
        ("generate-missing-prompt", ["generate", "--model", "{model}", "--steps", "1"], False),
        ("generate-value-is-option", ["generate", "--model", "{model}", "--prompt", "--steps", "1", "--out",
                                      "{out}/o.png", "--quiet"], True),
        ("generate-positional", ["generate", "stray", "--model", "{model}", "--prompt", "x", "--steps", "1",
                                 "--out", "{out}/o.png", "--quiet"], False),
        ("generate-double-dash", ["generate", "--", "--model", "{model}"], False),
        ("generate-single-dash", ["generate", "-model", "{model}"], False),
        ("generate-scheduler-unknown", gen("{model}", "--scheduler", "nope"), False),
        ("generate-device-unknown", gen("{model}", "--device", "tpu"), False),
        ("generate-device-cuda-99", gen("{model}", "--device", "cuda:99"), False),
        ("generate-precision-unknown", gen("{model}", "--precision", "fp8"), False),
        ("generate-policy-unknown", gen("{model}", "--concept", "gender", "--policy", "nope"), False),
        ("generate-fixed-member-unknown", gen("{model}", "--concept", "gender", "--policy", "fixed",
                                              "--fixed-member", "nobody"), False),
        ("generate-compare-without-concept", gen("{model}", "--compare"), False),
        ("generate-variant-missing", gen("{model}", "--variant", "fp16"), False),
        ("generate-variant-traversal", gen("{model}", "--variant", "../../x"), False),
        ("generate-config-from-missing", gen("{model}", "--config-from", "{dir}/nowhere"), True),
        ("generate-concept-unknown", gen("{model}", "--concept", "no such concept"), False),
        # --help anywhere shows the help and succeeds.
        ("generate-help-later", ["generate", "--model", "{model}", "--help"], True),
        ("inspect-no-file", ["inspect"], False),
        ("inspect-two-files", ["inspect", "a", "b"], False),
        ("tokenize-no-tokenizer", ["tokenize", "x"], False),
        ("tokenize-no-text", ["tokenize", "--tokenizer", "{model}/tokenizer"], False),
        ("tokenizer-export-no-out", ["tokenizer-export", "--tokenizer", "{model}/tokenizer"], False),
        ("train-no-args", ["train-concept"], False),
        ("train-no-out", ["train-concept", "--model", "{model}", "--preset", "gender-man", "--steps", "1"], False),
        ("import-no-file", ["import-reference", "--out", "{out}/x"], False),
        ("import-not-zip", ["import-reference", c.rel(existing_file), "--out", "{out}/x"], False),
        ("eval-no-name", ["eval"], False),
        ("eval-other-name", ["eval", "imagenet"], False),
        ("toyworld-no-sub", ["toyworld"], False),
        ("toyworld-unknown-sub", ["toyworld", "frob"], False),
        ("report-prompt-set-unknown", ["report", "--model", "{model}", "--prompt-set", "nope"], False),
        ("devices-extra", ["devices", "--frob"], False),
        # Without --model: the embedded default model.
        ("benchmark-no-model", ["benchmark", "--load-only", "--repeat", "1"], True),
    ]
    for name, argv, may in args:
        c.add(cls, name, argv, may_succeed=may)

    # more import-reference files (hand-built torch.save zips)
    cls = "import"
    st4 = {"0": b"\0" * 16}
    imports = {
        "global-os-system": P().glob("os", "system").string("true").mark().tuple().reduce().stop().b,
        "truncated": P().empty_dict().b,
        "legacy": b"\x80\x02\x8a\x0a" + b"\0" * 20,
        "list-root": P().op(b"]").stop().b,
        "int-key": P().empty_dict().int(5).tensor("0", 4, [4], [1]).setitem().stop().b,
        "view-outside": state_dict_pickle([("a", "0", 4, [8], [1], 0, "FloatStorage")]),
        "negative-size": state_dict_pickle([("a", "0", 4, [-1], [1], 0, "FloatStorage")]),
        "negative-offset": state_dict_pickle([("a", "0", 4, [1], [1], -3, "FloatStorage")]),
        "stride-zero": state_dict_pickle([("a", "0", 4, [1000000], [0], 0, "FloatStorage")]),
        "zero-huge": state_dict_pickle([("a", "0", 4, [0, 2**62, 2**62], [1, 1, 1], 0, "FloatStorage")]),
        "zero-huge-2": state_dict_pickle([("a", "0", 4, [2**40, 0, 2**40], [0, 0, 0], 0, "FloatStorage")]),
        "numel-mismatch": state_dict_pickle([("a", "0", 2**40, [1], [1], 0, "FloatStorage")]),
        "storage-type": state_dict_pickle([("a", "0", 4, [4], [1], 0, "ComplexFloatStorage")]),
        "mixed-storage-types": state_dict_pickle([("a", "0", 4, [4], [1], 0, "FloatStorage"),
                                                  ("b", "0", 16, [16], [1], 0, "ByteStorage")]),
        "missing-record": state_dict_pickle([("a", "9", 4, [4], [1], 0, "FloatStorage")]),
        "memo-before-put": P().get(7).stop().b,
        "setitems-odd": P().empty_dict().mark().string("a").setitems().stop().b,
        "stop-early": P().empty_dict().empty_dict().stop().b,
        "deep-marks": bytes(P().op(b"(" * 30000).b) + b".",
        "deep-tuples": bytes(P().op(b")" + b"\x85" * 30000).b) + b".",
        "long1-wide": P().op(b"\x8a\x09" + b"\0" * 9).stop().b,
        "wrong-names": state_dict_pickle([("a", "0", 4, [4], [1], 0, "FloatStorage")]),
        "ram-1d": state_dict_pickle([("controlnet.fc1.weight", "0", 4, [4], [1], 0, "FloatStorage"),
                                     ("controlnet_residual.fc2.weight", "0", 4, [4], [1], 0, "FloatStorage")]),
        "ram-wrong-rows": state_dict_pickle([("controlnet.fc1.weight", "0", 4, [2, 2], [2, 1], 0, "FloatStorage"),
                                             ("controlnet_residual.fc2.weight", "0", 4, [2, 2], [2, 1], 0,
                                              "FloatStorage")]),
    }
    for name, pk in imports.items():
        f = torch_zip(files / "zip" / (name + ".pt"), pk, st4)
        c.add(cls, name, ["import-reference", c.rel(f), "--out", "{out}/imported"], note="torch zip: " + name)
    f = torch_zip(files / "zip" / "big-endian.pt", state_dict_pickle([("a", "0", 4, [4], [1], 0, "FloatStorage")]),
                  st4, byteorder=b"big")
    c.add(cls, "big-endian", ["import-reference", c.rel(f), "--out", "{out}/imported"])
    f = torch_zip(files / "zip" / "deflated.pt", state_dict_pickle([("a", "0", 4, [4], [1], 0, "FloatStorage")]),
                  st4, compress=zipfile.ZIP_DEFLATED)
    c.add(cls, "deflated-pickle", ["import-reference", c.rel(f), "--out", "{out}/imported"])
    f = torch_zip(files / "zip" / "two-pickles.pt", P().empty_dict().stop().b, st4,
                  extra_records={"other/data.pkl": bytes(P().empty_dict().stop().b)})
    c.add(cls, "two-pickles", ["import-reference", c.rel(f), "--out", "{out}/imported"])
    zbytes = bytearray(small_zip.read_bytes())
    crc_bad = bytearray(zbytes)
    i = crc_bad.find(b"PK\x01\x02")
    crc_bad[i + 16] ^= 0xFF
    c.add(cls, "crc-mismatch", ["import-reference", c.rel(write_bytes(files / "zip" / "crc.pt", bytes(crc_bad))),
                                "--out", "{out}/imported"])
    eocd = bytearray(zbytes)
    j = eocd.rfind(b"PK\x05\x06")
    eocd[j + 10:j + 12] = b"\xff\xff"
    c.add(cls, "eocd-count-saturated", ["import-reference", c.rel(write_bytes(files / "zip" / "eocd-count.pt",
                                                                               bytes(eocd))), "--out", "{out}/x"])
    eocd2 = bytearray(zbytes)
    eocd2[j + 16:j + 20] = b"\xff\xff\xff\xff"
    z64 = bytes(eocd2[:j]) + b"PK\x06\x07" + struct.pack("<IQI", 0, 2**63, 1) + bytes(eocd2[j:])
    c.add(cls, "zip64-locator-far", ["import-reference", c.rel(write_bytes(files / "zip" / "zip64-far.pt", z64)),
                                     "--out", "{out}/x"])
    rec = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, 2**62, 2**62, 2**40, 2**40)
    z64b = bytes(eocd2[:j]) + rec + b"PK\x06\x07" + struct.pack("<IQI", 0, j, 1) + bytes(eocd2[j:])
    c.add(cls, "zip64-huge-directory", ["import-reference", c.rel(write_bytes(files / "zip" / "zip64-huge.pt", z64b)),
                                        "--out", "{out}/x"])
    c.add(cls, "zip-truncated", ["import-reference", c.rel(write_bytes(files / "zip" / "truncated.pt",
                                                                       bytes(zbytes[:len(zbytes) // 2]))),
                                 "--out", "{out}/x"])
    c.add(cls, "zip-empty", ["import-reference", c.rel(write_bytes(files / "zip" / "empty.pt", b"")), "--out", "{out}/x"])
    c.add(cls, "zip-only-eocd", ["import-reference", c.rel(write_bytes(files / "zip" / "only-eocd.pt",
                                                                       b"PK\x05\x06" + b"\0" * 18)),
                                 "--out", "{out}/x"], may_succeed=False)

    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--model", default=str(REPO / "resources" / "toyworld" / "model"),
                    help="the toy model folder to copy into OUTDIR/base_model")
    ap.add_argument("--concept", default=str(REPO / "resources" / "toyworld" / "concepts" / "gender-man.safetensors"),
                    help="a good concept module of that model (variants are made from it)")
    a = ap.parse_args()
    c = build(a.outdir, a.model, a.concept)
    cases = {"version": 1, "cases": c.cases}
    (c.out / "cases.json").write_text('{"version": 1, "cases": [\n' +
                                      ",\n".join(json.dumps(case, ensure_ascii=True) for case in c.cases) + "\n]}\n")
    classes = {}
    for case in c.cases:
        classes[case["class"]] = classes.get(case["class"], 0) + 1
    blocks = 0
    for root, dirs, names in os.walk(c.out):
        for name in names + dirs:
            p = os.path.join(root, name)
            st = os.lstat(p)
            blocks += st.st_blocks
    print("wrote %d cases to %s (%s); %.1f MiB on disk" % (
        len(c.cases), c.out / "cases.json", ", ".join("%s %d" % kv for kv in sorted(classes.items())),
        blocks * 512 / 2**20))


if __name__ == "__main__":
    main()
