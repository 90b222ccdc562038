"""A random-weight SDXL-shaped model and its outputs from diffusers/transformers.

  sdxl_reference.py OUT --bpe FILE.gz

Writes, for a small config with SDXL's structure (two text encoders, the second with a projection;
a UNet with "text_time" added conditioning, per-block transformer depths, linear projections; a VAE
with SDXL's scaling factor; SDXL's Euler scheduler config):
  OUT/sdxl/                       the diffusers folder (model_index.json: StableDiffusionXLPipeline)
  OUT/sdxl.safetensors            the same weights as one single-file checkpoint in the original layout
                                  (conditioner.embedders.*, label_emb), checked with diffusers' own
                                  single-file loader
  OUT/sdxl_expect.safetensors     inputs and reference outputs: both encoders, encode_prompt
                                  (context, pooled, negatives), one UNet call with added conditioning
                                  (and its mid-block output, and with a bottleneck change), full
                                  pipeline runs
  OUT/sdxl_pipeline_runs.json     the settings of those runs
  OUT/sdxl_base_configs/          SDXL base 1.0's configs as diffusers writes them (no weights)

  sdxl_reference.py OUT --only-full-size-unet

writes OUT/sdxl_unet/unet/: SDXL base's UNet config with random fp16 weights (5.1 GB), for memory and
speed figures (`respodiff benchmark --model OUT/sdxl_unet --unet-only --width 1024 --height 1024`);
not part of the test suite.
"""
import os
import argparse
import json
import pathlib

import torch
from diffusers import (AutoencoderKL, EulerDiscreteScheduler, StableDiffusionXLPipeline, UNet2DConditionModel)
from diffusers.loaders.single_file_utils import create_diffusers_clip_model_from_ldm
from safetensors.torch import save_file
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

import sd_reference
import single_file_reference
import tokenizer_reference

TEXT1 = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=3, num_attention_heads=4, vocab_size=49408,
             max_position_embeddings=77, hidden_act="quick_gelu", eos_token_id=2)
TEXT2 = dict(hidden_size=48, intermediate_size=64, num_hidden_layers=3, num_attention_heads=4, vocab_size=49408,
             max_position_embeddings=77, hidden_act="gelu", eos_token_id=2, projection_dim=40)
TIME_EMBED = 8
UNET = dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=(32, 64, 64), layers_per_block=2,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=(2, 4, 4), transformer_layers_per_block=(1, 1, 2), use_linear_projection=True,
            cross_attention_dim=TEXT1["hidden_size"] + TEXT2["hidden_size"], norm_num_groups=16,
            addition_embed_type="text_time", addition_time_embed_dim=TIME_EMBED,
            projection_class_embeddings_input_dim=TEXT2["projection_dim"] + 6 * TIME_EMBED)
VAE = dict(sd_reference.VAE, scaling_factor=0.13025, force_upcast=True)
# SDXL base's scheduler_config.json: Euler's own settings, plus keys that other schedulers built from
# this config read (the published file carries them; without them DDIM would take its own defaults,
# clip_sample and set_alpha_to_one true).
SCHEDULER = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
                 prediction_type="epsilon", steps_offset=1, timestep_spacing="leading", interpolation_type="linear",
                 use_karras_sigmas=False)
SCHEDULER_EXTRA = dict(clip_sample=False, set_alpha_to_one=False, skip_prk_steps=True, sample_max_value=1.0)

RUNS = [dict(scheduler="", steps=4, cfg=5.0, seed=1, prompt="a photo of a doctor", negative="", width=0, height=0),
        dict(scheduler="euler", steps=3, cfg=7.0, seed=2, prompt="portrait of a nurse", negative="blurry",
             width=40, height=24),
        dict(scheduler="ddim", steps=3, cfg=1.0, seed=3, prompt="a cat", negative="", width=0, height=0)]


def write_model(folder: pathlib.Path, bpe: str, seed: int) -> dict:
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(**UNET).eval()
    vae = AutoencoderKL(**VAE).eval()
    text1 = CLIPTextModel(CLIPTextConfig(**TEXT1)).eval()
    text2 = CLIPTextModelWithProjection(CLIPTextConfig(**TEXT2)).eval()
    for i, m in enumerate((unet, vae, text1, text2)):
        sd_reference.randomize(m, seed * 10 + i)
    unet.save_pretrained(folder / "unet", safe_serialization=True)
    vae.save_pretrained(folder / "vae", safe_serialization=True)
    text1.save_pretrained(folder / "text_encoder", safe_serialization=True)
    text2.save_pretrained(folder / "text_encoder_2", safe_serialization=True)
    EulerDiscreteScheduler(**SCHEDULER).save_pretrained(folder / "scheduler")
    config_path = folder / "scheduler" / "scheduler_config.json"
    config_path.write_text(json.dumps(dict(json.loads(config_path.read_text()), **SCHEDULER_EXTRA), indent=2))
    vocab, merges = tokenizer_reference.clip_vocab(bpe)
    tokenizer_reference.write_folder(folder / "tokenizer", vocab, merges, "<|endoftext|>")
    tokenizer_reference.write_folder(folder / "tokenizer_2", vocab, merges, "!")
    (folder / "model_index.json").write_text(json.dumps({
        "_class_name": "StableDiffusionXLPipeline", "_diffusers_version": "0.42.1",
        "force_zeros_for_empty_prompt": True, "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"], "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"], "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"], "image_encoder": [None, None],
        "feature_extractor": [None, None]}, indent=2))
    return dict(unet=unet, vae=vae, text1=text1, text2=text2)


def unet_to_ldm(name: str, cfg) -> str:
    added = {"add_embedding.linear_1.": "label_emb.0.0.", "add_embedding.linear_2.": "label_emb.0.2."}
    for diff, ldm in added.items():
        if name.startswith(diff):
            return ldm + name[len(diff):]
    return single_file_reference.unet_to_ldm(name, cfg)


def write_single_file(path: pathlib.Path, models: dict) -> dict:
    """The same weights under the original SDXL names (Stability's generative-models layout)."""
    unet, vae, text1, text2 = models["unet"], models["vae"], models["text1"], models["text2"]
    ldm = {"model.diffusion_model." + unet_to_ldm(k, unet.config): v for k, v in unet.state_dict().items()}
    ldm.update(single_file_reference.ldm_vae_state(vae))
    for k, v in text1.state_dict().items():
        ldm["conditioner.embedders.0.transformer.text_model." + single_file_reference.strip_text_model(k)] = v
    ldm["conditioner.embedders.0.transformer.text_model.embeddings.position_ids"] = torch.arange(77)[None]
    text2_sd = dict(text2.state_dict())
    projection = text2_sd.pop("text_projection.weight")
    for k, v in single_file_reference.openclip_state(text2_sd).items():
        ldm["conditioner.embedders.1.model." + k] = v
    ldm["conditioner.embedders.1.model.text_projection"] = projection.t()  # OpenCLIP applies x @ P
    ldm["conditioner.embedders.1.model.logit_scale"] = torch.tensor(4.6052)
    ldm = {k: v.detach().clone().contiguous() for k, v in ldm.items()}
    save_file(ldm, str(path), metadata={"format": "pt"})
    return ldm


def verify_with_diffusers(path: pathlib.Path, folder: pathlib.Path, ldm: dict, models: dict) -> None:
    unet = UNet2DConditionModel.from_single_file(str(path), config=str(folder), subfolder="unet",
                                                 local_files_only=True)
    vae = AutoencoderKL.from_single_file(str(path), config=str(folder), subfolder="vae", local_files_only=True)
    text1 = create_diffusers_clip_model_from_ldm(CLIPTextModel, ldm, subfolder="text_encoder", config=str(folder),
                                                 local_files_only=True)
    text2 = create_diffusers_clip_model_from_ldm(CLIPTextModelWithProjection, ldm, subfolder="text_encoder_2",
                                                 config=str(folder), local_files_only=True)
    for what, loaded, original in (("unet", unet, models["unet"]), ("vae", vae, models["vae"]),
                                   ("text_encoder", text1, models["text1"]),
                                   ("text_encoder_2", text2, models["text2"])):
        single_file_reference.compare(f"sdxl {what}", loaded, original)


@torch.no_grad()
def component_outputs(pipe, models: dict, seed: int) -> dict:
    g = torch.Generator().manual_seed(seed)
    unet, vae, text1, text2 = models["unet"], models["vae"], models["text1"], models["text2"]
    ids = torch.randint(0, 49406, (2, 77), generator=g)
    ids[:, 0] = 49406
    ids[0, 9:] = 49407
    ids[1, 30] = 49407
    out1 = text1(ids, output_hidden_states=True)
    out2 = text2(ids, output_hidden_states=True)
    t = {"text.input_ids": ids, "text1.penultimate": out1.hidden_states[-2],
         "text1.last_hidden_state": out1.last_hidden_state, "text2.penultimate": out2.hidden_states[-2],
         "text2.text_embeds": out2.text_embeds}
    # The pipeline's own prompt encoding: an empty negative prompt is forced to zeros, a given one encoded.
    for name, negative in (("zeros", None), ("blurry", "blurry")):
        c, n, p, np_ = pipe.encode_prompt("a photo of a doctor", do_classifier_free_guidance=True,
                                          negative_prompt=negative)
        t.update({f"encode.{name}.context": c, f"encode.{name}.negative_context": n, f"encode.{name}.pooled": p,
                  f"encode.{name}.negative_pooled": np_})
    sample = torch.randn(2, 4, 16, 16, generator=g)
    context = torch.randn(2, 77, UNET["cross_attention_dim"], generator=g)
    text_embeds = torch.randn(2, TEXT2["projection_dim"], generator=g)
    time_ids = torch.tensor([[32.0, 32.0, 0.0, 0.0, 32.0, 32.0], [48.0, 40.0, 4.0, 8.0, 24.0, 40.0]])
    timestep = torch.tensor([981.0, 981.0])
    added = {"text_embeds": text_embeds, "time_ids": time_ids}
    captured = {}
    handle = unet.mid_block.register_forward_hook(lambda m, i, o: captured.setdefault("h", o.clone()))
    unet_out = unet(sample, timestep, encoder_hidden_states=context, added_cond_kwargs=added).sample
    handle.remove()
    delta = torch.randn(captured["h"].shape[1:], generator=g)
    mask = torch.tensor([0.0, 1.0]).view(2, 1, 1, 1)
    handle = unet.mid_block.register_forward_hook(lambda m, i, o: o + mask * delta)
    hooked = unet(sample, timestep, encoder_hidden_states=context, added_cond_kwargs=added).sample
    handle.remove()
    latents = torch.randn(1, 4, 8, 8, generator=g)
    t.update({"unet.sample": sample, "unet.timestep": timestep, "unet.context": context,
              "unet.text_embeds": text_embeds, "unet.time_ids": time_ids, "unet.out": unet_out,
              "unet.mid": captured["h"], "unet.delta": delta, "unet.out_hooked": hooked,
              "vae.latents": latents, "vae.decoded": vae.decode(latents).sample})
    return t


@torch.no_grad()
def pipeline_outputs(pipe) -> dict:
    import diffusers
    base_config = dict(pipe.scheduler.config)
    tensors = {}
    for i, run in enumerate(RUNS):
        if run["scheduler"]:
            cls = getattr(diffusers, sd_reference.SCHEDULERS[run["scheduler"]])
            pipe.scheduler = cls.from_config(base_config)
        else:
            pipe.scheduler = EulerDiscreteScheduler.from_config(base_config)
        size = {k: run[k] for k in ("width", "height") if run[k]}
        image = pipe(run["prompt"], negative_prompt=run["negative"] or None, num_inference_steps=run["steps"],
                     guidance_scale=run["cfg"], generator=torch.Generator().manual_seed(run["seed"]),
                     output_type="pt", **size).images
        tensors[f"pipe.{i}"] = image.contiguous()
    return tensors


# stabilityai/stable-diffusion-xl-base-1.0's unet/config.json (the values that differ from diffusers' defaults).
SDXL_BASE_UNET = dict(sample_size=128, block_out_channels=(320, 640, 1280),
                      down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
                      up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
                      attention_head_dim=(5, 10, 20), transformer_layers_per_block=(1, 2, 10),
                      cross_attention_dim=2048, use_linear_projection=True, addition_embed_type="text_time",
                      addition_time_embed_dim=256, projection_class_embeddings_input_dim=2816)
SDXL_BASE_VAE = dict(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                     down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
                     sample_size=1024, scaling_factor=0.13025, force_upcast=True)
SDXL_BASE_TEXT1 = dict(architectures=["CLIPTextModel"], hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                       num_attention_heads=12, hidden_act="quick_gelu", projection_dim=768, vocab_size=49408,
                       max_position_embeddings=77, bos_token_id=0, eos_token_id=2, pad_token_id=1)
SDXL_BASE_TEXT2 = dict(architectures=["CLIPTextModelWithProjection"], hidden_size=1280, intermediate_size=5120,
                       num_hidden_layers=32, num_attention_heads=20, hidden_act="gelu", projection_dim=1280,
                       vocab_size=49408, max_position_embeddings=77, bos_token_id=0, eos_token_id=2, pad_token_id=1)


def sdxl_base_configs(folder: pathlib.Path) -> None:
    """SDXL base 1.0's component configs as diffusers/transformers write them (every default filled
    in), without weights: the C++ built-in configs for single files are checked against them."""
    with torch.device("meta"):
        UNet2DConditionModel(**SDXL_BASE_UNET).save_config(folder / "unet")
        AutoencoderKL(**dict(SDXL_BASE_VAE)).save_config(folder / "vae")
    for name, text in (("text_encoder", SDXL_BASE_TEXT1), ("text_encoder_2", SDXL_BASE_TEXT2)):
        config = CLIPTextConfig(**{k: v for k, v in text.items() if k != "architectures"})
        config.architectures = text["architectures"]
        (folder / name).mkdir(parents=True, exist_ok=True)
        config.to_json_file(str(folder / name / "config.json"))
    EulerDiscreteScheduler(**SCHEDULER).save_pretrained(folder / "scheduler")
    config_path = folder / "scheduler" / "scheduler_config.json"
    config_path.write_text(json.dumps(dict(json.loads(config_path.read_text()), **SCHEDULER_EXTRA), indent=2))


def full_size_unet(out: pathlib.Path) -> None:
    # Built directly in fp16 so this script stays near the file's size in memory.
    torch.set_default_dtype(torch.float16)
    torch.manual_seed(10)
    unet = UNet2DConditionModel(**SDXL_BASE_UNET)
    unet.save_pretrained(out / "sdxl_unet" / "unet", safe_serialization=True, max_shard_size="1GB")
    params = sum(p.numel() for p in unet.parameters())
    print(f"sdxl_unet: wrote SDXL base's UNet config with {params / 1e9:.2f} B random fp16 parameters")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--bpe")
    ap.add_argument("--only-full-size-unet", action="store_true")
    args = ap.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))  # as the C++ side under CTest
    if args.only_full_size_unet:
        full_size_unet(out)
        return
    if not args.bpe:
        ap.error("--bpe is required")
    folder = out / "sdxl"
    models = write_model(folder, args.bpe, seed=3)
    sdxl_base_configs(out / "sdxl_base_configs")
    ldm = write_single_file(out / "sdxl.safetensors", models)
    verify_with_diffusers(out / "sdxl.safetensors", folder, ldm, models)
    pipe = StableDiffusionXLPipeline.from_pretrained(str(folder), add_watermarker=False)
    pipe.set_progress_bar_config(disable=True)
    tensors = {k: v.contiguous() for k, v in component_outputs(pipe, models, seed=3).items()}
    tensors.update(pipeline_outputs(pipe))
    save_file(tensors, str(out / "sdxl_expect.safetensors"))
    (out / "sdxl_pipeline_runs.json").write_text(json.dumps(RUNS))
    print(f"sdxl: wrote model, single file ({len(ldm)} tensors, diffusers' single-file loader agrees) and "
          f"{len(tensors)} reference tensors")


if __name__ == "__main__":
    main()
