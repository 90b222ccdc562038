#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/seeds/<target>/): a few small valid inputs each,
so the fuzzer starts inside every format instead of guessing its magic bytes.
Run from the repository root with the reference environment's Python (torch for the .pt seeds):
    python tests/fuzz/make_seeds.py
"""
import gzip, io, json, os, struct, sys, zlib, zipfile
from pathlib import Path

root = Path(__file__).resolve().parents[2]
seeds = root / "tests" / "fuzz" / "seeds"


def put(target, name, data):
    d = seeds / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def png(width, height, text=None, color=2):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\0" + bytes((x * 40 + y * 7) % 256 for x in range(width * 3)) for y in range(height))
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color, 0, 0, 0))
    for k, v in (text or {}).items():
        out += chunk(b"tEXt", k.encode("latin-1") + b"\0" + v.encode("latin-1"))
    out += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return out


params = ("a photo of a doctor, smiling\nNegative prompt: blurry\n"
          "Steps: 20, Sampler: DDIM, CFG scale: 7.5, Seed: 42, Size: 64x64, Model: toyworld, "
          "RespoDiff concepts: \"a woman@100%/100%, a man@50%/100%\"")
f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 0.25)

# safetensors
put("safetensors", "one.safetensors", safetensors({"w": ("F32", [2, 2], f32)}, {"format": "pt"}))
put("safetensors", "mixed.safetensors", safetensors({"a": ("F16", [2], b"\0<\0<"), "b": ("BF16", [1, 1], b"\x80?"),
                                                     "c": ("I64", [1], struct.pack("<q", 7)), "e": ("F32", [0, 3], b"")}))
# png
put("png", "plain.png", png(4, 3))
put("png", "parameters.png", png(2, 2, {"parameters": params}))
put("png", "gray.png", png(3, 2, color=0))
# parameters text
put("parameters", "full.txt", params)
put("parameters", "short.txt", "a cat\nSteps: 4, Seed: 1, Size: 64x64")
put("parameters", "quoted.txt", 'a "quoted", prompt\nSteps: 8, Sampler: "Euler a", Seed: 3, Size: 0x0, '
    'RespoDiff groups: "gender=balanced"')
# tokenizer prompts
put("tokenizer", "prompt.txt", "a photo of the doctor and the nurse, 4k!! <|endoftext|> café")
put("tokenizer", "long.txt", "the " * 100)
# tokenizer folder: the shipped tokenizer cut down to a few entries
tok = root / "resources" / "toyworld" / "model" / "tokenizer"
vocab = json.loads((tok / "vocab.json").read_text())
small = {k: v for k, v in list(vocab.items())[:300]}
small.update({"<|startoftext|>": len(small), "<|endoftext|>": len(small) + 1})
merges = (tok / "merges.txt").read_text().splitlines()[:40]
put("tokenizer_folder", "small.txt", json.dumps(small) + "\n@@\n" + "\n".join(merges) + "\n@@\n" +
    (tok / "tokenizer_config.json").read_text() + "\n@@\n" + (tok / "special_tokens_map.json").read_text())
put("tokenizer_folder", "no_configs.txt", json.dumps(small) + "\n@@\n" + "\n".join(merges))
# 'J': tokenizer.json alone (transformers 5), merges as pairs, with its config.
fast = {"model": {"type": "BPE", "vocab": small, "merges": [m.split(" ") for m in merges if not m.startswith("#")],
                  "end_of_word_suffix": "</w>"},
        "added_tokens": [{"id": small[t], "content": t} for t in small if t.startswith("<|")]}
put("tokenizer_folder", "tokenizer_json.txt", "J" + json.dumps(fast) + "\n@@\n\n@@\n" +
    (tok / "tokenizer_config.json").read_text())
# BPE gzip: byte 1 = gzip it in the target; byte 0 = raw file
bpe = "#version: 0.2\n" + "\n".join(merges) + "\n"
put("bpe_gzip", "text.txt", b"\x01" + bpe.encode())
put("bpe_gzip", "gzipped.txt", b"\x00" + gzip.compress(bpe.encode()))
# zip + pickle: a real (small) PyTorch archive
try:
    import torch
    buf = io.BytesIO()
    torch.save({"state": {"ram": torch.arange(6, dtype=torch.float32).reshape(1, 2, 3),
                          "p": torch.nn.Parameter(torch.ones(2))}, "step": 3, "name": "x"}, buf)
    put("zip", "tensors.pt", buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
        put("pickle", "data.pkl", z.read(pkl))
except ImportError:
    print("torch missing: zip and pickle seeds not written", file=sys.stderr)
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_STORED) as z:
    z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    z.writestr("archive/data/0", f32)
put("zip", "stored.zip", zbuf.getvalue())
put("pickle", "dict.pkl", b"\x80\x02}q\x00(X\x01\x00\x00\x00aq\x01K\x01X\x01\x00\x00\x00bq\x02G?\xe0\x00\x00\x00\x00\x00\x00u.")
# concept metadata: from a shipped module's header
for name in ("gender-woman", "safety-blood"):
    raw = (root / "resources" / "toyworld" / "concepts" / f"{name}.safetensors").read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    md = json.loads(raw[8:8 + n])["__metadata__"]
    put("concept_metadata", name + ".txt", "\n".join(f"{k}\t{v}" for k, v in md.items()))
# prompt lists: byte 0 = lines, byte 1 = CSV
put("prompt_list", "lines.txt", b"\x00a doctor\n\n# comment\na nurse\r\n  a teacher  \n")
put("prompt_list", "table.csv", b"\x01prompt,weight\n\"a doctor, smiling\",1\n\"a \"\"quoted\"\" nurse\",2\n")
# configs: byte 0..3 = UNet, VAE, CLIP text, scheduler
model = root / "resources" / "toyworld" / "model"
for i, part in enumerate(("unet/config.json", "vae/config.json", "text_encoder/config.json",
                          "scheduler/scheduler_config.json")):
    put("configs", part.split("/")[0] + ".json", bytes([i]) + (model / part).read_bytes())
# shard index
put("shard_index", "index.json", json.dumps({"metadata": {"total_size": 16}, "weight_map": {
    "a.weight": "model-00001-of-00002.safetensors", "b.weight": "model-00002-of-00002.safetensors"}}))
# single-file keys: a few SD1 keys with shapes
put("single_file", "sd1.txt", "\n".join([
    "model.diffusion_model.input_blocks.0.0.weight\t320,4,3,3",
    "model.diffusion_model.input_blocks.0.0.bias\t320",
    "first_stage_model.encoder.conv_in.weight\t128,3,3,3",
    "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight\t49408,768",
    "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight\t320,768"]))
put("single_file", "sdxl.txt", "\n".join([
    "model.diffusion_model.input_blocks.0.0.weight\t320,4,3,3",
    "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight\t3840,1280",
    "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight\t49408,768"]))
put("lora_keys", "tags.txt", b"\x00a cat <lora:style:0.8>, <lyco:sub/x:0.5:1> (red:1.2) <hypernet:y:1> <lora:open")
put("lora_keys", "kohya.txt", b"\x01\nlora_unet_mid_block_attentions_0_proj_in.lora_down.weight\n"
    b"lora_unet_mid_block_attentions_0_proj_in.lora_up.weight\nlora_unet_mid_block_attentions_0_proj_in.alpha\n"
    b"lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight\nlora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight")
put("lora_keys", "peft.txt", b'\x01{"unet.r": 4, "unet.lora_alpha": 8, "unet.alpha_pattern": {"proj_in": 2}, "unet.use_rslora": true}\n'
    b"unet.mid_block.attentions.0.proj_in.lora_A.weight\nunet.mid_block.attentions.0.proj_in.lora_B.weight\n"
    b"text_encoder.text_model.encoder.layers.0.mlp.fc1.lora_linear_layer.down.weight\n"
    b"text_encoder.text_model.encoder.layers.0.mlp.fc1.lora_linear_layer.up.weight\n"
    b"unet.a.processor.to_out_lora.down.weight\nunet.a.processor.to_out_lora.up.weight")
print("seeds written to", seeds)
