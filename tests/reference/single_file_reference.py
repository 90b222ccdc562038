"""Single-file (original LDM/CompVis layout) Stable Diffusion checkpoints, for the C++ converter.

  --out DIR   writes DIR/sd1 and DIR/sd2, each holding
                unet/, vae/, text_encoder/   diffusers / transformers folders (save_pretrained, safetensors)
                model.safetensors            the same weights under the original LDM key names
              and proves the LDM file is right by loading it back with diffusers' own single-file loader
              (offline, configs from the local folders) and comparing every tensor with the originals.

Small random-weight models with fixed seeds; every parameter (norms included) is drawn at random so a
tensor that lands under the wrong name, or not at all, cannot go unnoticed. The LDM names are produced
here by an inverse mapping written for this test (diffusers name -> LDM name).
"""
import argparse
import json
import pathlib
import re
import sys

import torch
from safetensors.torch import save_file

from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm
from transformers import CLIPTextConfig, CLIPTextModel

# ---- the two model shapes ----------------------------------------------------------------------

FAMILIES = {
    "sd1": {
        "dtype": torch.float32,
        "unet": dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64), layers_per_block=2,
                     down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                     up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                     cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32),
        "vae": dict(in_channels=3, out_channels=3, block_out_channels=(32, 64), layers_per_block=2, latent_channels=4,
                    down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                    norm_num_groups=32, sample_size=16),
        # the single file holds exactly the layers the config keeps
        "text": dict(hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=4,
                     vocab_size=1000, max_position_embeddings=77, hidden_act="quick_gelu",
                     bos_token_id=0, eos_token_id=2, pad_token_id=1),
        "file_layers": 4,
    },
    "sd2": {
        "dtype": torch.float16,
        "unet": dict(sample_size=8, in_channels=4, out_channels=4, block_out_channels=(32, 64, 64), layers_per_block=2,
                     down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                     up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                     cross_attention_dim=48, attention_head_dim=[2, 4, 4], use_linear_projection=True,
                     upcast_attention=True, transformer_layers_per_block=[1, 2, 1], norm_num_groups=32),
        "vae": dict(in_channels=3, out_channels=3, block_out_channels=(32, 64, 64), layers_per_block=1,
                    latent_channels=4, down_block_types=("DownEncoderBlock2D",) * 3,
                    up_block_types=("UpDecoderBlock2D",) * 3, norm_num_groups=16, sample_size=16),
        # OpenCLIP carries one layer more than the diffusers text encoder keeps (24 vs 23 in SD 2.x)
        "text": dict(hidden_size=48, intermediate_size=72, num_attention_heads=4, num_hidden_layers=3,
                     vocab_size=1000, max_position_embeddings=77, hidden_act="gelu",
                     bos_token_id=0, eos_token_id=2, pad_token_id=1),
        "file_layers": 4,
    },
}


def randomize(module: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.copy_(torch.randn(p.shape, generator=g) * 0.1)


# ---- diffusers name -> LDM name ----------------------------------------------------------------

UNET_RESNET = {"norm1": "in_layers.0", "conv1": "in_layers.2", "time_emb_proj": "emb_layers.1",
               "norm2": "out_layers.0", "conv2": "out_layers.3", "conv_shortcut": "skip_connection"}
UNET_FIXED = {"conv_in": "input_blocks.0.0", "time_embedding.linear_1": "time_embed.0",
              "time_embedding.linear_2": "time_embed.2", "conv_norm_out": "out.0", "conv_out": "out.2"}


def unet_to_ldm(name: str, cfg: dict) -> str:
    per = cfg["layers_per_block"] + 1
    for diff, ldm in UNET_FIXED.items():
        if name.startswith(diff + "."):
            return ldm + name[len(diff):]
    if m := re.fullmatch(r"down_blocks\.(\d+)\.resnets\.(\d+)\.([a-z_0-9]+)\.(\w+)", name):
        b, j, layer, p = int(m[1]), int(m[2]), m[3], m[4]
        return f"input_blocks.{1 + b * per + j}.0.{UNET_RESNET[layer]}.{p}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)", name):
        return f"input_blocks.{1 + int(m[1]) * per + int(m[2])}.1.{m[3]}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(\w+)", name):
        return f"input_blocks.{1 + int(m[1]) * per + per - 1}.0.op.{m[2]}"
    if m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.([a-z_0-9]+)\.(\w+)", name):
        return f"middle_block.{2 * int(m[1])}.{UNET_RESNET[m[2]]}.{m[3]}"
    if m := re.fullmatch(r"mid_block\.attentions\.0\.(.+)", name):
        return f"middle_block.1.{m[1]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.resnets\.(\d+)\.([a-z_0-9]+)\.(\w+)", name):
        u, j = int(m[1]), int(m[2])
        return f"output_blocks.{u * per + j}.0.{UNET_RESNET[m[3]]}.{m[4]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)", name):
        return f"output_blocks.{int(m[1]) * per + int(m[2])}.1.{m[3]}"
    if m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(\w+)", name):
        u = int(m[1])
        slot = 2 if cfg["up_block_types"][u].startswith("CrossAttn") else 1
        return f"output_blocks.{u * per + per - 1}.{slot}.conv.{m[2]}"
    raise KeyError(f"no LDM name for UNet tensor {name}")


VAE_ATTN = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def vae_to_ldm(name: str, cfg: dict) -> str:
    n = len(cfg["block_out_channels"])
    if m := re.fullmatch(r"(encoder|decoder)\.conv_norm_out\.(\w+)", name):
        return f"{m[1]}.norm_out.{m[2]}"
    if re.fullmatch(r"(encoder|decoder)\.conv_(in|out)\.\w+|(post_)?quant_conv\.\w+", name):
        return name
    if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)\.(\w+)", name):
        return f"encoder.down.{m[1]}.block.{m[2]}.{m[3].replace('conv_shortcut', 'nin_shortcut')}.{m[4]}"
    if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(\w+)", name):
        return f"encoder.down.{m[1]}.downsample.conv.{m[2]}"
    if m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)\.(\w+)", name):
        return f"decoder.up.{n - 1 - int(m[1])}.block.{m[2]}.{m[3].replace('conv_shortcut', 'nin_shortcut')}.{m[4]}"
    if m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(\w+)", name):
        return f"decoder.up.{n - 1 - int(m[1])}.upsample.conv.{m[2]}"
    if m := re.fullmatch(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(\w+)\.(\w+)", name):
        return f"{m[1]}.mid.block_{int(m[2]) + 1}.{m[3]}.{m[4]}"
    if m := re.fullmatch(r"(encoder|decoder)\.mid_block\.attentions\.0\.(\w+(?:\.0)?)\.(\w+)", name):
        return f"{m[1]}.mid.attn_1.{VAE_ATTN[m[2]]}.{m[3]}"
    raise KeyError(f"no LDM name for VAE tensor {name}")


def ldm_vae_state(vae) -> dict:
    """AutoencoderKL state dict -> LDM names under first_stage_model. (mid attention as 1x1 convolutions)."""
    out = {}
    for k, v in vae.state_dict().items():
        name = vae_to_ldm(k, vae.config)
        if re.search(r"mid\.attn_1\.(q|k|v|proj_out)\.weight$", name):
            v = v.reshape(*v.shape, 1, 1)  # LDM holds these as 1x1 convolutions
        out["first_stage_model." + name] = v
    return out


def strip_text_model(name: str) -> str:
    return name[len("text_model."):] if name.startswith("text_model.") else name


OPENCLIP_LAYER = {"layer_norm1": "ln_1", "layer_norm2": "ln_2", "mlp.fc1": "mlp.c_fc", "mlp.fc2": "mlp.c_proj",
                  "self_attn.out_proj": "attn.out_proj"}


def openclip_state(text_sd: dict) -> dict:
    """CLIPTextModel state dict (any number of layers) -> OpenCLIP text tower names, no prefix."""
    sd = {strip_text_model(k): v for k, v in text_sd.items()}
    out = {"token_embedding.weight": sd.pop("embeddings.token_embedding.weight"),
           "positional_embedding": sd.pop("embeddings.position_embedding.weight"),
           "ln_final.weight": sd.pop("final_layer_norm.weight"), "ln_final.bias": sd.pop("final_layer_norm.bias")}
    layers = sorted({int(k.split(".")[2]) for k in sd if k.startswith("encoder.layers.")})
    for i in layers:
        pre = f"encoder.layers.{i}."
        res = f"transformer.resblocks.{i}."
        for p in ("weight", "bias"):
            out[res + f"attn.in_proj_{p}"] = torch.cat([sd.pop(pre + f"self_attn.{x}_proj.{p}") for x in "qkv"])
            for diff, ldm in OPENCLIP_LAYER.items():
                out[res + f"{ldm}.{p}"] = sd.pop(pre + f"{diff}.{p}")
    if sd:
        raise KeyError(f"text tensors without an OpenCLIP name: {sorted(sd)[:5]}")
    return out


# ---- building one family -----------------------------------------------------------------------

def build(family: str, spec: dict, out: pathlib.Path, seed: int) -> dict:
    dtype = spec["dtype"]
    folder = out / family
    unet = UNet2DConditionModel(**spec["unet"])
    randomize(unet, seed)
    vae = AutoencoderKL(**spec["vae"])
    randomize(vae, seed + 1)
    full_text_cfg = CLIPTextConfig(**{**spec["text"], "num_hidden_layers": spec["file_layers"]})
    full_text = CLIPTextModel(full_text_cfg)
    randomize(full_text, seed + 2)
    text = CLIPTextModel(CLIPTextConfig(**spec["text"]))  # keeps the first num_hidden_layers layers
    missing, unexpected = text.load_state_dict(full_text.state_dict(), strict=False)
    assert not missing and all(".layers." in k for k in unexpected), (missing, unexpected)

    unet, vae, text, full_text = (m.to(dtype) for m in (unet, vae, text, full_text))
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    vae.save_pretrained(folder / "vae", safe_serialization=True)
    text.save_pretrained(folder / "text_encoder", safe_serialization=True)
    # model_index.json is not needed by the model-level loaders; written for people reading the folder
    (folder / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))

    ldm = {}
    for k, v in unet.state_dict().items():
        ldm["model.diffusion_model." + unet_to_ldm(k, unet.config)] = v
    ldm.update(ldm_vae_state(vae))
    if family == "sd1":
        for k, v in full_text.state_dict().items():
            ldm["cond_stage_model.transformer.text_model." + strip_text_model(k)] = v
        ldm["cond_stage_model.transformer.text_model.embeddings.position_ids"] = torch.arange(77)[None]
    else:
        for k, v in openclip_state(full_text.state_dict()).items():
            ldm["cond_stage_model.model." + k] = v
        h = spec["text"]["hidden_size"]
        ldm["cond_stage_model.model.text_projection"] = torch.randn(h, h).to(dtype)
        ldm["cond_stage_model.model.logit_scale"] = torch.tensor(4.6052).to(dtype)
    # leftovers real checkpoints carry: diffusion schedule buffers and EMA bookkeeping
    ldm["alphas_cumprod"] = torch.linspace(1, 0.01, 1000)
    ldm["model_ema.decay"] = torch.tensor(0.9999)
    ldm["model_ema.num_updates"] = torch.tensor(1000, dtype=torch.int32)
    ldm["model_ema.diffusion_modelout2bias"] = torch.zeros(4)
    ldm = {k: v.detach().clone().contiguous() for k, v in ldm.items()}
    save_file(ldm, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return {"unet": unet, "vae": vae, "text": text, "ldm": ldm}


def compare(what: str, loaded: torch.nn.Module, original: torch.nn.Module) -> int:
    a, b = loaded.state_dict(), original.state_dict()
    if set(a) != set(b):
        raise AssertionError(f"{what}: keys differ: {sorted(set(a) ^ set(b))[:5]}")
    bad = [k for k in b if a[k].dtype != b[k].dtype or not torch.equal(a[k], b[k])]
    if bad:
        raise AssertionError(f"{what}: {len(bad)} tensors differ after diffusers' single-file load, e.g. {bad[:5]}")
    return len(b)


def verify_with_diffusers(family: str, built: dict, folder: pathlib.Path) -> dict:
    path = str(folder / "model.safetensors")
    dtype = FAMILIES[family]["dtype"]
    unet = UNet2DConditionModel.from_single_file(path, config=str(folder), subfolder="unet",
                                                 local_files_only=True, torch_dtype=dtype)
    vae = AutoencoderKL.from_single_file(path, config=str(folder), subfolder="vae",
                                         local_files_only=True, torch_dtype=dtype)
    # the function StableDiffusionPipeline.from_single_file uses for its text encoder
    text = create_diffusers_clip_model_from_ldm(CLIPTextModel, built["ldm"], subfolder="text_encoder",
                                                config=str(folder), local_files_only=True, torch_dtype=dtype)
    return {"unet": compare(f"{family} unet", unet, built["unet"]),
            "vae": compare(f"{family} vae", vae, built["vae"]),
            "text_encoder": compare(f"{family} text encoder", text, built["text"])}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()
    torch.manual_seed(0)
    for seed, (family, spec) in enumerate(FAMILIES.items()):
        built = build(family, spec, args.out, 100 * (seed + 1))
        counts = verify_with_diffusers(family, built, args.out / family)
        print(f"{family}: {len(built['ldm'])} LDM tensors; diffusers' single-file loader reproduced "
              f"{counts['unet']} UNet, {counts['vae']} VAE and {counts['text_encoder']} text-encoder tensors exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
