"""What a person sees: colourfulness, contrast and the share of fine, noise-like detail of an image, natural
photos scored the same way as a reference, and labelled contact sheets to look at a whole row at once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HF_CUTOFF = 0.25  # cycles per pixel
# scikit-image's bundled colour photos (no download): the reference row "natural photos"
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def _unit(image: np.ndarray) -> np.ndarray:
    x = np.asarray(image, dtype=np.float64)
    return x / 255.0 if x.max() > 1.0 else x


def luminance(image: np.ndarray) -> np.ndarray:
    x = _unit(image)
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def hf_share(image: np.ndarray, cutoff: float = HF_CUTOFF) -> float:
    """Share of luminance power (mean removed) at radial frequency > cutoff cycles/px; image (H, W, 3).
    Natural photos ~2-5 %, uniform pixel noise ~80 %, a washed-out image well under 1 %."""
    lum = luminance(image)
    lum = lum - lum.mean()
    power = np.abs(np.fft.fft2(lum)) ** 2
    fy = np.fft.fftfreq(lum.shape[0])[:, None]
    fx = np.fft.fftfreq(lum.shape[1])[None, :]
    total = power.sum()
    if total <= 0:
        return 0.0
    return float(power[np.sqrt(fx * fx + fy * fy) > cutoff].sum() / total)


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Suesstrunk (2003) M on 0-255 RGB: 0 for grey, ~15 'slightly', ~33 'moderately', ~59 'quite',
    ~82 'highly colourful'. Natural photos score ~40-80."""
    x = _unit(image) * 255.0
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    rg, yb = r - g, 0.5 * (r + g) - b
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def rms_contrast(image: np.ndarray) -> float:
    """Standard deviation of luminance in [0, 1] (RMS contrast); photos ~0.12-0.30, a grey-veiled image < 0.16."""
    return float(luminance(image).std())


def look(image: np.ndarray) -> dict:
    return {"colourfulness": round(colourfulness(image), 2), "contrast": round(rms_contrast(image), 4),
            "hf_share": round(hf_share(image), 4)}


def reference_photos(size: int = 224) -> dict[str, np.ndarray] | None:
    """scikit-image's bundled colour photos, centre-cropped square and resized to ``size`` (as the atlas's images
    are); None when scikit-image is not installed."""
    try:
        from skimage import data
    except ImportError:
        return None
    out = {}
    for name in PHOTOS:
        im = getattr(data, name)()
        h, w = im.shape[:2]
        s = min(h, w)
        crop = im[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        out[name] = np.asarray(Image.fromarray(crop).resize((size, size), Image.BICUBIC))
    return out


def contact_sheet(images: list[np.ndarray], labels: list[str], path: Path, hits: list[bool] | None = None,
                  side: int = 112, columns: int = 8) -> None:
    """Every image of a row in one labelled grid; a label in red (with a cross) where the judge missed the class."""
    if not images:
        return
    rows = (len(images) + columns - 1) // columns
    caption = 14
    sheet = Image.new("RGB", (side * min(columns, len(images)), (side + caption) * rows), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (im, label) in enumerate(zip(images, labels)):
        x, y = (k % columns) * side, (k // columns) * (side + caption)
        sheet.paste(Image.fromarray(im).resize((side, side), Image.BILINEAR), (x, y))
        missed = hits is not None and not hits[k]
        text = ("x " if missed else "") + label
        while draw.textlength(text) > side - 4 and len(text) > 3:
            text = text[:-1]
        draw.text((x + 2, y + side + 1), text, fill=(200, 0, 0) if missed else (0, 0, 0))
    sheet.save(path, quality=88)
