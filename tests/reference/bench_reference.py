"""diffusers' side of the engine benchmark: the same measurement as `respodiff benchmark`.

  bench_reference.py --model DIR [--unet-only [--batch N] [--width W --height H]] [--steps N] [--cfg X]
                     [--repeat N] [--threads N] [--device cpu|cuda] [--precision fp32|fp16|bf16]
                     [--compile [--compile-mode MODE]]

--compile times diffusers' fastest plain-PyTorch setting: the UNet in channels-last, under
torch.compile (mode "max-autotune" unless --compile-mode says otherwise), compiled during the warm-up run.
"""
import argparse
import statistics
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--unet-only", action="store_true")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--train-step", action="store_true")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "fp16", "bf16"])
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--compile-mode", default="max-autotune",
                    help="torch.compile's mode; 'default' compiles in a fraction of max-autotune's time")
    ap.add_argument("--width", type=int, default=0)
    ap.add_argument("--height", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seconds = []

    def measure(run):
        run()
        for _ in range(args.repeat):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)

    if args.train_step:
        measure(training_step(args.model, args.k))
    else:
        with torch.inference_mode():
            inference(args, measure)
    seconds.sort()
    print(f"median_seconds: {statistics.median(seconds):.6f}\nmin_seconds: {seconds[0]:.6f}\n"
          f"threads: {torch.get_num_threads()}")


def training_step(model: str, k: int):
    """One RespoDiff step as the reference code does it (gender preset), ready to time."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    pipe = StableDiffusionPipeline.from_pretrained(model, safety_checker=None, feature_extractor=None,
                                                   requires_safety_checker=False)
    unet = pipe.unet.eval().requires_grad_(False)
    sched = DDIMScheduler.from_config(pipe.scheduler.config)
    sched.set_timesteps(50)

    def embed(prompt):
        ids = pipe.tokenizer(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        with torch.no_grad():
            return pipe.text_encoder(ids)[0]

    e_empty, e_neu, e_tar = embed(""), embed("a person"), embed("a woman")
    delta = {"value": None}
    unet.mid_block.register_forward_hook(lambda m, i, o: o if delta["value"] is None else o + delta["value"])
    size = unet.config.sample_size
    noise = torch.randn(1, unet.config.in_channels, size, size, generator=torch.Generator().manual_seed(3))
    captured = {}
    handle = unet.mid_block.register_forward_hook(lambda m, i, o: captured.setdefault("h", o))
    with torch.no_grad():
        unet(noise, 1, encoder_hidden_states=e_neu)
    handle.remove()
    shape = captured["h"].shape[1:]
    ram = torch.nn.Parameter(torch.zeros(1, *shape))
    sam = torch.nn.Parameter(torch.zeros(1, *shape))
    opt_r, opt_s = torch.optim.Adam([ram], lr=1e-2), torch.optim.Adam([sam], lr=1e-3)

    def eps(z, t, context, d=None):
        delta["value"] = d
        out = unet(z, t, encoder_hidden_states=context).sample
        delta["value"] = None
        return out

    def step():
        with torch.no_grad():
            z = noise
            for i in range(k):
                t = sched.timesteps[i]
                e = eps(torch.cat([z, z]), t, torch.cat([e_empty, e_neu]),
                        torch.cat([torch.zeros_like(ram), ram + sam])).chunk(2)
                z = sched.step(e[0] + 3.0 * (e[1] - e[0]), t, z).prev_sample
            t = torch.tensor([1000.0 - 20 * k])
            e = eps(torch.cat([z, z]), torch.cat([t, t]), torch.cat([e_empty, e_tar])).chunk(2)
            target = e[0] + 4.0 * (e[1] - e[0])
            original = eps(z, t, e_neu)
        opt_r.zero_grad()
        (eps(z, t, e_neu, ram) - target).pow(2).mean().backward()
        opt_r.step()
        opt_s.zero_grad()
        (eps(z, t, e_neu, ram.detach() + sam) - original).pow(2).mean().backward()
        opt_s.step()

    return step


def inference(args, measure) -> None:
    """Generation, or one UNet call, as `respodiff benchmark` times them."""
    dtype = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[args.precision]
    if args.unet_only:
        from diffusers import UNet2DConditionModel
        unet = UNet2DConditionModel.from_pretrained(args.model, subfolder="unet", torch_dtype=dtype).eval()
        unet = unet.to(args.device)
        g = torch.Generator().manual_seed(1)
        size = args.height // 8 if args.height else unet.config.sample_size
        width = args.width // 8 if args.width else unet.config.sample_size
        placed = {"device": args.device, "dtype": dtype}
        sample = torch.randn(args.batch, unet.config.in_channels, size, width, generator=g).to(**placed)
        context = torch.randn(args.batch, 77, unet.config.cross_attention_dim, generator=g).to(**placed)
        t = torch.full((args.batch,), 501.0, device=args.device)
        extra = {}
        if unet.config.addition_embed_type == "text_time":
            pooled = unet.config.projection_class_embeddings_input_dim - 6 * unet.config.addition_time_embed_dim
            ids = torch.tensor([size * 8, width * 8, 0, 0, size * 8, width * 8], dtype=torch.float32)
            extra["added_cond_kwargs"] = {"text_embeds": torch.randn(args.batch, pooled, generator=g).to(**placed),
                                          "time_ids": ids.expand(args.batch, 6).to(**placed)}
        if args.compile:
            unet.to(memory_format=torch.channels_last)
            unet = torch.compile(unet, mode=args.compile_mode, fullgraph=True)

        def call():
            unet(sample, t, encoder_hidden_states=context, **extra)
            if args.device != "cpu":
                torch.cuda.synchronize()
        measure(call)
    else:
        from diffusers import DDIMScheduler, StableDiffusionPipeline
        pipe = StableDiffusionPipeline.from_pretrained(args.model, safety_checker=None, feature_extractor=None,
                                                       requires_safety_checker=False, torch_dtype=dtype)
        pipe = pipe.to(args.device)
        pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
        pipe.set_progress_bar_config(disable=True)
        if args.compile:
            pipe.unet.to(memory_format=torch.channels_last)
            pipe.unet = torch.compile(pipe.unet, mode=args.compile_mode, fullgraph=True)
        measure(lambda: pipe("a photo of a doctor", num_inference_steps=args.steps, guidance_scale=args.cfg,
                             generator=torch.Generator().manual_seed(0), output_type="np"))


if __name__ == "__main__":
    main()
