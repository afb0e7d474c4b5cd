"""Draws Flint's mark (a white flame on an ember rounded square) as RGBA PNGs, no dependencies.

Run: python3 icons/make_icon.py  — writes icons/flint.png (1024 px, the source image) and the
sizes src-tauri/icons needs.
"""
import math
import struct
import zlib

EMBER = (232, 89, 12)
DEEP = (196, 61, 4)


def inside_flame(x, y):
    # A teardrop: a circle at the bottom whose tangents meet at a point near the top.
    cx, cy, r = 0.5, 0.62, 0.2
    tip = (0.5, 0.16)
    if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
        return True
    if y < tip[1] or y > cy:
        return False
    d = math.hypot(cx - tip[0], cy - tip[1])
    half = math.asin(r / d)
    angle = abs(math.atan2(x - tip[0], y - tip[1]))
    return angle <= half


def inside_core(x, y):
    cx, cy, r = 0.5, 0.68, 0.09
    if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
        return True
    tip = (0.5, 0.45)
    if y < tip[1] or y > cy:
        return False
    d = math.hypot(cx - tip[0], cy - tip[1])
    return abs(math.atan2(x - tip[0], y - tip[1])) <= math.asin(r / d)


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
    raw = render(size, 3 if size <= 256 else 1)
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    write_png("icons/flint.png", 512)
    for size, name in [(32, "32x32.png"), (128, "128x128.png"), (512, "icon.png")]:
        write_png(f"src-tauri/icons/{name}", size)
