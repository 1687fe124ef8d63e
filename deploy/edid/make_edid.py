#!/usr/bin/env python3
"""Writes the EDID piglix loads into a TC358743 HDMI-to-CSI bridge on a
Raspberry Pi 4 (2 CSI-2 lanes), and shows the arithmetic behind its modes.

    make_edid.py                    the EDID as hex text (what tc358743-1080p30.hex holds)
    make_edid.py --table            every candidate mode, its bandwidth, in or out
    make_edid.py --check FILE       exit 1 unless FILE holds exactly what this script writes

Every byte is computed here (EDID 1.3 base block + CTA-861 extension); the
checksums make each 128-byte block sum to 0 mod 256. Stdlib only.
"""
import argparse
import sys

# The link: the Pi 4's camera connector wires 2 CSI-2 data lanes; the
# Raspberry Pi tc358743 overlay sets a 486 MHz link frequency, i.e. 972 Mbit/s
# per lane (DDR). The bridge packs UYVY at 16 bits per pixel.
LANES = 2
LANE_MBPS = 972
BITS_PER_PIXEL = 16
LINK_MBPS = LANES * LANE_MBPS  # 1944

# Candidate modes: (name, width, height, refresh Hz, pixel clock kHz, total
# width, total height, h front porch, h sync, v front porch, v sync,
# +hsync, +vsync, where it comes from). Progressive only: the TC358743 driver
# does not capture interlaced video.
MODES = [
    ("640x480p60", 640, 480, 60, 25175, 800, 525, 16, 96, 10, 2, False, False, "DMT/VIC 1"),
    ("720x480p60", 720, 480, 60, 27000, 858, 525, 16, 62, 9, 6, False, False, "VIC 2/3"),
    ("720x576p50", 720, 576, 50, 27000, 864, 625, 12, 64, 5, 5, False, False, "VIC 17/18"),
    ("800x600p60", 800, 600, 60, 40000, 1056, 628, 40, 128, 1, 4, True, True, "DMT"),
    ("1024x768p60", 1024, 768, 60, 65000, 1344, 806, 24, 136, 3, 6, False, False, "DMT"),
    ("1280x720p50", 1280, 720, 50, 74250, 1980, 750, 440, 40, 5, 5, True, True, "VIC 19"),
    ("1280x720p60", 1280, 720, 60, 74250, 1650, 750, 110, 40, 5, 5, True, True, "VIC 4"),
    ("1280x800p60", 1280, 800, 60, 83500, 1680, 831, 72, 128, 3, 6, False, True, "DMT"),
    ("1280x960p60", 1280, 960, 60, 108000, 1800, 1000, 96, 112, 1, 3, True, True, "DMT"),
    ("1280x1024p60", 1280, 1024, 60, 108000, 1688, 1066, 48, 112, 1, 3, True, True, "DMT"),
    ("1440x900p60", 1440, 900, 60, 106500, 1904, 934, 80, 152, 3, 6, False, True, "DMT"),
    ("1600x900p60rb", 1600, 900, 60, 108000, 1800, 1000, 24, 80, 1, 3, True, True, "DMT (RB)"),
    ("1680x1050p60", 1680, 1050, 60, 146250, 2240, 1089, 104, 176, 3, 6, False, True, "DMT"),
    ("1920x1080p24", 1920, 1080, 24, 74250, 2750, 1125, 638, 44, 4, 5, True, True, "VIC 32"),
    ("1920x1080p25", 1920, 1080, 25, 74250, 2640, 1125, 528, 44, 4, 5, True, True, "VIC 33"),
    ("1920x1080p30", 1920, 1080, 30, 74250, 2200, 1125, 88, 44, 4, 5, True, True, "VIC 34"),
    ("1920x1080p50", 1920, 1080, 50, 148500, 2640, 1125, 528, 44, 4, 5, True, True, "VIC 31"),
    ("1920x1080p60", 1920, 1080, 60, 148500, 2200, 1125, 88, 44, 4, 5, True, True, "VIC 16"),
    ("1920x1080p60rb", 1920, 1080, 60, 138500, 2080, 1111, 48, 32, 3, 5, True, False, "CVT-RB"),
    ("1600x1200p60", 1600, 1200, 60, 162000, 2160, 1250, 64, 192, 1, 3, True, True, "DMT"),
]


def link_mbps(mode):
    """The rule this EDID is built by: the pixel clock times 16 bits must fit the
    link. Counting blanking is conservative: the bridge's FIFO is far too small to
    spread a frame over its vertical blanking."""
    return mode[4] / 1000 * BITS_PER_PIXEL


def active_mbps(mode):
    """What the Linux tc358743 driver counts when it works out the lanes needed:
    active pixels only (width * height * fps * bpp)."""
    return mode[1] * mode[2] * mode[3] * BITS_PER_PIXEL / 1e6


def fits(mode):
    return link_mbps(mode) <= LINK_MBPS


def mode_by_name(name):
    for m in MODES:
        if m[0] == name:
            return m
    raise KeyError(name)


# ---- EDID bytes ------------------------------------------------------------------

def manufacturer_id(letters):
    v = 0
    for ch in letters:
        v = (v << 5) | (ord(ch) - ord("A") + 1)
    return [(v >> 8) & 0xFF, v & 0xFF]


def chroma_bits(value):
    return round(value * 1024)


def chromaticity():
    # sRGB primaries and D65 white point, 10 bits each
    coords = [(0.640, 0.330), (0.300, 0.600), (0.150, 0.060), (0.3127, 0.3290)]
    bits = [(chroma_bits(x), chroma_bits(y)) for x, y in coords]
    (rx, ry), (gx, gy), (bx, by), (wx, wy) = bits
    low_rg = ((rx & 3) << 6) | ((ry & 3) << 4) | ((gx & 3) << 2) | (gy & 3)
    low_bw = ((bx & 3) << 6) | ((by & 3) << 4) | ((wx & 3) << 2) | (wy & 3)
    return [low_rg, low_bw] + [v >> 2 for v in (rx, ry, gx, gy, bx, by, wx, wy)]


def detailed_timing(mode, width_mm, height_mm):
    _name, w, h, _hz, khz, htotal, vtotal, hfp, hsync, vfp, vsync, hpos, vpos, _src = mode
    clock = khz // 10  # in 10 kHz units
    hblank, vblank = htotal - w, vtotal - h
    flags = 0x18 | (0x04 if vpos else 0) | (0x02 if hpos else 0)  # digital separate sync
    return [
        clock & 0xFF, clock >> 8,
        w & 0xFF, hblank & 0xFF, ((w >> 8) << 4) | (hblank >> 8),
        h & 0xFF, vblank & 0xFF, ((h >> 8) << 4) | (vblank >> 8),
        hfp & 0xFF, hsync & 0xFF, ((vfp & 0xF) << 4) | (vsync & 0xF),
        ((hfp >> 8) << 6) | ((hsync >> 8) << 4) | ((vfp >> 4) << 2) | (vsync >> 4),
        width_mm & 0xFF, height_mm & 0xFF, ((width_mm >> 8) << 4) | (height_mm >> 8),
        0, 0, flags,
    ]


def text_descriptor(tag, text):
    data = text.encode("ascii")[:13]
    if len(data) < 13:
        data += b"\n" + b" " * (12 - len(data))
    return [0, 0, 0, tag, 0] + list(data)


def range_limits(modes):
    vmin = min(m[3] for m in modes)
    vmax = max(m[3] for m in modes)
    hkhz = [m[4] / m[5] for m in modes]
    hmin, hmax = int(min(hkhz)), int(max(hkhz)) + 1
    max_clock_10mhz = (max(m[4] for m in modes) + 9999) // 10000
    return [0, 0, 0, 0xFD, 0, vmin, vmax, hmin, hmax, max_clock_10mhz,
            0x00, 0x0A, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]


def standard_timing(w, h, hz):
    aspect = {(16, 10): 0, (4, 3): 1, (5, 4): 2, (16, 9): 3}
    for (a, b), code in aspect.items():
        if w * b == h * a:
            return [w // 8 - 31, (code << 6) | (hz - 60)]
    raise ValueError("no standard-timing aspect for %dx%d" % (w, h))


def checksum(block):
    block[127] = (-sum(block[:127])) & 0xFF
    return block


def base_block():
    preferred = mode_by_name("1920x1080p30")
    second = mode_by_name("1280x720p60")
    advertised = [m for m in MODES if fits(m)]
    b = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]
    b += manufacturer_id("PGX")
    b += [0x43, 0x07]                    # product code 0x0743
    b += [0, 0, 0, 0]                    # no serial number
    b += [1, 2024 - 1990]                # week 1 of 2024
    b += [1, 3]                          # EDID 1.3
    b += [0x80]                          # digital input
    b += [51, 29]                        # 51 x 29 cm (a 23" 16:9 panel)
    b += [120]                           # gamma 2.2
    b += [0x0E]                          # RGB colour, sRGB; preferred timing is the first DTD
    b += chromaticity()
    # established timings: 640x480@60, 800x600@60 | 1024x768@60
    b += [0x21, 0x08, 0x00]
    std = [standard_timing(1280, 720, 60), standard_timing(1280, 800, 60),
           standard_timing(1280, 960, 60), standard_timing(1280, 1024, 60),
           standard_timing(1440, 900, 60), standard_timing(1600, 900, 60)]
    for st in std:
        b += st
    b += [0x01, 0x01] * (8 - len(std))
    b += detailed_timing(preferred, 510, 287)
    b += detailed_timing(second, 510, 287)
    b += range_limits(advertised)
    b += text_descriptor(0xFC, "piglix")
    b += [1, 0]                          # one extension block; checksum below
    assert len(b) == 128, len(b)
    return checksum(b)


# CTA-861 video identification codes of the modes that fit, preferred first
VICS = [(34, "1920x1080p30"), (33, "1920x1080p25"), (32, "1920x1080p24"), (4, "1280x720p60"),
        (19, "1280x720p50"), (3, "720x480p60"), (2, "720x480p60"), (18, "720x576p50"),
        (17, "720x576p50"), (1, "640x480p60")]


def cta_block():
    for _vic, name in VICS:
        assert fits(mode_by_name(name)), name
    video = [0x40 | len(VICS)] + [vic for vic, _n in VICS]  # DTD 1 is the native mode
    # HDMI vendor-specific block: IEEE OUI 00-0C-03, CEC physical address 1.0.0.0
    hdmi = [0x60 | 5, 0x03, 0x0C, 0x00, 0x10, 0x00]
    # video capability block: RGB quantization range selectable (QS), so a source
    # may say full or limited range in its AVI InfoFrame and the bridge follows
    vcdb = [0xE0 | 2, 0x00, 0x4A]  # ... and IT and CE formats are always underscanned
    blocks = video + hdmi + vcdb
    # underscanned IT formats, 1 native DTD; no YCbCr, no audio: the source sends RGB
    c = [0x02, 0x03, 4 + len(blocks), 0x81]
    c += blocks
    c += [0] * (128 - len(c))
    return checksum(c)


def edid():
    return base_block() + cta_block()


def hex_text(data):
    lines = []
    for at in range(0, len(data), 16):
        lines.append(" ".join("%02x" % v for v in data[at:at + 16]))
    return "\n".join(lines) + "\n"


def table():
    out = ["%-15s %-10s %9s %11s %11s  %s" % ("mode", "source", "pclk MHz", "pclk*16", "active*16",
                                              "in the EDID")]
    for m in MODES:
        out.append("%-15s %-10s %9.3f %7.0f Mb/s %7.0f Mb/s  %s" % (
            m[0], m[13], m[4] / 1000, link_mbps(m), active_mbps(m), "yes" if fits(m) else "no"))
    out.append("link: %d lanes x %d Mb/s = %d Mb/s; UYVY %d bits per pixel -> pixel clock <= %.1f MHz"
               % (LANES, LANE_MBPS, LINK_MBPS, BITS_PER_PIXEL, LINK_MBPS / BITS_PER_PIXEL))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--table", action="store_true")
    ap.add_argument("--check", metavar="FILE")
    args = ap.parse_args()
    if args.table:
        sys.stdout.write(table())
        return 0
    text = hex_text(edid())
    if args.check:
        with open(args.check) as f:
            if f.read() != text:
                print("%s differs from what make_edid.py writes" % args.check, file=sys.stderr)
                return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
