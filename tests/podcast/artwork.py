"""The podcast artwork (robian_media/static/podcast-artwork.png), drawn from code so anyone can make it
again: ``.venv/bin/python -m tests.podcast.artwork``. Square, 1400 px (Apple's minimum), RGB, no alpha."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 1400
TARGET = Path(__file__).resolve().parents[2] / "robian_media" / "static" / "podcast-artwork.png"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
NAVY, WHITE, BLUE, RED = (11, 31, 75), (255, 255, 255), (0, 85, 164), (239, 65, 53)


def draw() -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), NAVY)
    pen = ImageDraw.Draw(image)
    third = SIZE // 3
    for i, colour in enumerate((BLUE, WHITE, RED)):  # the tricolour band
        pen.rectangle([i * third, 0, (i + 1) * third if i < 2 else SIZE, 90], fill=colour)
    # a speech waveform: bars whose heights follow two sines (no randomness: the same image every time)
    bars, left, width, middle = 48, 140, (SIZE - 280) / 48, 930
    for i in range(bars):
        height = 40 + 180 * abs(math.sin(i * 0.45) * math.cos(i * 0.13))
        x = left + i * width
        pen.rounded_rectangle([x, middle - height, x + width * 0.6, middle + height], radius=8, fill=WHITE)
    font = ImageFont.truetype(str(FONT), 150) if FONT.is_file() else ImageFont.load_default()
    small = ImageFont.truetype(str(FONT), 84) if FONT.is_file() else font
    pen.text((SIZE // 2, 300), "Débats", font=font, fill=WHITE, anchor="mm")
    pen.text((SIZE // 2, 470), "Assemblée nationale", font=small, fill=WHITE, anchor="mm")
    pen.text((SIZE // 2, 1250), "en audio", font=small, fill=(180, 196, 230), anchor="mm")
    return image


def main(target: Path = TARGET) -> None:
    draw().save(target, "PNG", optimize=True)
    print(f"wrote {target}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else TARGET)
