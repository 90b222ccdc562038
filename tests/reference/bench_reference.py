"""diffusers' side of the engine benchmark: the same measurement as `respodiff benchmark`.

  bench_reference.py --model DIR [--unet-only] [--steps N] [--cfg X] [--repeat N] [--threads N]
"""
import argparse
import statistics
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--unet-only", action="store_true")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--cfg", type=float, default=7.5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    seconds = []

    def measure(run):
        run()
        for _ in range(args.repeat):
            start = time.perf_counter()
            run()
            seconds.append(time.perf_counter() - start)

    with torch.inference_mode():
        if args.unet_only:
            from diffusers import UNet2DConditionModel
            unet = UNet2DConditionModel.from_pretrained(args.model, subfolder="unet").eval()
            g = torch.Generator().manual_seed(1)
            size = unet.config.sample_size
            sample = torch.randn(1, unet.config.in_channels, size, size, generator=g)
            context = torch.randn(1, 77, unet.config.cross_attention_dim, generator=g)
            t = torch.tensor([501.0])
            measure(lambda: unet(sample, t, encoder_hidden_states=context))
        else:
            from diffusers import DDIMScheduler, StableDiffusionPipeline
            pipe = StableDiffusionPipeline.from_pretrained(args.model, safety_checker=None, feature_extractor=None,
                                                           requires_safety_checker=False)
            pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config)
            pipe.set_progress_bar_config(disable=True)
            measure(lambda: pipe("a photo of a doctor", num_inference_steps=args.steps, guidance_scale=args.cfg,
                                 generator=torch.Generator().manual_seed(0), output_type="np"))
    seconds.sort()
    print(f"median_seconds: {statistics.median(seconds):.6f}\nmin_seconds: {seconds[0]:.6f}\n"
          f"threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
