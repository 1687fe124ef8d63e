"""Reading the simulated server's screen (tests/vm/simserver) from what a
viewer received: text by matching each 8x16 cell against the project's font
(no OCR: the cell's two colours give a mask that must equal a glyph), the
state strip's bytes, and exact pixel comparisons against the font's
rendering. The layout and the glyphs come from `simserver layout` and
`simserver font`, so nothing here copies the sim's numbers. Stdlib only."""
import json
import struct
import subprocess
import zlib


class Contract:
    """The screen layout and the font, as the simserver binary states them."""

    def __init__(self, simserver):
        self.layout = json.loads(subprocess.run([simserver, "layout"], check=True, capture_output=True,
                                                text=True).stdout)
        self.glyphs = {}
        out = subprocess.run([simserver, "font"], check=True, capture_output=True, text=True).stdout
        for line in out.splitlines():
            code, bits = line.split()
            self.glyphs[chr(int(code, 16))] = bytes.fromhex(bits)
        self.by_mask = {}
        for ch, g in sorted(self.glyphs.items()):
            self.by_mask.setdefault(g, ch)  # glyph twins: the lower code wins
        self.cw, self.ch = self.layout["cell"]
        self.colours = {k: ((v >> 16) & 255, (v >> 8) & 255, v & 255) for k, v in self.layout["colours"].items()}

    def render_row(self, text, fg, bg):
        """RGB bytes (len(text)*8 wide, 16 high) of text as the sim draws it;
        characters outside ASCII draw as '?', as the font does."""
        fg, bg = bytes(fg), bytes(bg)
        rows = []
        for y in range(self.ch):
            line = bytearray()
            for c in text:
                bits = self.glyphs.get(c, self.glyphs["?"])[y]
                for x in range(self.cw):
                    line += fg if bits & (0x80 >> x) else bg
            rows.append(bytes(line))
        return rows


def _distance(a, b):
    return abs(a[0] - b[0]) + abs(a[1] - b[1]) + abs(a[2] - b[2])


class Screen:
    """One picture (width, height, RGB bytes) of the simulated server."""

    def __init__(self, contract, width, height, rgb, lossy=False):
        self.c, self.width, self.height, self.rgb = contract, width, height, rgb
        self.lossy = lossy  # JPEG: classify pixels by distance, allow a few wrong ones

    @classmethod
    def from_image(cls, contract, img, lossy=False):
        return cls(contract, img.width, img.height, img.rgb, lossy)

    def pixel(self, x, y):
        at = (y * self.width + x) * 3
        return tuple(self.rgb[at:at + 3])

    def cell(self, col, row):
        """(character or None, background, foreground) of a text cell."""
        cw, ch = self.c.cw, self.c.ch
        px = []
        for y in range(row * ch, row * ch + ch):
            at = (y * self.width + col * cw) * 3
            line = self.rgb[at:at + cw * 3]
            px.append([tuple(line[i:i + 3]) for i in range(0, cw * 3, 3)])
        counts = {}
        for line in px:
            for p in line:
                counts[p] = counts.get(p, 0) + 1
        bg = max(counts, key=counts.get)
        fg = None
        mask = bytearray()
        for line in px:
            bits = 0
            for x, p in enumerate(line):
                if (p != bg) if not self.lossy else _distance(p, bg) > 160:
                    bits |= 0x80 >> x
                    fg = fg or p
            mask.append(bits)
        mask = bytes(mask)
        char = self.c.by_mask.get(mask)
        if char is None and self.lossy:
            best = min(self.c.glyphs.items(), key=lambda kv: sum(bin(a ^ b).count("1") for a, b in zip(kv[1], mask)))
            if sum(bin(a ^ b).count("1") for a, b in zip(best[1], mask)) <= 6:
                char = best[0]
        return char, bg, fg or bg

    def text(self, row, col=0, ncols=None):
        """The characters of a row (unknown cells as '\\x00'), right-stripped."""
        ncols = ncols if ncols is not None else self.width // self.c.cw - col
        return "".join(self.cell(col + i, row)[0] or "\x00" for i in range(ncols)).rstrip()

    def rows(self):
        return [self.text(r) for r in range(self.c.layout["rows"])]

    def strip(self):
        """The state strip as a dict, or None when there is none (no picture of the sim)."""
        s = self.c.layout["strip"]
        if self.width < s["cells_per_row"] * s["cell"] or self.height < s["y"] + s["rows"] * s["cell"]:
            return None
        bits = []
        for i in range(s["bytes"] * 8):
            x = (i % s["cells_per_row"]) * s["cell"] + s["cell"] // 2
            y = s["y"] + (i // s["cells_per_row"]) * s["cell"] + s["cell"] // 2
            r, g, b = self.pixel(x, y)
            bits.append(1 if r + g + b > 3 * 128 else 0)
        data = bytes(int("".join(map(str, bits[k:k + 8])), 2) for k in range(0, len(bits), 8))
        if data[:3] != b"\xa5\x5a\x01" or struct.unpack(">H", data[28:30])[0] != sum(data[:28]) & 0xffff:
            return None
        f = self.c.layout["flags"]
        flags = data[3]
        px, py = struct.unpack(">HH", data[16:20])
        return {"flags": {k: bool(flags & v) for k, v in f.items()}, "seq": struct.unpack(">H", data[4:6])[0],
                "menu": data[6], "activated": None if data[7] == 255 else data[7],
                "text_len": struct.unpack(">H", data[8:10])[0], "last_char": struct.unpack(">H", data[10:12])[0],
                "text_crc": struct.unpack(">I", data[12:16])[0],
                "pointer": None if px == 0xffff else (px, py), "buttons": data[20],
                "wheel": struct.unpack(">b", data[21:22])[0], "files": data[22]}

    def region_matches(self, col, row, text, fg, bg):
        """Count of pixels that differ from text rendered with the font at (col, row)."""
        want = self.c.render_row(text, fg, bg)
        bad = 0
        for y, line in enumerate(want):
            at = ((row * self.c.ch + y) * self.width + col * self.c.cw) * 3
            got = self.rgb[at:at + len(line)]
            for i in range(0, len(line), 3):
                if got[i:i + 3] != line[i:i + 3]:
                    bad += 1
        return bad

    def save_png(self, path):
        write_png(path, self.width, self.height, self.rgb)


def text_crc(text):
    return zlib.crc32(text.encode("utf-8")) & 0xffffffff


def shown(text):
    """What the sim's font shows for text: ASCII as is, anything else as '?'."""
    return "".join(c if 0x20 <= ord(c) < 0x7f else "?" for c in text)


def write_png(path, width, height, rgb):
    raw = b"".join(b"\x00" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
