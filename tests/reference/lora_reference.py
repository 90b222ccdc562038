"""LoRA files of every format the app reads, on the random SD1 and SDXL models, fused by diffusers
(`load_lora_weights` + `fuse_lora`, PEFT backend) as the reference for core/pipeline/lora.

  lora_reference.py --sd SD_REFERENCE_DIR --sdxl SDXL_REFERENCE_DIR --out OUT

Per case it writes
  OUT/<case>.safetensors          the LoRA file (random low-rank factors, nonzero everywhere)
  OUT/<case>.fused.safetensors    every weight diffusers changed when fusing at the case's scale,
                                  as "<component>.<parameter>" (component: unet, text_encoder,
                                  text_encoder_2), plus one UNet call on the fused model:
                                  call.sample / call.timestep / call.context (/ call.text_embeds,
                                  call.time_ids on SDXL) / call.out, and call.base_out (the same call
                                  before fusing, to show the LoRA matters)
and OUT/lora_cases.json (each case's model, format and scale).

  lora_reference.py --random-for MODEL_FOLDER --gain G --out FILE.safetensors

writes a random kohya LoRA (attention, feed-forward and text-encoder layers, rank 4) for any SD1-style
diffusers folder: a stand-in for a user's fine-tune when measuring how concept modules trained on the
base model behave on base + LoRA.

Formats:
  kohya  the kohya-ss / A1111 layout: lora_unet_* / lora_te_* (SDXL: lora_te1_*, lora_te2_*), the
         module path with '_' for '.', .lora_down.weight, .lora_up.weight and .alpha. SD1 files name
         the diffusers UNet; SDXL files name Stability's (sgm) UNet: input_blocks.N.M..., as kohya's
         SDXL trainer writes them.
  locon  kohya's layout with convolution layers too (resnet conv1/conv2/conv_shortcut, time_emb_proj,
         down/upsampler convolutions), with another rank and alpha for them than for the linears.
  peft   what diffusers' save_lora_weights writes for PEFT adapters: <component>.<module>.lora_A.weight /
         lora_B.weight and the adapters' LoraConfig in the file's "lora_adapter_metadata".
"""
import argparse
import copy
import json
import os
import pathlib
import re
import sys

import torch
from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline
from peft import LoraConfig, inject_adapter_in_model
from peft.utils import get_peft_model_state_dict
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import single_file_reference  # noqa: E402  (the diffusers -> sgm UNet names)

UNET_LINEAR = r"(attn[12]\.to_(q|k|v|out\.0)|proj_in|proj_out|ff\.net\.0\.proj|ff\.net\.2)$"
UNET_CONV = r"(resnets\.\d+\.(conv1|conv2|conv_shortcut|time_emb_proj)|(down|up)samplers\.0\.conv)$"
TEXT_LINEAR = r"(self_attn\.(q|k|v|out)_proj|mlp\.fc[12])$"


def modules(model: torch.nn.Module, pattern: str) -> list:
    return [(name, m) for name, m in model.named_modules()
            if re.search(pattern, name) and isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]


def factors(module: torch.nn.Module, rank: int, g: torch.Generator, conv_full: bool, gain: float = 0.3) -> tuple:
    """Random down [r, in(, k, k)] and up [out, r(, 1, 1)] in the layout kohya uses for the module."""
    w = module.weight
    if w.dim() == 4:
        k = w.shape[2] if conv_full else 1
        down = torch.randn(rank, w.shape[1], k, k, generator=g) * gain / (w.shape[1] * k * k) ** 0.5
        up = torch.randn(w.shape[0], rank, 1, 1, generator=g) * gain / rank ** 0.5
    else:
        down = torch.randn(rank, w.shape[1], generator=g) * gain / w.shape[1] ** 0.5
        up = torch.randn(w.shape[0], rank, generator=g) * gain / rank ** 0.5
    return down, up


def kohya_name(prefix: str, module: str) -> str:
    return prefix + module.replace(".", "_")


def sgm_module(name: str, cfg) -> str:
    """The sgm (Stability) name of a diffusers UNet module, as kohya's SDXL files name it."""
    return single_file_reference.unet_to_ldm(name + ".weight", cfg)[: -len(".weight")]


def kohya_file(pipe, sdxl: bool, with_conv: bool, seed: int, gain: float = 0.3) -> dict:
    g = torch.Generator().manual_seed(seed)
    state = {}

    def add(key: str, module, rank: int, alpha: float, conv_full: bool) -> None:
        down, up = factors(module, rank, g, conv_full, gain)
        state[key + ".lora_down.weight"] = down
        state[key + ".lora_up.weight"] = up
        state[key + ".alpha"] = torch.tensor(alpha)

    for name, m in modules(pipe.unet, UNET_LINEAR):
        module = sgm_module(name, pipe.unet.config) if sdxl else name
        add(kohya_name("lora_unet_", module), m, 4, 2.0, conv_full=False)
    if with_conv:
        for name, m in modules(pipe.unet, UNET_CONV):
            module = sgm_module(name, pipe.unet.config) if sdxl else name
            add(kohya_name("lora_unet_", module), m, 2, 1.0, conv_full=True)
    encoders = [("lora_te1_" if sdxl else "lora_te_", pipe.text_encoder)]
    if sdxl:
        encoders.append(("lora_te2_", pipe.text_encoder_2))
    for prefix, encoder in encoders:
        for name, m in modules(encoder, TEXT_LINEAR):
            # kohya names the transformers 4 layout (text_model.encoder...), as files in the wild do.
            add(kohya_name(prefix, "text_model." + name.removeprefix("text_model.")), m, 4, 2.0, conv_full=False)
    return state


def peft_file(pipe, sdxl: bool, seed: int, path: pathlib.Path) -> None:
    """Adapters injected with PEFT (into copies of the models) and saved by diffusers, as a diffusers
    training script does."""
    g = torch.Generator().manual_seed(seed)
    unet_targets = [n for n, _ in modules(pipe.unet, UNET_LINEAR)]
    text_targets = [n for n, _ in modules(pipe.text_encoder, TEXT_LINEAR)]
    configs = {"unet": LoraConfig(r=4, lora_alpha=8, target_modules=unet_targets, init_lora_weights=False),
               "text_encoder": LoraConfig(r=2, lora_alpha=3, target_modules=text_targets, init_lora_weights=False)}
    if sdxl:
        configs["text_encoder_2"] = LoraConfig(r=4, lora_alpha=4, target_modules=text_targets,
                                               init_lora_weights=False)
    layers = {}
    for component, config in configs.items():
        model = copy.deepcopy(getattr(pipe, component))
        inject_adapter_in_model(config, model, adapter_name="made")
        with torch.no_grad():
            for name, p in model.named_parameters():
                if "lora_" in name:
                    p.copy_(torch.randn(p.shape, generator=g) * 0.3 / p.shape[1] ** 0.5)
        layers[component] = get_peft_model_state_dict(model, adapter_name="made")
    meta = {k: v.to_dict() for k, v in configs.items()}
    for m in meta.values():
        m["target_modules"] = sorted(m["target_modules"])
    kwargs = dict(unet_lora_layers=layers["unet"], text_encoder_lora_layers=layers["text_encoder"],
                  unet_lora_adapter_metadata=meta["unet"], text_encoder_lora_adapter_metadata=meta["text_encoder"])
    if sdxl:
        kwargs.update(text_encoder_2_lora_layers=layers["text_encoder_2"],
                      text_encoder_2_lora_adapter_metadata=meta["text_encoder_2"])
    type(pipe).save_lora_weights(str(path.parent), weight_name=path.name, **kwargs)


def weights(pipe, sdxl: bool) -> dict:
    out = {}
    components = ["unet", "text_encoder"] + (["text_encoder_2"] if sdxl else [])
    for component in components:
        for name, p in getattr(pipe, component).named_parameters():
            if "lora_" not in name:
                out[f"{component}.{name.replace('.base_layer', '')}"] = p.detach().clone()
    return out


@torch.no_grad()
def unet_call(pipe, sdxl: bool, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    cfg = pipe.unet.config
    t = {"call.sample": torch.randn(2, cfg.in_channels, 16, 16, generator=g),
         "call.timestep": torch.tensor([501.0, 501.0]),
         "call.context": torch.randn(2, 77, cfg.cross_attention_dim, generator=g)}
    added = None
    if sdxl:
        t["call.text_embeds"] = torch.randn(2, pipe.text_encoder_2.config.projection_dim, generator=g)
        t["call.time_ids"] = torch.tensor([[32.0, 32.0, 0.0, 0.0, 32.0, 32.0]] * 2)
        added = {"text_embeds": t["call.text_embeds"], "time_ids": t["call.time_ids"]}
    t["call.out"] = pipe.unet(t["call.sample"], t["call.timestep"], encoder_hidden_states=t["call.context"],
                              added_cond_kwargs=added).sample
    return t


CASES = [  # name, model, format, fuse scale
    ("sd1_kohya", "sd1", "kohya", 0.7),
    ("sd1_locon", "sd1", "locon", 1.0),
    ("sd1_peft", "sd1", "peft", 0.8),
    ("sdxl_kohya", "sdxl", "kohya", 0.6),
    ("sdxl_locon", "sdxl", "locon", 1.0),
    ("sdxl_peft", "sdxl", "peft", 1.2),
]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sd", help="the folder sd_reference.py wrote")
    ap.add_argument("--sdxl", help="the folder sdxl_reference.py wrote")
    ap.add_argument("--random-for", help="a diffusers SD1-style folder: write one random LoRA for it to --out")
    ap.add_argument("--gain", type=float, default=0.3)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    if args.random_for:
        pipe = StableDiffusionPipeline.from_pretrained(args.random_for, local_files_only=True)
        state = kohya_file(pipe, False, False, 1, args.gain)
        save_file({k: v.contiguous() for k, v in state.items()}, args.out, metadata={"ss_network_module": "networks.lora"})
        return 0
    if not args.sd or not args.sdxl:
        ap.error("--sd and --sdxl are required (or --random-for)")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    folders = {"sd1": pathlib.Path(args.sd) / "sd1", "sdxl": pathlib.Path(args.sdxl) / "sdxl"}
    pipes = {"sd1": StableDiffusionPipeline.from_pretrained(folders["sd1"], local_files_only=True),
             "sdxl": StableDiffusionXLPipeline.from_pretrained(folders["sdxl"], local_files_only=True)}
    listing = []
    for i, (name, model, fmt, scale) in enumerate(CASES):
        pipe, sdxl = pipes[model], model == "sdxl"
        path = out / f"{name}.safetensors"
        if fmt == "peft":
            peft_file(pipe, sdxl, 100 + i, path)
        else:
            state = kohya_file(pipe, sdxl, fmt == "locon", 100 + i)
            save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata={"ss_network_module": "networks.lora"})
        before = weights(pipe, sdxl)
        base = unet_call(pipe, sdxl, 7)
        pipe.load_lora_weights(str(out), weight_name=path.name, adapter_name=name)
        pipe.fuse_lora(lora_scale=scale, adapter_names=[name])
        after = weights(pipe, sdxl)
        changed = {k: v for k, v in after.items() if not torch.equal(v, before[k])}
        call = unet_call(pipe, sdxl, 7)
        call["call.base_out"] = base["call.out"]
        pipe.unfuse_lora()
        pipe.unload_lora_weights()
        restored = weights(pipe, sdxl)
        worst = max((restored[k] - before[k]).abs().max().item() for k in changed)
        effect = ((call["call.out"] - base["call.out"]).abs().max() / base["call.out"].abs().max()).item()
        save_file({**{k: v.contiguous() for k, v in changed.items()}, **call}, str(out / f"{name}.fused.safetensors"))
        print(f"{name}: {len(changed)} weights fused at {scale}, UNet output moved by {effect:.3g} (relative), "
              f"unfuse leaves {worst:.2g}")
        listing.append({"name": name, "model": model, "format": fmt, "scale": scale, "weights": len(changed)})
    (out / "lora_cases.json").write_text(json.dumps(listing, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
