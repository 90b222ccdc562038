"""How AUTOMATIC1111 stable-diffusion-webui reads a "parameters" text (its infotext), in plain Python.

A re-implementation, written from reading webui 1.10.0 (commit c19d044364, whose 1.9/1.10 reader is
modules/infotext_utils.py, formerly generation_parameters_copypaste.py), of:
  parse_generation_parameters  the dict the webui builds from a text, with every step it applies
                               after splitting the lines (defaults, old hires-fix sizes, version
                               back-compat flags)
  quote                        how the webui's writer (processing.create_infotext) protects a value
  sampler_and_scheduler        how the UI turns "Sampler" + "Schedule type" into its two dropdowns
                               (sd_samplers.get_sampler_and_scheduler, 1.9+)
  ui_sampler_fields            the sampler / schedule / hires dropdowns and the hires checkbox the
                               txt2img tab sets from a parsed dict

Where the webui consults its settings (shared.opts) this file uses the webui's defaults:
  infotext_styles = "Apply if any", with an empty styles database (no styles.csv): style text is
                    never removed from a prompt and "Styles array" never appears; only the hires
                    prompt comparison below remains
  infotext_skip_pasting = []        nothing is dropped at the end
  use_old_hires_fix_width_height = False
  auto_backcompat = True            the "Version" field adds the back-compat flags
  the version parser behaves like packaging >= 22 (an invalid version such as "ComfyUI" is no version
  at all, so it adds no flags)
Errors the webui prints while reading a key ("Error parsing ...") go to stderr here.

Usage:
  a1111_infotext.py PNG [PNG ...]   {path: parsed dict} as JSON, from each PNG's "parameters" text
                                    chunk (tEXt, zTXt or iTXt); exit 1 if one has none
  a1111_infotext.py --text FILE     the parsed dict of FILE's text ('-' reads stdin)
  a1111_infotext.py --ui ...        with PNGs or --text: the txt2img dropdown values instead
  a1111_infotext.py --quote STRING  quote(STRING)
  a1111_infotext.py --self-test     checks this file against behaviour read in the webui's code
"""
import argparse
import contextlib
import io
import json
import math
import pathlib
import re
import sys

# A settings entry: a key of two or more word/space/'-'/'/' characters, a colon, then either a JSON
# string or everything up to the next comma.
RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
RE_IMAGESIZE = re.compile(r"^(\d+)x(\d+)$")


def quote(text):
    """The writer's protection of a value: JSON (non-ASCII kept) when its text has a comma, colon or
    line feed; otherwise the value itself, unchanged, even when it starts and ends with a quote."""
    s = str(text)
    if "," not in s and "\n" not in s and ":" not in s:
        return text
    return json.dumps(text, ensure_ascii=False)


def unquote(text):
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except Exception:
        return text


# ---- versions (the subset of PEP 440 that the webui's packaging.version comparisons need) ----------

_RE_PEP440 = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>\d+)!)?
    (?P<release>\d+(?:\.\d+)*)
    (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>\d+)?)?
    (?:-(?P<post_implicit>\d+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n>\d+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>\d+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_ORDER = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}


class Version:
    """A comparable PEP 440 version; Version.parse returns None where packaging would raise."""

    def __init__(self, key, text):
        self.key = key
        self.text = text

    @classmethod
    def parse(cls, text):
        m = _RE_PEP440.match(text)
        if not m:
            return None
        release = [int(x) for x in m.group("release").split(".")]
        while len(release) > 1 and release[-1] == 0:
            release.pop()
        pre = None
        if m.group("pre_l"):
            pre = (_PRE_ORDER[m.group("pre_l").lower()], int(m.group("pre_n") or 0))
        post = None
        if m.group("post_implicit") is not None:
            post = int(m.group("post_implicit"))
        elif m.group("post_l"):
            post = int(m.group("post_n") or 0)
        dev = int(m.group("dev_n") or 0) if m.group("dev_l") else None
        local = m.group("local")
        # PEP 440 order: X.devN < X.aN < X < X.postN; a missing local part sorts first.
        if pre is None and post is None and dev is not None:
            pre_key = (-math.inf,)
        elif pre is None:
            pre_key = (math.inf,)
        else:
            pre_key = pre
        post_key = (-math.inf,) if post is None else (post,)
        dev_key = (math.inf,) if dev is None else (dev,)
        if local is None:
            local_key = ((-math.inf, ""),)
        else:
            local_key = tuple((int(p), "") if p.isdigit() else (-math.inf, p.lower())
                              for p in re.split(r"[-_.]", local))
        key = (int(m.group("epoch") or 0), tuple(release), pre_key, post_key, dev_key, local_key)
        return cls(key, text)

    def __lt__(self, other):
        return self.key < other.key

    def __gt__(self, other):
        return self.key > other.key

    def __eq__(self, other):
        return isinstance(other, Version) and self.key == other.key

    def __repr__(self):
        return f"Version({self.text!r})"


V160 = Version.parse("1.6.0")
V170_TSNR = Version.parse("v1.7.0-225")
V180 = Version.parse("1.8.0")
V180_HR_STYLES = Version.parse("1.8.0-139")


def parse_version(text):
    """The webui's reading of a "Version" value: a git-describe tail after the second '-' is cut off
    ("v1.9.4-169-gabc" -> "v1.9.4-169", a post-release); anything else invalid is None."""
    if text is None:
        return None
    m = re.match(r"([^-]+-[^-]+)-.*", text)
    if m:
        text = m.group(1)
    return Version.parse(text)


def backcompat(d):
    ver = parse_version(d.get("Version"))
    if ver is None:
        return
    if ver < V160 and "[" in d.get("Prompt", ""):
        d["Old prompt editing timelines"] = True
    if ver < V160 and d.get("Sampler", "") in ("DDIM", "PLMS"):
        d["Pad conds v0"] = True
    if ver < V170_TSNR:
        d["Downcast alphas_cumprod"] = True
    if ver < V180 and d.get("Refiner"):
        d["Refiner switch by sampling steps"] = True


# ---- emphasis: the webui's prompt attention parser (prompt_weights_reference.py), used only to decide
# the "Emphasis" default ----

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from prompt_weights_reference import parse as parse_prompt_attention  # noqa: E402


# ---- the reader -------------------------------------------------------------------------------------

def _old_hires_first_pass(width, height):
    scale = math.sqrt(512 * 512 / (width * height))
    return math.ceil(scale * width / 64) * 64, math.ceil(scale * height / 64) * 64


def _restore_old_hires_fix(res):
    # Texts from before the hires rework carry "First pass size"; turn it into Size + Hires resize.
    fw, fh = res.get("First pass size-1"), res.get("First pass size-2")
    if fw is None or fh is None:
        return
    fw, fh = int(fw), int(fh)
    width, height = int(res.get("Size-1", 512)), int(res.get("Size-2", 512))
    if fw == 0 or fh == 0:
        fw, fh = _old_hires_first_pass(width, height)
    res["Size-1"], res["Size-2"] = fw, fh
    res["Hires resize-1"], res["Hires resize-2"] = width, height


def parse_generation_parameters(x):
    res = {}
    prompt = ""
    negative_prompt = ""
    in_negative = False

    *lines, lastline = x.strip().split("\n")
    if len(RE_PARAM.findall(lastline)) < 3:
        lines.append(lastline)
        lastline = ""

    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[16:].strip()
        if in_negative:
            negative_prompt += ("" if negative_prompt == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line

    for k, v in RE_PARAM.findall(lastline):
        try:
            if v[0] == '"' and v[-1] == '"':  # an empty value fails here and the key is dropped
                v = unquote(v)
            m = RE_IMAGESIZE.match(v)
            if m is not None:
                res[f"{k}-1"] = m.group(1)
                res[f"{k}-2"] = m.group(2)
            else:
                res[k] = v
        except Exception:
            print(f'Error parsing "{k}: {v}"', file=sys.stderr)

    # Styles ("Apply if any" with no styles defined): only the hires prompts are compared.
    if "Hires prompt" in res or "Hires negative prompt" in res:
        ver = parse_version(res.get("Version"))
        if ver is None or ver > V180_HR_STYLES:
            hr_prompt = res.get("Hires prompt", prompt)
            hr_negative = res.get("Hires negative prompt", negative_prompt)
            res["Hires prompt"] = "" if hr_prompt == prompt else hr_prompt
            res["Hires negative prompt"] = "" if hr_negative == negative_prompt else hr_negative

    res["Prompt"] = prompt
    res["Negative prompt"] = negative_prompt

    res.setdefault("Clip skip", "1")

    hypernet = res.get("Hypernet")
    if hypernet is not None:
        res["Prompt"] += f"<hypernet:{hypernet}:{res.get('Hypernet strength', '1.0')}>"

    if "Hires resize-1" not in res:
        res["Hires resize-1"] = 0
        res["Hires resize-2"] = 0
    res.setdefault("Hires sampler", "Use same sampler")
    res.setdefault("Hires schedule type", "Use same scheduler")
    res.setdefault("Hires checkpoint", "Use same checkpoint")
    res.setdefault("Hires prompt", "")
    res.setdefault("Hires negative prompt", "")
    res.setdefault("Mask mode", "Inpaint masked")
    res.setdefault("Masked content", "original")
    res.setdefault("Inpaint area", "Whole picture")
    res.setdefault("Masked area padding", 32)

    _restore_old_hires_fix(res)

    res.setdefault("RNG", "GPU")
    res.setdefault("Schedule type", "Automatic")
    res.setdefault("Schedule max sigma", 0)
    res.setdefault("Schedule min sigma", 0)
    res.setdefault("Schedule rho", 0)
    res.setdefault("VAE Encoder", "Full")
    res.setdefault("VAE Decoder", "Full")
    res.setdefault("FP8 weight", "Disable")
    if "Cache FP16 weight for LoRA" not in res and res["FP8 weight"] != "Disable":
        res["Cache FP16 weight for LoRA"] = False

    # The prompts as read (before the hypernet tag); BREAK entries do not count as emphasis.
    weights = parse_prompt_attention(prompt) + parse_prompt_attention(negative_prompt)
    uses_emphasis = len(weights) != len([w for w in weights if w[1] == 1.0 or w[0] == "BREAK"])
    if "Emphasis" not in res and uses_emphasis:
        res["Emphasis"] = "Original"

    res.setdefault("Refiner switch by sampling steps", False)

    backcompat(res)
    return res


# ---- samplers and schedule types, as the 1.9/1.10 UI resolves them ---------------------------------

# (name, default schedule) in the webui's order; the first is the default sampler. Only the exact
# name is looked up (aliases such as k_euler_a serve the API, not pasted text).
SAMPLERS = [
    ("DPM++ 2M", "karras"),
    ("DPM++ SDE", "karras"),
    ("DPM++ 2M SDE", "exponential"),
    ("DPM++ 2M SDE Heun", "exponential"),
    ("DPM++ 2S a", "karras"),
    ("DPM++ 3M SDE", "exponential"),
    ("Euler a", None),
    ("Euler", None),
    ("LMS", None),
    ("Heun", None),
    ("DPM2", "karras"),
    ("DPM2 a", "karras"),
    ("DPM fast", None),
    ("DPM adaptive", None),
    ("Restart", "karras"),
    ("DDIM", None),
    ("DDIM CFG++", None),
    ("PLMS", None),
    ("UniPC", None),
    ("LCM", None),
]
SAMPLER_DEFAULT_SCHEDULE = dict(SAMPLERS)

# (name, label, aliases) in the webui's order; the first is "Automatic".
SCHEDULERS = [
    ("automatic", "Automatic", []),
    ("uniform", "Uniform", []),
    ("karras", "Karras", []),
    ("exponential", "Exponential", []),
    ("polyexponential", "Polyexponential", []),
    ("sgm_uniform", "SGM Uniform", ["SGMUniform"]),
    ("kl_optimal", "KL Optimal", []),
    ("align_your_steps", "Align Your Steps", []),
    ("simple", "Simple", []),
    ("normal", "Normal", []),
    ("ddim", "DDIM", []),
    ("beta", "Beta", []),
]
_SCHEDULER_BY_KEY = {**{s[0]: s for s in SCHEDULERS}, **{s[1]: s for s in SCHEDULERS}}


def sampler_and_scheduler(sampler_name, scheduler_name, convert_automatic=True):
    """(sampler, schedule label) the UI selects: a schedule suffix on the sampler name (" Karras",
    " karras", ...) is split off and wins; an unknown sampler becomes the default one (DPM++ 2M); a
    schedule equal to the sampler's own default shows as "Automatic"."""
    found = _SCHEDULER_BY_KEY.get(scheduler_name, SCHEDULERS[0])
    name = sampler_name or SAMPLERS[0][0]
    for scheduler in SCHEDULERS:
        for option in [scheduler[1], scheduler[0], *scheduler[2]]:
            if name.endswith(" " + option):
                found = scheduler
                name = name[: -(len(option) + 1)]
                break
    if name not in SAMPLER_DEFAULT_SCHEDULE:
        name = SAMPLERS[0][0]
    if convert_automatic and SAMPLER_DEFAULT_SCHEDULE[name] == found[0]:
        found = SCHEDULERS[0]
    return name, found[1]


def hires_sampler_and_scheduler(d):
    hr_sampler = d.get("Hires sampler", "Use same sampler")
    sampler = d.get("Sampler") if hr_sampler == "Use same sampler" else hr_sampler
    hr_scheduler = d.get("Hires schedule type", "Use same scheduler")
    scheduler = d.get("Schedule type") if hr_scheduler == "Use same scheduler" else hr_scheduler
    sampler, scheduler = sampler_and_scheduler(sampler, scheduler)
    # Compared with the raw text: "DPM++ 2M Karras" comes back as a hires sampler "DPM++ 2M".
    sampler = sampler if sampler != d.get("Sampler") else "Use same sampler"
    scheduler = scheduler if scheduler != d.get("Schedule type") else "Use same scheduler"
    return sampler, scheduler


def ui_sampler_fields(d):
    """What the txt2img tab shows after pasting d (only the fields this file models)."""
    sampler, scheduler = sampler_and_scheduler(d.get("Sampler"), d.get("Schedule type"))
    hr_sampler, hr_scheduler = hires_sampler_and_scheduler(d)
    return {
        "Sampler": sampler,
        "Schedule type": scheduler,
        "Hires sampler": hr_sampler,
        "Hires schedule type": hr_scheduler,
        # Every parsed dict has "Hires resize-1" (a default), so this is just "has Denoising strength".
        "Hires fix": "Denoising strength" in d and ("Hires upscale" in d or "Hires upscaler" in d or
                                                    "Hires resize-1" in d),
    }


# ---- files ------------------------------------------------------------------------------------------

def png_parameters(path):
    """The "parameters" text of a PNG (any of tEXt, zTXt, iTXt), or None."""
    from PIL import Image

    with Image.open(path) as im:
        chunks = getattr(im, "text", None) or {}
        value = chunks.get("parameters", im.info.get("parameters"))
    return None if value is None else str(value)


# ---- self-test --------------------------------------------------------------------------------------

FIXTURES = pathlib.Path(__file__).resolve().parent.parent / "data" / "infotext"


def _fixture(name):
    return parse_generation_parameters((FIXTURES / name).read_text(encoding="utf-8"))


def self_test():
    failures = []

    def check(label, got, want):
        if got != want:
            failures.append(f"{label}: got {got!r}, want {want!r}")

    # quote: JSON only for ',' ':' '\n'; a value already in quotes is left as it is.
    check("quote plain", quote("Euler a"), "Euler a")
    check("quote comma", quote("a, b"), '"a, b"')
    check("quote colon", quote("name: 0123"), '"name: 0123"')
    check("quote newline", quote("two\nlines"), '"two\\nlines"')
    check("quote non-ascii", quote("café, ok"), '"café, ok"')
    check("quote quoted", quote('"masterpiece"'), '"masterpiece"')
    check("quote inner quote", quote('say "hi", bye'), '"say \\"hi\\", bye"')
    check("quote carriage return", quote("a\rb"), "a\rb")
    check("quote number", quote(7), 7)

    # The webui's own docstring example.
    d = parse_generation_parameters(
        "girl with an artist's beret, determined, blue eyes\n"
        "Negative prompt: ugly, fat, obese\n"
        "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b")
    check("doc prompt", d["Prompt"], "girl with an artist's beret, determined, blue eyes")
    check("doc negative", d["Negative prompt"], "ugly, fat, obese")
    check("doc size", (d["Size-1"], d["Size-2"]), ("512", "512"))
    check("doc no Size key", "Size" in d, False)
    check("doc steps", d["Steps"], "20")
    check("doc defaults", [d[k] for k in ("Clip skip", "RNG", "Schedule type", "Hires resize-1",
                                          "Masked area padding", "Hires sampler", "VAE Decoder")],
          ["1", "GPU", "Automatic", 0, 32, "Use same sampler", "Full"])
    check("doc no version flags", "Downcast alphas_cumprod" in d, False)

    # Fewer than three entries: the last line is prompt text.
    d = parse_generation_parameters("a cat\nSteps: 20, Seed: 1")
    check("two entries", (d["Prompt"], "Steps" in d), ("a cat\nSteps: 20, Seed: 1", False))
    # An empty value raises inside the webui's loop and the key is dropped.
    with contextlib.redirect_stderr(io.StringIO()) as err:
        d = parse_generation_parameters("a\nSteps: 20, Model: , Seed: 1, Size: 64x32")
    check("empty value message", err.getvalue(), 'Error parsing "Model: "\n')
    check("empty value dropped", "Model" in d, False)
    check("after empty", (d["Seed"], d["Size-1"]), ("1", "64"))
    # Quoted values are JSON strings; any key whose value is WxH splits.
    d = parse_generation_parameters(
        'p\nSteps: 5, Lora hashes: "a: 1, b: 2", Hires resize: 1024x768, Seed resize from: 64x64, '
        'Note: "say \\"hi\\""')
    check("quoted", d["Lora hashes"], "a: 1, b: 2")
    check("escaped", d["Note"], 'say "hi"')
    check("hires resize", (d["Hires resize-1"], d["Hires resize-2"]), ("1024", "768"))
    check("seed resize", d["Seed resize from-1"], "64")
    # A quoted value that is not valid JSON stays as written.
    d = parse_generation_parameters('p\nSteps: 5, A1: "bad \\x", Seed: 1')
    check("bad json", d["A1"], '"bad \\x"')
    # What quote() leaves alone but the reader decodes: a value that is itself in quotes.
    d = parse_generation_parameters('p\nSteps: 1, Seed: 1, Hires prompt: ' + quote('"masterpiece"'))
    check("quoted value loses its quotes", d["Hires prompt"], "masterpiece")
    # CRLF text reads like LF text.
    lf = "a\nb\nNegative prompt: c\nd\nSteps: 1, Sampler: Euler, Seed: 2"
    check("crlf", parse_generation_parameters(lf.replace("\n", "\r\n")), parse_generation_parameters(lf))
    d = parse_generation_parameters(lf)
    check("multiline", (d["Prompt"], d["Negative prompt"]), ("a\nb", "c\nd"))
    # Hires prompts equal to the prompts read back as "".
    d = parse_generation_parameters("x\nNegative prompt: y\nSteps: 1, Hires prompt: x, Hires negative prompt: z, "
                                    "Version: v1.10.1")
    check("hires prompt", (d["Hires prompt"], d["Hires negative prompt"]), ("", "z"))
    d = parse_generation_parameters("x\nSteps: 1, Seed: 1, Hires prompt: x, Version: v1.8.0")
    check("hires prompt before 1.8.0-139", d["Hires prompt"], "x")
    # Emphasis: default "Original" only when some weight is not 1.
    check("emphasis", parse_generation_parameters("(a:1.2)\nSteps: 1, Seed: 1, Sampler: Euler")
          .get("Emphasis"), "Original")
    check("no emphasis", "Emphasis" in parse_generation_parameters(
        "(a:1) BREAK b\nSteps: 1, Seed: 1, Sampler: Euler"), False)
    check("attention", parse_prompt_attention("a (b) [c] (d:0.5)"),
          [["a ", 1.0], ["b", 1.1], [" ", 1.0], ["c", 1 / 1.1], [" ", 1.0], ["d", 0.5]])
    # Hypernet tag appended; old "First pass size" turned into Size + Hires resize.
    d = parse_generation_parameters("p\nSteps: 1, Hypernet: anime, Size: 1024x1024, First pass size: 0x0")
    check("hypernet", d["Prompt"], "p<hypernet:anime:1.0>")
    check("first pass", (d["Size-1"], d["Size-2"], d["Hires resize-1"]), (512, 512, 1024))
    # Version flags.
    d = parse_generation_parameters("[a:b:5]\nSteps: 1, Sampler: DDIM, Version: v1.5.2")
    check("old version flags", [d.get(k) for k in ("Old prompt editing timelines", "Pad conds v0",
                                                   "Downcast alphas_cumprod")], [True, True, True])
    d = parse_generation_parameters("a\nSteps: 1, Sampler: DDIM, Version: v1.7.0-225-g0123abc")
    check("1.7.0-225", "Downcast alphas_cumprod" in d, False)
    d = parse_generation_parameters("a\nSteps: 1, Refiner: xl_refiner, Version: 1.7.0")
    check("refiner", d.get("Refiner switch by sampling steps"), True)
    check("versions", [parse_version(v) is None for v in ("ComfyUI", "v1.10.1", "f2.0.1v1.10.1-previous-2-gab")],
          [True, False, True])
    check("version order", Version.parse("1.8.0-139") > Version.parse("1.8.0"), True)
    check("version dev", Version.parse("1.8.0.dev1") < Version.parse("1.8.0rc1"), True)

    # Sampler names, 1.9+.
    for sampler, schedule, want in [
        ("DPM++ 2M Karras", "Automatic", ("DPM++ 2M", "Automatic")),
        ("DPM++ 2M", "Karras", ("DPM++ 2M", "Automatic")),
        ("DPM++ 2M", "Exponential", ("DPM++ 2M", "Exponential")),
        ("DPM++ 2M SDE Karras", "Automatic", ("DPM++ 2M SDE", "Karras")),
        ("Euler a", "Automatic", ("Euler a", "Automatic")),
        ("Euler a Karras", "Automatic", ("Euler a", "Karras")),
        ("Euler", "Karras", ("Euler", "Karras")),
        ("DDIM", "Automatic", ("DDIM", "Automatic")),
        ("PLMS", "Automatic", ("PLMS", "Automatic")),
        ("UniPC", "Automatic", ("UniPC", "Automatic")),
        ("Euler a", "sgm_uniform", ("Euler a", "SGM Uniform")),
        ("Euler SGMUniform", "Automatic", ("Euler", "SGM Uniform")),
        ("euler_ancestral_karras", "Automatic", ("DPM++ 2M", "Automatic")),
        (None, None, ("DPM++ 2M", "Automatic")),
    ]:
        check(f"sampler {sampler!r} {schedule!r}", sampler_and_scheduler(sampler, schedule), want)

    # The fixtures.
    d = _fixture("a1111-1.10-txt2img-dpmpp2m-karras-lora.txt")
    check("fx1 sampler", (d["Sampler"], d["Schedule type"]), ("DPM++ 2M", "Karras"))
    check("fx1 hashes", (d["Model hash"], d["Lora hashes"], d["TI hashes"]),
          ("6ce0161689", "add_detail: 7c6bad76eb54", "EasyNegative: c74b4e810b03"))
    check("fx1 clip skip", (d["Clip skip"], d["Version"], d["Emphasis"]), ("2", "v1.10.1", "Original"))
    check("fx1 ui", ui_sampler_fields(d)["Schedule type"], "Automatic")
    d = _fixture("a1111-1.10-txt2img-euler-a-automatic-hires.txt")
    check("fx2", (d["Sampler"], d["Schedule type"], d["Hires upscale"], d["Denoising strength"]),
          ("Euler a", "Automatic", "1.5", "0.4"))
    check("fx2 ui", ui_sampler_fields(d), {"Sampler": "Euler a", "Schedule type": "Automatic",
                                          "Hires sampler": "Use same sampler",
                                          "Hires schedule type": "Use same scheduler", "Hires fix": True})
    d = _fixture("a1111-1.7-legacy-sampler-dpmpp2m-karras.txt")
    check("fx3", (d["Sampler"], d["Schedule type"], d.get("Downcast alphas_cumprod")),
          ("DPM++ 2M Karras", "Automatic", True))
    check("fx3 ui", ui_sampler_fields(d)["Sampler"], "DPM++ 2M")
    check("fx3 ui hires quirk", ui_sampler_fields(d)["Hires sampler"], "DPM++ 2M")
    d = _fixture("a1111-1.10-img2img-inpaint.txt")
    check("fx4", (d["Denoising strength"], d["Mask blur"], d["Inpaint area"], d["Masked area padding"],
                  d["Masked content"]), ("0.6", "4", "Only masked", "32", "original"))
    check("fx4 prompt", d["Prompt"].count("\n"), 1)
    d = _fixture("a1111-1.10-txt2img-batch-image2.txt")
    check("fx5", (d["Seed"], "Batch size" in d, "Batch pos" in d), ("12346", False, False))
    d = _fixture("a1111-2022-legacy-batch-image2.txt")
    check("fx5 legacy", (d["Seed"], d["Batch size"], d["Batch pos"], d["Model hash"]),
          ("12346", "4", "1", "7460a6fa"))
    d = _fixture("comfyui-image-saver-alexopus-1.23.txt")
    check("fx6 sampler", ui_sampler_fields(d)["Sampler"], "DPM++ 2M")
    check("fx6 hashes cut at the first comma", d["Hashes"], '{"LORA:add-detail-xl":"9c783c8ce4"')
    check("fx6 version", (d["Version"], parse_version(d["Version"])), ("ComfyUI", None))
    d = _fixture("comfyui-image-saver-giriss.txt")
    check("fx7", (d["Sampler"], "CFG scale" in d, d["CFG Scale"]), ("euler_ancestral_karras", False, "7.0"))
    check("fx7 ui", ui_sampler_fields(d)["Sampler"], "DPM++ 2M")

    # PNG chunks: tEXt, iTXt (non-Latin-1 text) and zTXt all read back.
    try:
        import tempfile
        from PIL import Image
        from PIL.PngImagePlugin import PngInfo
    except ImportError:
        failures.append("Pillow is not available")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for kind, text in [("tEXt", "a cat\nSteps: 20, Sampler: Euler, Seed: 1"),
                               ("iTXt", "ねこ\nSteps: 20, Sampler: Euler, Seed: 1"),
                               ("zTXt", "a dog\nSteps: 20, Sampler: Euler, Seed: 1")]:
                info = PngInfo()
                info.add_text("parameters", text, zip=(kind == "zTXt"))
                path = pathlib.Path(tmp) / f"{kind}.png"
                Image.new("RGB", (4, 4)).save(path, pnginfo=info)
                check(f"png {kind}", png_parameters(path), text)
                check(f"png {kind} chunk", kind.encode() in path.read_bytes(), True)
            bare = pathlib.Path(tmp) / "bare.png"
            Image.new("RGB", (4, 4)).save(bare)
            check("png without parameters", png_parameters(bare), None)

    for f in failures:
        print("FAIL", f, file=sys.stderr)
    print(f"self-test: {len(failures)} failure(s)", file=sys.stderr)
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("png", nargs="*")
    ap.add_argument("--text", metavar="FILE", help="parse FILE's text ('-' for stdin)")
    ap.add_argument("--quote", metavar="STRING", help="print quote(STRING)")
    ap.add_argument("--ui", action="store_true", help="print the txt2img dropdown values instead")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args(argv)

    if args.self_test:
        return self_test()
    if args.quote is not None:
        print(quote(args.quote))
        return 0
    show = ui_sampler_fields if args.ui else (lambda d: d)
    if args.text is not None:
        if args.text == "-":
            text = sys.stdin.read()
        else:
            text = pathlib.Path(args.text).read_text(encoding="utf-8")
        print(json.dumps(show(parse_generation_parameters(text)), ensure_ascii=False, indent=2))
        return 0
    if not args.png:
        ap.error("give PNG files, --text FILE, --quote STRING or --self-test")
    out = {}
    for path in args.png:
        try:
            text = png_parameters(path)
        except OSError as e:
            print(f"{path}: {e}", file=sys.stderr)
            return 1
        if text is None:
            print(f"{path}: no 'parameters' text chunk", file=sys.stderr)
            return 1
        out[path] = show(parse_generation_parameters(text))
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
