"""The tray icon, drawn in code: one picture per state, so no image files ship with the agent."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw

__all__ = ["COLORS", "ICON_STATES", "draw_icon", "flatten"]

ICON_STATES = ("idle", "listening", "thinking", "speaking", "muted", "alert")

COLORS: dict[str, tuple[int, int, int]] = {
    "idle": (52, 101, 164),  # calm blue
    "listening": (46, 160, 67),  # green: the microphone is open
    "thinking": (230, 160, 20),  # amber
    "speaking": (120, 80, 200),  # violet
    "muted": (110, 110, 110),  # grey, crossed out
    "alert": (204, 36, 36),  # red, with a "!"
}


@lru_cache(maxsize=32)
def draw_icon(state: str, size: int = 64) -> Image.Image:
    """A round badge in the state's colour with a small glyph; unknown states draw as idle."""
    color = COLORS.get(state, COLORS["idle"])
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pad = max(1, size // 16)
    d.ellipse((pad, pad, size - pad - 1, size - pad - 1), fill=(*color, 255))
    white = (255, 255, 255, 255)
    c, u = size / 2, size / 16
    if state == "alert":
        d.rectangle((c - u, c - 5 * u, c + u, c + 1.5 * u), fill=white)
        d.ellipse((c - 1.2 * u, c + 2.8 * u, c + 1.2 * u, c + 5.2 * u), fill=white)
    elif state == "thinking":
        for dx in (-3.5, 0, 3.5):
            d.ellipse((c + (dx - 1.2) * u, c - 1.2 * u, c + (dx + 1.2) * u, c + 1.2 * u), fill=white)
    elif state == "speaking":
        for i, h in enumerate((2, 4.5, 3, 5, 2)):
            x = c + (i - 2) * 2.2 * u
            d.rectangle((x - 0.7 * u, c - h * u, x + 0.7 * u, c + h * u), fill=white)
    else:  # a microphone: idle, listening, muted
        d.rounded_rectangle((c - 2 * u, c - 5 * u, c + 2 * u, c + 1.5 * u), radius=2 * u, fill=white)
        d.arc((c - 3.5 * u, c - 3 * u, c + 3.5 * u, c + 3.5 * u), 0, 180, fill=white, width=max(1, int(u)))
        d.rectangle((c - 0.5 * u, c + 3.5 * u, c + 0.5 * u, c + 5 * u), fill=white)
        if state == "muted":
            d.line((c - 5 * u, c - 5 * u, c + 5 * u, c + 5 * u), fill=(30, 30, 30, 255), width=max(2, int(1.5 * u)))
    return img


def flatten(image: Image.Image, background: tuple[int, int, int] = (40, 40, 40)) -> Image.Image:
    """The icon on an opaque background, for trays that ignore transparency (pystray's Xlib backend pastes
    the colours without the alpha channel, which leaves fringes around the badge)."""
    flat = Image.new("RGB", image.size, background)
    flat.paste(image, mask=image.getchannel("A"))
    return flat
