#!/usr/bin/env python3
"""Checks a rendered questionnaire page (a PGM from pdftoppm -gray) as a person would glance at
it: ink on the page but not a black page, and a QR code in the coupon area (top right) that is
about half dark modules, as QR codes are. Exits non-zero with a reason otherwise."""
import sys


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    # P5 <width> <height> <maxval> then bytes; the header has no comments from pdftoppm.
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5", "not a binary PGM"
    width, height, maxval = int(parts[1]), int(parts[2]), int(parts[3])
    assert maxval < 256
    pixels = parts[4]
    assert len(pixels) >= width * height, "truncated image"
    return width, height, pixels


def dark_share(width, pixels, x0, y0, x1, y1):
    dark = total = 0
    for y in range(y0, y1):
        row = pixels[y * width + x0 : y * width + x1]
        dark += sum(1 for p in row if p < 128)
        total += len(row)
    return dark / total


def main(path):
    width, height, pixels = read_pgm(path)
    assert abs(height / width - 297 / 210) < 0.02, f"not an A4 portrait page: {width}x{height}"
    page = dark_share(width, pixels, 0, 0, width, height)
    assert 0.01 < page < 0.40, f"ink covers {page:.1%} of the page"
    # The QR code: x 157–195 mm, y 22–60 mm of the 210 x 297 mm page.
    mm = width / 210
    qr = dark_share(width, pixels, int(162 * mm), int(27 * mm), int(190 * mm), int(55 * mm))
    assert 0.25 < qr < 0.75, f"the QR area is {qr:.1%} dark"
    print(f"page ok: {page:.1%} ink, QR area {qr:.1%} dark")


if __name__ == "__main__":
    main(sys.argv[1])
