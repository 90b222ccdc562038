#!/usr/bin/env python3
"""The command line's conventions, one check each (README, "Command line").

  check_conventions.py --respodiff BIN --completion FILE --work DIR [--only NAME]

Each check runs the real program on the embedded default model and asserts what a user of other
command-line tools expects. Prints one line per check; exits 1 when any fails.
"""
import argparse
import io
import json
import os
import pathlib
import pty
import re
import shutil
import subprocess
import sys

ARGS = None
WORK = None


def run(*args, stdin=None, env=None):
    return subprocess.run([ARGS.respodiff, *args], input=stdin, capture_output=True, env=env, timeout=600)


def fast(*extra):
    return ["generate", "--steps", "2", *extra]


def exif_comment(path):
    """The parameters in a JPEG's or WebP's EXIF UserComment, decoded as A1111 does."""
    from PIL import Image
    with Image.open(path) as im:
        raw = im.getexif().get_ifd(0x8769).get(0x9286)
    assert raw and raw[:8] == b"UNICODE\0", f"{path}: no UNICODE UserComment"
    return raw[8:].decode("utf_16_be")


def png_text(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    i, texts = 8, {}
    while i < len(data):
        n = int.from_bytes(data[i:i + 4], "big")
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        if kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode()] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            texts[key.decode()] = rest[2:].split(b"\0", 2)[2].decode()
        i += 12 + n
    return texts


# ---- the table ------------------------------------------------------------------------------------

def check_opt_equals_value():
    out = WORK / "equals.png"
    r = run(*fast(f"--prompt=a cat", f"--out={out}", "--seed=4", "--quiet"))
    assert r.returncode == 0, r.stderr.decode()
    assert "Seed: 4," in png_text(out.read_bytes())["parameters"]


def check_help_anywhere_with_descriptions_and_defaults():
    r = run("generate", "--steps", "3", "--help")
    text = r.stdout.decode()
    assert r.returncode == 0, r.stderr.decode()
    assert re.search(r"--steps N\s+denoising steps \(default: 25\)", text), text
    assert "(default: the embedded model)" in text
    r = run("generate", "--frob", "--help")
    assert r.returncode == 0, "--help wins over a mistake elsewhere"


def check_every_subcommand_describes_its_options():
    listing = run("--help").stdout.decode()
    subs = re.findall(r"^  ([a-z][a-z-]*) ", listing, re.M)
    assert len(subs) >= 8, listing
    # Subcommands with subcommands of their own: each of those too.
    nested = [["toyworld", "train"], ["toyworld", "classifier"], ["toyworld", "concepts"], ["eval", "toyworld"],
              ["report", "merge"]]
    for sub in [[s] for s in subs] + [n for n in nested if n[0] in subs]:
        r = run(*sub, "--help")
        text = r.stdout.decode()
        assert r.returncode == 0, f"{' '.join(sub)} --help: {r.returncode} {r.stderr.decode()[:200]}"
        options = re.findall(r"^  (--[a-z0-9-]+)( \S+)?\s*(.*)$", text, re.M)
        bare = [o[0] for o in options if not o[2].strip()]
        # An option whose description wrapped to the next line is described there.
        bare = [b for b in bare if not re.search(re.escape(b) + r" \S+\n\s{20,}\S", text)]
        assert not bare, f"{' '.join(sub)} --help lists options without a description: {bare}"


def check_usage_errors_exit_2_runtime_errors_exit_1():
    usage = {
        "unknown option": fast("--prompt", "x", "--frob", "1"),
        "missing value": fast("--prompt", "x", "--steps"),
        "number out of range": fast("--prompt", "x", "--steps", "0"),
        "not a number": fast("--prompt", "x", "--cfg", "high"),
        "stray argument": fast("stray", "--prompt", "x"),
        "missing required": ["generate", "--steps", "2"],
        "unknown subcommand": ["frobnicate"],
        "no subcommand": [],
        "conflicting options": fast("--prompt", "x", "--compare"),
        "unknown format": fast("--prompt", "x", "--out", str(WORK / "x.gif")),
    }
    for what, argv in usage.items():
        r = run(*argv)
        assert r.returncode == 2, f"{what}: exit {r.returncode}, expected 2 ({r.stderr.decode()[:200]})"
        assert r.stderr.strip(), f"{what}: no message"
    r = run(*fast("--prompt", "x", "--model", str(WORK / "no-such-model"), "--out", str(WORK / "y.png")))
    assert r.returncode == 1, f"a missing model is not a usage error: exit {r.returncode}"


def check_dash_is_stdout_and_stdin():
    r = run(*fast("--prompt", "a cat", "--out", "-", "--quiet"))
    assert r.returncode == 0, r.stderr.decode()
    assert "a cat" in png_text(r.stdout)["parameters"]
    prompts = b"a red cube\n\n# a comment\na blue ball\n"
    r = run(*fast("--prompts", "-", "--out", str(WORK / "stdin.png"), "--json", "-", "--quiet"), stdin=prompts)
    assert r.returncode == 0, r.stderr.decode()
    listed = json.loads(r.stdout)
    assert [e["prompt"] for e in listed] == ["a red cube", "a blue ball"], listed


def check_json_on_generate():
    target = WORK / "report.json"
    r = run(*fast("--prompt", "a cat", "--batch", "2", "--seed", "9", "--out", str(WORK / "j.png"),
                  "--json", str(target), "--quiet"))
    assert r.returncode == 0, r.stderr.decode()
    listed = json.loads(target.read_text())
    assert [e["batch_pos"] for e in listed] == [0, 1]
    for e in listed:
        assert pathlib.Path(e["file"]).exists() and e["seed"] == 9 and e["width"] == 64
        assert e["parameters"] == png_text(pathlib.Path(e["file"]).read_bytes())["parameters"]


def check_prompts_file_batch():
    (WORK / "list.txt").write_text("a cat\r\na dog\n   \na bird\n")
    r = run(*fast("--prompts", str(WORK / "list.txt"), "--out", str(WORK / "many.png"), "--quiet"))
    assert r.returncode == 0, r.stderr.decode()
    for i, prompt in enumerate(["a cat", "a dog", "a bird"]):
        assert png_text((WORK / f"many-{i}.png").read_bytes())["parameters"].startswith(prompt + "\n")
    r = run(*fast("--prompts", str(WORK / "list.txt"), "--prompt", "x"))
    assert r.returncode == 2


def check_progress_plain_lines_when_not_a_terminal():
    r = run("generate", "--prompt", "a cat", "--steps", "20", "--out", str(WORK / "p.png"))
    err = r.stderr.decode()
    assert r.returncode == 0, err
    assert "\r" not in err, "carriage returns in a log"
    lines = [l for l in err.splitlines() if "step" in l]
    assert 2 <= len(lines) <= 12 and lines[-1].startswith("generating: step 20/20"), lines
    assert "it/s" in err or "s/it" in err


def check_progress_bar_with_rate_and_eta_on_a_terminal():
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(ARGS.respodiff, [ARGS.respodiff, "generate", "--prompt", "a cat", "--steps", "20",
                                  "--out", str(WORK / "tty.png")])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    assert "\r" in text and "[" in text and "ETA " in text and ("it/s" in text or "s/it" in text), text[-300:]
    assert "done in" in text


def check_seed_minus_one_is_random_and_recorded():
    seeds = []
    for k in range(2):
        r = run(*fast("--prompt", "a cat", "--seed", "-1", "--out", str(WORK / f"r{k}.png"), "--json", "-", "--quiet"))
        assert r.returncode == 0, r.stderr.decode()
        entry = json.loads(r.stdout)[0]
        assert f"Seed: {entry['seed']}," in entry["parameters"]
        seeds.append(entry["seed"])
    assert seeds[0] != seeds[1] and all(0 < s < 2 ** 32 for s in seeds), seeds
    # The recorded seed regenerates the picture.
    r = run(*fast("--prompt", "a cat", "--seed", str(seeds[0]), "--out", str(WORK / "again.png"), "--quiet"))
    assert r.returncode == 0
    strip = lambda p: [l for l in png_text(p.read_bytes())["parameters"].splitlines()]
    assert strip(WORK / "again.png") == strip(WORK / "r0.png")


def check_format_from_extension_with_metadata():
    for ext in ("jpg", "jpeg", "webp"):
        target = WORK / f"f.{ext}"
        r = run(*fast("--prompt", "a cat, 5:30", "--out", str(target), "--quiet"))
        assert r.returncode == 0, r.stderr.decode()
        from PIL import Image
        with Image.open(target) as im:
            assert im.format == ("JPEG" if ext != "webp" else "WEBP") and im.size == (64, 64)
        assert exif_comment(target).startswith("a cat, 5:30\nSteps: 2, ")


def check_embedded_model_is_the_default():
    r = run(*fast("--prompt", "a cat", "--out", str(WORK / "default.png"), "--quiet"))
    assert r.returncode == 0, r.stderr.decode()
    assert re.search(r"Model: model(,|$)", png_text((WORK / "default.png").read_bytes())["parameters"])
    r = run("benchmark", "--load-only", "--repeat", "1")
    assert r.returncode == 0, r.stderr.decode()


def check_bash_completion():
    script = f"""
respodiff() {{ "{ARGS.respodiff}" "$@"; }}
source "{ARGS.completion}"
COMP_WORDS=(respodiff gen); COMP_CWORD=1; _respodiff; echo "1:${{COMPREPLY[*]}}"
COMP_WORDS=(respodiff generate --st); COMP_CWORD=2; _respodiff; echo "2:${{COMPREPLY[*]}}"
"""
    r = subprocess.run(["bash", "-c", script], capture_output=True, timeout=60)
    out = r.stdout.decode()
    assert "1:generate" in out, out
    line = [l for l in out.splitlines() if l.startswith("2:")][0]
    assert "--steps" in line and "--strength" in line, line


CHECKS = [(name[len("check_"):], fn) for name, fn in list(globals().items()) if name.startswith("check_")]


def main():
    global ARGS, WORK
    ap = argparse.ArgumentParser()
    ap.add_argument("--respodiff", required=True)
    ap.add_argument("--completion", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="")
    ARGS = ap.parse_args()
    WORK = pathlib.Path(ARGS.work)
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    failed = 0
    for name, fn in CHECKS:
        if ARGS.only and ARGS.only not in name:
            continue
        try:
            fn()
            print(f"ok    {name}")
        except Exception as e:  # each check reports, the table goes on
            failed += 1
            print(f"FAIL  {name}: {type(e).__name__}: {e}")
    print(f"{len(CHECKS) - failed if not ARGS.only else ''} conventions hold, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
