"""Draw the book's favicon (a white partial-derivative sign on blue) with Pillow.

Writes ``_ext/static/favicon.png`` (linked from every page through
``html.favicon``) and ``_ext/static/favicon.ico`` (copied to the site's root,
where browsers look when a page names no icon). Run once; both are committed:

    .venv/bin/python tools/make_favicon.py
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parents[1] / "_ext" / "static"
FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSerif-Bold.ttf"


def draw(size: int) -> Image.Image:
    scale = 4  # draw large, then downsample: smooth edges
    big = size * scale
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(img)
    pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=(31, 78, 140, 255))
    font = ImageFont.truetype(str(FONT), int(big * 0.78))
    pen.text((big / 2, big / 2), "\u2202", font=font, fill="white", anchor="mm")
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    draw(64).save(OUT / "favicon.png", optimize=True)
    draw(48).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])


if __name__ == "__main__":
    main()
