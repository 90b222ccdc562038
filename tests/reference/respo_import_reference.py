"""torch.save checkpoints in the RespoDiff reference layout, good and bad, for the C++ importer.

  --out DIR   writes into DIR
    good files (each with <name>_expected.safetensors: the tensors as contiguous copies, plus
    ram.<i> / sam.<i> = column i of controlnet.fc1.weight / controlnet_residual.fc2.weight viewed as
    (1, C, H, W), in float32):
      small.pt       hShape (8, 2, 2): fc1 [32, 10] (an nn.Parameter), fc2 [32, 10], an unrelated
                     bfloat16 tensor; an OrderedDict carrying `_metadata` like a module's state_dict
      strided.pt     fc1 a transposed view, fc2 a row slice at a storage offset, two more views
                     (one sharing fc2's storage, one permuted 3-D)
      full.pt        the full-size layout [1280*8*8, 10]
      half.pt        small's weights in float16 (the importer converts to float32)
      protocol4.pt   small.pt's dict saved with pickle protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL)
      zip64.pt       small.pt repacked with zip64 records, as torch writes for files over 4 GiB
      plain.pt       a dict of tensors without the reference names
    bad files, each refused with its own message:
      malicious.pt   an object whose __reduce__ runs os.system("echo pwned > DIR/pwned.txt")
      set.pt         a dict holding a Python set
      custom.pt      a dict holding an instance of a custom class
      int_entry.pt   a dict holding an int next to the tensors
      expanded.pt    a broadcast view (stride 0) that claims more elements than its storage
      inst.pt        a hand-made pickle using the INST opcode
      legacy.pt      the pre-1.6 (non-zip) torch.save format
      deflated.pt    small.pt repacked with deflate compression
      truncated.pt   small.pt cut in half
      missing_storage.pt  small.pt without one of its data/ records
      corrupt.pt     small.pt with one data byte changed (CRC mismatch)
The malicious file is never loaded here; DIR/pwned.txt is removed first, so its presence after the
C++ test would mean the C++ reader ran the payload.
"""
import argparse
import collections
import io
import os
import pathlib
import struct
import zipfile
import zlib

import torch
from safetensors.torch import save_file

FC1 = "controlnet.fc1.weight"
FC2 = "controlnet_residual.fc2.weight"


def expected(tensors, h_shape):
    out = {name: t.detach().contiguous().clone() for name, t in tensors.items()}
    for i in range(tensors[FC1].shape[1]):
        out[f"ram.{i}"] = tensors[FC1][:, i].float().reshape(1, *h_shape).contiguous().clone()
        out[f"sam.{i}"] = tensors[FC2][:, i].float().reshape(1, *h_shape).contiguous().clone()
    return out


def save_good(out, name, tensors, h_shape, **save_args):
    torch.save(tensors, out / f"{name}.pt", **save_args)
    save_file(expected(tensors, h_shape), str(out / f"{name}_expected.safetensors"))
    # torch's weights_only unpickler lacks protocol 4's FRAME; this file was written just above
    back = torch.load(out / f"{name}.pt", weights_only="pickle_protocol" not in save_args)
    assert list(back) == list(tensors) and all(torch.equal(back[k], tensors[k]) for k in tensors), name


def small_dict():
    g = torch.Generator().manual_seed(7)
    d = collections.OrderedDict()
    d[FC1] = torch.nn.Parameter(torch.randn(32, 10, generator=g))
    d[FC2] = torch.randn(32, 10, generator=g)
    d["controlnet.other.bias"] = torch.randn(7, generator=g).to(torch.bfloat16)
    d._metadata = collections.OrderedDict({"": {"version": 1}, "controlnet": {"version": 1}})
    return d


def strided_dict():
    g = torch.Generator().manual_seed(8)
    base = torch.randn(10, 32, generator=g)
    big = torch.randn(40, 10, generator=g)
    d = collections.OrderedDict()
    d[FC1] = base.t()                       # stride (1, 32)
    d[FC2] = big[5:37]                      # storage offset 50
    d["other.column"] = big[::3, 2]         # offset 2, stride 30, shares fc2's storage
    d["other.permuted"] = torch.randn(2, 3, 4, generator=g).permute(2, 0, 1)
    assert not d[FC1].is_contiguous() and d[FC2].storage_offset() == 50
    return d


def records(path):
    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def repack(src, dst, compression=zipfile.ZIP_STORED, skip=()):
    with zipfile.ZipFile(dst, "w", compression=compression) as z:
        for name, data in records(src):
            if name not in skip:
                z.writestr(name, data)


def write_zip64(src, dst):
    """Every size and offset in zip64 extra fields, with the zip64 end record and its locator."""
    body, central = io.BytesIO(), io.BytesIO()
    entries = records(src)
    for name, data in entries:
        offset, raw, crc = body.tell(), name.encode(), zlib.crc32(data)
        body.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw), 20))
        body.write(raw + struct.pack("<HHQQ", 1, 16, len(data), len(data)) + data)
        central.write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF,
                                  0xFFFFFFFF, len(raw), 28, 0, 0, 0, 0, 0xFFFFFFFF))
        central.write(raw + struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset))
    cd_offset, cd = body.tell(), central.getvalue()
    body.write(cd)
    end64 = body.tell()
    body.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries), len(cd), cd_offset))
    body.write(struct.pack("<IIQI", 0x07064B50, 0, end64, 1))
    body.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    dst.write_bytes(body.getvalue())
    with zipfile.ZipFile(dst) as z:
        assert [(i.filename, z.read(i)) for i in z.infolist()] == entries


class Pwn:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (os.system, (f"echo pwned > {self.target}",))


class Custom:
    def __init__(self):
        self.threshold = 0.5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    out = pathlib.Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    pwned = out / "pwned.txt"
    pwned.unlink(missing_ok=True)

    small = small_dict()
    save_good(out, "small", small, (8, 2, 2))
    save_good(out, "strided", strided_dict(), (8, 2, 2))
    g = torch.Generator().manual_seed(9)
    full = {FC1: torch.randn(1280 * 8 * 8, 10, generator=g), FC2: torch.randn(1280 * 8 * 8, 10, generator=g)}
    save_good(out, "full", full, (1280, 8, 8))
    save_good(out, "half", {k: v.detach().half() for k, v in list(small.items())[:2]}, (8, 2, 2))
    save_good(out, "protocol4", small, (8, 2, 2), pickle_protocol=4)
    torch.save({"unet.conv.weight": torch.ones(2, 3)}, out / "plain.pt")
    write_zip64(out / "small.pt", out / "zip64.pt")
    assert torch.equal(torch.load(out / "zip64.pt", weights_only=True)[FC2], small[FC2])

    w = torch.zeros(32, 10)
    torch.save({FC1: w, "payload": Pwn(pwned)}, out / "malicious.pt")
    torch.save({FC1: w, "tags": {"a", "b"}}, out / "set.pt")
    torch.save({FC1: w, "config": Custom()}, out / "custom.pt")
    torch.save({FC1: w, "epoch": 3}, out / "int_entry.pt")
    torch.save({FC1: torch.zeros(1).expand(5)}, out / "expanded.pt")
    torch.save({FC1: w}, out / "legacy.pt", _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(out / "inst.pt", "w") as z:
        z.writestr("inst/data.pkl", b"\x80\x02(X\x04\x00\x00\x00echoios\nsystem\n.")
        z.writestr("inst/version", b"3\n")
    repack(out / "small.pt", out / "deflated.pt", zipfile.ZIP_DEFLATED)
    data = (out / "small.pt").read_bytes()
    (out / "truncated.pt").write_bytes(data[: len(data) // 2])
    repack(out / "small.pt", out / "missing_storage.pt", skip=("small/data/1",))
    with zipfile.ZipFile(out / "small.pt") as z:
        info = z.getinfo("small/data/0")
    local = info.header_offset
    name_len, extra_len = struct.unpack("<HH", data[local + 26: local + 30])
    at = local + 30 + name_len + extra_len + 5
    (out / "corrupt.pt").write_bytes(data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:])
    assert not pwned.exists()
    print(f"respo_import: wrote {len(list(out.glob('*.pt')))} checkpoints to {out}")


if __name__ == "__main__":
    main()
