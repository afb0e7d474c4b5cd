"""Draws Flint's mark (a white flame on an ember rounded square) as RGBA PNGs, no dependencies.

Run: python3 icons/make_icon.py  — writes icons/flint.png (1024 px), the one source image.
Every platform icon in src-tauri/icons is generated from it by `cargo xtask icons`
(`tauri icon`).
"""
import math
import struct
import zlib

EMBER = (232, 89, 12)
DEEP = (196, 61, 4)


def inside_teardrop(x, y, tip_y, cy, r, cx=0.5):
    """A circle at the bottom whose two tangents meet at a point above it."""
    if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
        return True
    d = cy - tip_y
    half = math.asin(r / d)
    # The tangents touch the circle at this height; below it the circle is the edge.
    touch_y = tip_y + math.sqrt(d * d - r * r) * math.cos(half)
    if y < tip_y or y > touch_y:
        return False
    return abs(math.atan2(x - cx, y - tip_y)) <= half


def inside_flame(x, y):
    return inside_teardrop(x, y, tip_y=0.16, cy=0.62, r=0.2)


def inside_core(x, y):
    return inside_teardrop(x, y, tip_y=0.45, cy=0.68, r=0.09)


def inside_square(x, y, radius=0.22):
    qx = min(max(x, radius), 1 - radius)
    qy = min(max(y, radius), 1 - radius)
    return (x - qx) ** 2 + (y - qy) ** 2 <= radius * radius


def pixel(x, y):
    if not inside_square(x, y):
        return (0, 0, 0, 0)
    if inside_core(x, y):
        return EMBER + (255,)
    if inside_flame(x, y):
        return (255, 255, 255, 255)
    shade = y * 0.35
    return tuple(int(a * (1 - shade) + b * shade) for a, b in zip(EMBER, DEEP)) + (255,)


def render(size, samples=3):
    rows = []
    for py in range(size):
        row = bytearray([0])
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(samples):
                for sx in range(samples):
                    p = pixel((px + (sx + 0.5) / samples) / size, (py + (sy + 0.5) / samples) / size)
                    for i in range(4):
                        acc[i] += p[i]
            row.extend(int(v / samples ** 2) for v in acc)
        rows.append(bytes(row))
    return b"".join(rows)


def write_png(path, size):
    raw = render(size, 2)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    write_png("icons/flint.png", 1024)
