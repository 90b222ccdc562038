"""The command line of the reference scripts that read the models sd_reference.py wrote."""
import argparse
import os
import pathlib

import torch


def model_fixture_args() -> tuple:
    """--dir (the folder sd_reference.py wrote) and --out (created); torch uses OMP_NUM_THREADS threads,
    as the C++ side does under CTest. Returns (dir, out) as paths."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, help="the folder sd_reference.py wrote")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    return pathlib.Path(args.dir), out
