"""Safetensors interoperability, both directions, against the Python `safetensors` package.

  write DIR   writes DIR/python_written.safetensors and DIR/python_manifest.json (hex bytes of every
              tensor), for the C++ test to read back bit-exactly.
  verify DIR  reads DIR/cpp_written.safetensors and DIR/cpp_rewritten.safetensors (written by the
              C++ test) with safetensors and checks every tensor's bytes and the metadata.
"""
import json
import pathlib
import sys

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U64": torch.uint64, "U32": torch.uint32, "U16": torch.uint16, "U8": torch.uint8, "BOOL": torch.bool,
}
METADATA = {"format": "pt", "note": "café ✓ 漢字 \"quoted\"", "empty": ""}


def raw_bytes(t: torch.Tensor) -> bytes:
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def make_tensors() -> dict:
    g = torch.Generator().manual_seed(1234)
    out = {}
    shapes = [(3, 5), (7,), (2, 3, 4), (), (0, 3), (1, 1, 1, 9)]
    for name, dtype in DTYPES.items():
        for k, shape in enumerate(shapes):
            n = 1
            for s in shape:
                n *= s
            if dtype == torch.bool:
                t = torch.randint(0, 2, (n,), generator=g).to(torch.bool)
            elif dtype.is_floating_point:
                t = (torch.randn(n, generator=g, dtype=torch.float64) * 10).to(dtype)
            else:
                t = torch.randint(0, 120, (n,), generator=g, dtype=torch.int64).to(dtype)
            out[f"{name.lower()}.tensor_{k}"] = t.reshape(shape)
    out["special.float_values"] = torch.tensor([float("inf"), float("-inf"), -0.0, 1e-45, 3.4e38])
    return out


def write(folder: pathlib.Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tensors = make_tensors()
    save_file(tensors, str(folder / "python_written.safetensors"), metadata=METADATA)
    manifest = {
        "metadata": METADATA,
        "tensors": {
            name: {"dtype": [k for k, v in DTYPES.items() if v == t.dtype][0], "shape": list(t.shape),
                   "hex": raw_bytes(t).hex()}
            for name, t in tensors.items()
        },
    }
    (folder / "python_manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {len(tensors)} tensors")


def check_file(path: pathlib.Path, manifest: dict) -> int:
    failures = 0
    loaded = load_file(str(path))
    expected = manifest["tensors"]
    if set(loaded) != set(expected):
        print(f"{path.name}: tensor names differ: {sorted(set(loaded) ^ set(expected))}")
        failures += 1
    for name, spec in expected.items():
        t = loaded.get(name)
        if t is None:
            continue
        if DTYPES[spec["dtype"]] != t.dtype or list(t.shape) != spec["shape"]:
            print(f"{path.name}: {name}: dtype/shape {t.dtype}{list(t.shape)} != {spec['dtype']}{spec['shape']}")
            failures += 1
        elif raw_bytes(t).hex() != spec["hex"]:
            print(f"{path.name}: {name}: bytes differ")
            failures += 1
    with safe_open(str(path), framework="pt") as f:
        if f.metadata() != manifest["metadata"]:
            print(f"{path.name}: metadata {f.metadata()} != {manifest['metadata']}")
            failures += 1
    print(f"{path.name}: {len(expected)} tensors checked, {failures} failures")
    return failures


def verify(folder: pathlib.Path) -> None:
    failures = check_file(folder / "cpp_written.safetensors",
                          json.loads((folder / "cpp_manifest.json").read_text(encoding="utf-8")))
    failures += check_file(folder / "cpp_rewritten.safetensors",
                           json.loads((folder / "python_manifest.json").read_text(encoding="utf-8")))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    command, where = sys.argv[1], pathlib.Path(sys.argv[2])
    {"write": write, "verify": verify}[command](where)
