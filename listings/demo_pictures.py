"""Demo pictures drawn on this machine with Pillow (no downloads): a tee, a hoodie, a poster, a
record sleeve, a ticket, a tote bag, a lanyard, a badge set and a band logo, in colours that come
from the band's name."""

import colorsys
import hashlib
import io
import unicodedata

from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

SIZE = 1200


def band_colours(name):
    """(main, light, dark) colours for a band, the same every time for the same name."""
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) / 0xFFFF

    def rgb(lightness, saturation):
        return tuple(round(c * 255) for c in colorsys.hls_to_rgb(hue, lightness, saturation))

    return rgb(0.45, 0.6), rgb(0.93, 0.5), rgb(0.18, 0.5)


def font(size):
    try:  # Debian's fonts-dejavu-core: it draws "Björk" with its accent
        return ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def centred_text(draw, centre, text, size, fill, max_width):
    """`text` centred on `centre`, shrunk until it fits in `max_width`."""
    if "DejaVu" not in font(size).getname()[0]:  # Pillow's own font has no "ö": "Bjork"
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    while size > 12:
        box = draw.textbbox((0, 0), text, font=font(size))
        if box[2] - box[0] <= max_width:
            break
        size = int(size * 0.9)
    box = draw.textbbox((0, 0), text, font=font(size))
    x = centre[0] - (box[2] - box[0]) / 2 - box[0]
    y = centre[1] - (box[3] - box[1]) / 2 - box[1]
    draw.text((x, y), text, font=font(size), fill=fill)


def canvas(name, height=SIZE, on_dark=False):
    """(image, draw, (main, light, dark)): a blank drawing in `name`'s colours."""
    colours = band_colours(name)
    image = Image.new("RGB", (SIZE, height), colours[2] if on_dark else colours[1])
    return image, ImageDraw.Draw(image), colours


def tee(name, back=False):
    image, draw, (main, light, dark) = canvas(name)
    body = [(330, 250), (470, 190), (730, 190), (870, 250), (1040, 430), (900, 530), (860, 480),
            (860, 1040), (340, 1040), (340, 480), (300, 530), (160, 430)]  # fmt: skip
    draw.polygon(body, fill=dark)
    collar = (520, 150, 680, 280) if not back else (540, 170, 660, 230)
    draw.ellipse(collar, fill=light)
    if back:
        for row, line in enumerate(["WORLD TOUR", "LONDON · PARIS", "BERLIN · TOKYO"]):
            centred_text(draw, (600, 470 + row * 90), line, 56, main, 440)
    else:
        draw.ellipse((470, 400, 730, 660), outline=main, width=14)
        centred_text(draw, (600, 760), name.upper(), 72, main, 460)
    return image


def hoodie(name, back=False):
    image, draw, (main, light, dark) = canvas(name)
    body = [(380, 260), (820, 260), (960, 330), (1090, 960), (960, 990), (860, 560),
            (860, 1060), (340, 1060), (340, 560), (240, 990), (110, 960), (240, 330)]  # fmt: skip
    draw.polygon(body, fill=dark)
    draw.ellipse((440, 120, 760, 400), fill=dark, outline=light, width=10)  # the hood
    if back:
        for row, line in enumerate(["WORLD TOUR", "LONDON · PARIS", "BERLIN · TOKYO"]):
            centred_text(draw, (600, 560 + row * 90), line, 56, main, 440)
    else:
        draw.ellipse((520, 220, 680, 360), fill=light)  # the face opening
        draw.rectangle((430, 820, 770, 1000), outline=main, width=10)  # the front pocket
        centred_text(draw, (600, 640), name.upper(), 72, main, 460)
    return image


def poster(name):
    image, draw, (main, light, dark) = canvas(name, int(SIZE * 4 / 3), on_dark=True)
    for i in range(6):
        inset = 80 + i * 70
        draw.ellipse(
            (inset, 220 + inset // 2, SIZE - inset, 1100 - inset // 2), outline=main, width=10
        )
    centred_text(draw, (600, 1260), name.upper(), 120, light, 1000)
    centred_text(draw, (600, 1420), "LIVE · ONE NIGHT ONLY", 54, main, 900)
    return image


def record(name):
    image, draw, (main, light, dark) = canvas(name)
    draw.ellipse((420, 140, 1160, 880), fill=(20, 20, 24))
    for radius in range(120, 370, 40):
        draw.ellipse(
            (790 - radius, 510 - radius, 790 + radius, 510 + radius), outline=(60, 60, 66), width=3
        )
    draw.ellipse((700, 420, 880, 600), fill=main)
    draw.rectangle((60, 140, 800, 880), fill=main)
    draw.rectangle((120, 200, 740, 820), outline=light, width=8)
    centred_text(draw, (430, 510), name.upper(), 90, light, 560)
    centred_text(draw, (600, 1020), name, 64, dark, 1000)
    return image


def ticket(name):
    image, draw, (main, light, dark) = canvas(name)
    draw.rounded_rectangle((100, 360, 1100, 840), radius=40, fill=main)
    draw.line((820, 380, 820, 820), fill=light, width=6)
    centred_text(draw, (460, 540), name.upper(), 80, light, 620)
    centred_text(draw, (460, 680), "ADMIT ONE", 56, dark, 600)
    centred_text(draw, (960, 600), "No. 0042", 40, light, 220)
    return image


def logo(name):
    image, draw, (main, light, dark) = canvas(name, int(SIZE * 2 / 3), on_dark=True)
    draw.ellipse((-200, -300, 700, 600), fill=main)
    draw.ellipse((800, 400, 1400, 1000), outline=main, width=30)
    centred_text(draw, (600, 400), name, 150, light, 1040)
    return image


def tote_bag(name):
    image, draw, (main, light, dark) = canvas(name)
    draw.arc((400, 120, 800, 560), 180, 360, fill=dark, width=36)
    draw.polygon([(260, 340), (940, 340), (1000, 1080), (200, 1080)], fill=dark)
    centred_text(draw, (600, 720), name, 90, main, 620)
    return image


def lanyard(name):
    image, draw, (main, light, dark) = canvas(name)
    draw.line([(300, 0), (560, 640)], fill=main, width=70)
    draw.line([(900, 0), (640, 640)], fill=main, width=70)
    draw.rounded_rectangle((380, 620, 820, 1120), radius=30, fill="white", outline=dark, width=8)
    draw.rectangle((380, 700, 820, 820), fill=dark)
    centred_text(draw, (600, 760), "ALL ACCESS", 64, light, 400)
    centred_text(draw, (600, 940), name, 56, dark, 380)
    return image


def badges(name):
    image, draw, (main, light, dark) = canvas(name)
    for index, (x, y) in enumerate([(330, 330), (870, 330), (600, 600), (330, 870), (870, 870)]):
        fill = (main, dark)[index % 2]
        draw.ellipse((x - 200, y - 200, x + 200, y + 200), fill=fill, outline=dark, width=10)
        centred_text(draw, (x, y), name, 60, light, 320)
    return image


DRAWINGS = {"Clothing": tee, "Posters": poster, "Records": record, "Misc": ticket}
# Merch drawn as what it is, by a word of its title; clothing has a back too.
WORD_DRAWINGS = {"hoodie": hoodie, "bag": tote_bag, "lanyard": lanyard, "badge": badges}
TWO_SIDED = {tee, hoodie}


def drawing(listing_type, title, name, back=False):
    """The drawing of an item of `listing_type` called `title`, in `name`'s colours."""
    words = title.lower()
    draw = next((d for word, d in WORD_DRAWINGS.items() if word in words), None)
    draw = draw or DRAWINGS[listing_type]
    return draw(name, back=True) if back and draw in TWO_SIDED else draw(name)


def as_upload(image, name="demo.png"):
    """A drawing as an upload, saved through the same path as a staff member's picture."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name=name)
