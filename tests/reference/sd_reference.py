"""Random-weight Stable Diffusion models and their outputs from diffusers/transformers.

  sd_reference.py OUT --bpe FILE.gz [--full-size-unet]

For each of two small configs shaped like SD1.x (conv projections, quick_gelu text encoder) and
SD2.x (linear projections, upcast attention, per-block heads, two transformer layers, gelu, v-prediction)
it writes a diffusers folder OUT/<name>/ and OUT/<name>_expect.safetensors holding the inputs and the
reference outputs of each component: text encoder hidden states, one UNet call (plus its mid-block
output, and the output when a constant is added to the mid-block output of the conditional rows),
VAE decode and VAE encode mean. With --full-size-unet it also writes the full SD1.5 UNet config with
random weights and one call on a 64x64 latent (OUT/sd15_unet/).
"""
import os
import argparse
import json
import pathlib

import torch
from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel

import single_file_reference
import tokenizer_reference

CONFIGS = {
    "sd1": dict(
        unet=dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=(32, 64, 64), layers_per_block=2,
                  down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                  cross_attention_dim=32, attention_head_dim=8, norm_num_groups=8),
        text=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=3, num_attention_heads=4,
                  vocab_size=49408, max_position_embeddings=77, hidden_act="quick_gelu", eos_token_id=2),
        scheduler=dict(prediction_type="epsilon"), pad="<|endoftext|>"),
    "sd2": dict(
        unet=dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=(32, 64, 64), layers_per_block=1,
                  down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
                  up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
                  cross_attention_dim=48, attention_head_dim=(2, 4, 4), use_linear_projection=True,
                  upcast_attention=True, transformer_layers_per_block=(1, 2, 2), norm_num_groups=16),
        text=dict(hidden_size=48, intermediate_size=64, num_hidden_layers=4, num_attention_heads=4,
                  vocab_size=49408, max_position_embeddings=77, hidden_act="gelu", eos_token_id=2),
        scheduler=dict(prediction_type="v_prediction"), pad="!"),
}
VAE = dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64), layers_per_block=1,
           down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
           norm_num_groups=32, sample_size=32)


def randomize(module: torch.nn.Module, seed: int, gain: float = 0.5) -> None:
    # diffusers zero-initialises some layers (conv_out, proj_out); random values everywhere make
    # every weight matter in the comparison. `gain` scales each weight by 1/sqrt(fan-in).
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _, p in sorted(module.named_parameters()):
            p.copy_(torch.randn(p.shape, generator=g) * (gain / max(1.0, p[0].numel() ** 0.5)) + (
                1.0 if p.dim() == 1 and "norm" in _ and _.endswith("weight") else 0.0))


def write_model(out: pathlib.Path, name: str, cfg: dict, bpe: str, seed: int) -> dict:
    folder = out / name
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**cfg["unet"]).eval()
    vae = AutoencoderKL(**VAE).eval()
    text = CLIPTextModel(CLIPTextConfig(**cfg["text"])).eval()
    for i, m in enumerate((unet, vae, text)):
        randomize(m, seed * 10 + i)
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    vae.save_pretrained(folder / "vae", safe_serialization=True)
    text.save_pretrained(folder / "text_encoder", safe_serialization=True)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False, steps_offset=1, **cfg["scheduler"])
    scheduler.save_pretrained(folder / "scheduler")
    tokenizer_reference.write_folder(folder / "tokenizer", *tokenizer_reference.clip_vocab(bpe), cfg["pad"])
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.42.1",
        "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
        "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "DDIMScheduler"], "safety_checker": [None, None],
        "feature_extractor": [None, None], "requires_safety_checker": False}, indent=2))
    return dict(unet=unet, vae=vae, text=text)


def write_single_file(out: pathlib.Path, name: str, models: dict) -> None:
    """The same weights as one LDM-layout checkpoint (SD1 key names), for the single-file loader."""
    unet, vae, text = models["unet"], models["vae"], models["text"]
    ldm = {"model.diffusion_model." + single_file_reference.unet_to_ldm(k, unet.config): v
           for k, v in unet.state_dict().items()}
    ldm.update(single_file_reference.ldm_vae_state(vae))
    for k, v in text.state_dict().items():
        ldm["cond_stage_model.transformer.text_model." + single_file_reference.strip_text_model(k)] = v
    save_file({k: v.detach().clone().contiguous() for k, v in ldm.items()}, str(out / f"{name}.safetensors"))


@torch.no_grad()
def component_outputs(models: dict, cfg: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    unet, vae, text = models["unet"], models["vae"], models["text"]
    ids = torch.randint(0, 49406, (2, 77), generator=g)
    ids[:, 0] = 49406
    ids[0, 9:] = 49407
    ids[1, 30] = 49407
    t_out = text(ids, output_hidden_states=True)
    cross = cfg["unet"]["cross_attention_dim"]
    sample = torch.randn(2, 4, 16, 16, generator=g)
    context = torch.randn(2, 77, cross, generator=g)
    timestep = torch.tensor([981.0, 981.0])
    captured = {}
    handle = unet.mid_block.register_forward_hook(lambda m, i, o: captured.setdefault("h", o.clone()))
    unet_out = unet(sample, timestep, encoder_hidden_states=context).sample
    handle.remove()
    delta = torch.randn(captured["h"].shape[1:], generator=g)
    # The bottleneck hook's contract: change h of the conditional rows only (row 1 here).
    mask = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1)
    handle = unet.mid_block.register_forward_hook(lambda m, i, o: o + mask * delta)
    hooked = unet(sample, timestep, encoder_hidden_states=context).sample
    handle.remove()
    latents = torch.randn(1, 4, 8, 8, generator=g)
    image = torch.rand(1, 3, 32, 32, generator=g) * 2 - 1
    # Tiled decoding (enable_tiling): 16-latent tiles of this VAE, a size that leaves thin edge tiles.
    tiled = torch.randn(1, 4, 37, 22, generator=g)
    vae.enable_tiling()
    tiled_decoded = vae.decode(tiled).sample
    vae.disable_tiling()
    return {
        "vae.tiled_latents": tiled, "vae.tiled_decoded": tiled_decoded,
        "text.input_ids": ids, "text.last_hidden_state": t_out.last_hidden_state,
        "text.penultimate": t_out.hidden_states[-2], "text.pooled": t_out.pooler_output,
        "unet.sample": sample, "unet.timestep": timestep, "unet.context": context, "unet.out": unet_out,
        "unet.mid": captured["h"], "unet.delta": delta, "unet.out_hooked": hooked,
        "vae.latents": latents, "vae.decoded": vae.decode(latents).sample,
        "vae.image": image, "vae.mean": vae.encode(image).latent_dist.mean,
    }


PIPELINE_RUNS = {
    "sd1": [dict(scheduler="ddim", steps=5, cfg=7.5, seed=1, prompt="a photo of a doctor", negative=""),
            dict(scheduler="euler_a", steps=4, cfg=5.0, seed=7, prompt="portrait of a nurse", negative="blurry"),
            dict(scheduler="pndm", steps=6, cfg=1.0, seed=3, prompt="a cat", negative=""),
            dict(scheduler="dpmpp_2m", steps=5, cfg=7.5, seed=11, prompt="a chef", negative=""),
            dict(scheduler="ddim", steps=4, cfg=1.0, seed=4, prompt="a teacher", negative=""),
            dict(scheduler="pndm", steps=6, cfg=7.5, seed=3, prompt="a cat", negative="")],
    "sd2": [dict(scheduler="ddim", steps=5, cfg=7.5, seed=2, prompt="a firefighter!", negative=""),
            dict(scheduler="euler", steps=5, cfg=3.0, seed=5, prompt="a pilot", negative="")],
}
SCHEDULERS = {"ddim": "DDIMScheduler", "euler": "EulerDiscreteScheduler", "euler_a": "EulerAncestralDiscreteScheduler",
              "dpmpp_2m": "DPMSolverMultistepScheduler", "pndm": "PNDMScheduler"}


@torch.no_grad()
def pipeline_outputs(out: pathlib.Path, name: str) -> dict:
    import diffusers
    from diffusers import StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(str(out / name), safety_checker=None, feature_extractor=None,
                                                   requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    base_config = dict(pipe.scheduler.config)
    tensors = {}
    for i, run in enumerate(PIPELINE_RUNS[name]):
        cls = getattr(diffusers, SCHEDULERS[run["scheduler"]])
        extra = {"use_karras_sigmas": True} if run["scheduler"] == "dpmpp_2m" else {}
        pipe.scheduler = cls.from_config(base_config, **extra)
        generator = torch.Generator().manual_seed(run["seed"])
        image = pipe(run["prompt"], negative_prompt=run["negative"] or None, num_inference_steps=run["steps"],
                     guidance_scale=run["cfg"], generator=generator, output_type="pt").images
        tensors[f"pipe.{i}"] = image.contiguous()
    return tensors


@torch.no_grad()
def full_size_unet(out: pathlib.Path) -> None:
    folder = out / "sd15_unet"
    torch.manual_seed(15)
    unet = UNet2DConditionModel(sample_size=64, cross_attention_dim=768).eval()  # SD1.5's config
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    g = torch.Generator().manual_seed(1)
    sample = torch.randn(1, 4, 64, 64, generator=g)
    context = torch.randn(1, 77, 768, generator=g)
    timestep = torch.tensor([501.0])
    result = unet(sample, timestep, encoder_hidden_states=context).sample
    save_file({"unet.sample": sample, "unet.context": context, "unet.timestep": timestep, "unet.out": result},
              str(out / "sd15_unet_expect.safetensors"))


@torch.no_grad()
def full_size_model(out: pathlib.Path, bpe: str) -> None:
    """A complete SD1.5-shaped pipeline folder with random weights (for memory and speed figures)."""
    folder = out / "sd15_full"
    torch.manual_seed(151)
    UNet2DConditionModel(sample_size=64, cross_attention_dim=768).save_pretrained(folder / "unet")
    AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                  down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                  sample_size=512).save_pretrained(folder / "vae")
    CLIPTextModel(CLIPTextConfig(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                                 num_attention_heads=12, max_position_embeddings=77, hidden_act="quick_gelu",
                                 eos_token_id=2)).save_pretrained(folder / "text_encoder")
    write_model_index_and_tokenizer(folder, bpe, "<|endoftext|>", "PNDMScheduler")


def write_model_index_and_tokenizer(folder: pathlib.Path, bpe: str, pad: str, scheduler: str) -> None:
    from diffusers import PNDMScheduler
    PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True,
                  steps_offset=1, set_alpha_to_one=False).save_pretrained(folder / "scheduler")
    tokenizer_reference.write_folder(folder / "tokenizer", *tokenizer_reference.clip_vocab(bpe), pad)
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionPipeline", "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "scheduler": ["diffusers", scheduler],
        "safety_checker": [None, None], "feature_extractor": [None, None], "requires_safety_checker": False}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bpe", required=True)
    ap.add_argument("--full-size-unet", action="store_true")
    ap.add_argument("--only-full-size-unet", action="store_true")
    ap.add_argument("--only-full-size-model", action="store_true")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))  # as the C++ side under CTest
    if args.only_full_size_model:
        full_size_model(out, args.bpe)
        print("sd15_full: wrote a complete SD1.5-shaped model")
        return
    if args.only_full_size_unet:
        full_size_unet(out)
        print("sd15_unet: wrote full-size UNet and one step")
        return
    for seed, (name, cfg) in enumerate(CONFIGS.items(), start=1):
        models = write_model(out, name, cfg, args.bpe, seed)
        if name == "sd1":
            write_single_file(out, name, models)
        tensors = {k: v.contiguous() for k, v in component_outputs(models, cfg, seed).items()}
        tensors.update(pipeline_outputs(out, name))
        save_file(tensors, str(out / f"{name}_expect.safetensors"))
        if name == "sd1":  # an fp16 variant beside the fp32 weights, as hub repositories ship them
            models["unet"].half().save_pretrained(out / name / "unet", variant="fp16", safe_serialization=True)
        (out / f"{name}_pipeline_runs.json").write_text(json.dumps(PIPELINE_RUNS[name]))
        print(f"{name}: wrote model and {len(tensors)} reference tensors")
    if args.full_size_unet:
        full_size_unet(out)
        print("sd15_unet: wrote full-size UNet and one step")


if __name__ == "__main__":
    main()
