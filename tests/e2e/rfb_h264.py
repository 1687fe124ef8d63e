"""An RFB test client that announces Open H.264 (encoding 50) and decodes it
with libavcodec (PyAV), Tight (fill, palette, zlib, JPEG) and DesktopSize,
into an RGB picture (numpy). Security None (piglix with auth = none on
loopback), or VncAuth with password= (DES from Debian's python3-cryptography;
the VM tests reach piglix through qemu's forwarded port, not loopback). Debian's python3-av and python3-numpy: import this module only
after ensure_debian_python()."""
import io
import os
import socket
import struct
import sys
import time
import zlib

DEBIAN_PYTHON = "/usr/bin/python3"

ENC_TIGHT, ENC_H264, ENC_LASTRECT, ENC_DESKTOP_SIZE = 7, 50, -224, -223


def ensure_debian_python():
    """PyAV and numpy are Debian's: re-run under Debian's python3 when the
    interpreter running the test (e.g. a pyenv one) cannot import them."""
    try:
        import av  # noqa: F401
        import numpy  # noqa: F401
        return True
    except ImportError:
        if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)
        return False


class RfbError(Exception):
    pass


def vnc_auth_response(password, challenge):
    """VncAuth: the challenge DES-encrypted with the password (8 bytes, each
    byte's bits mirrored, as RFB does). Single DES is TripleDES with one
    8-byte key in python3-cryptography."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key = bytes(int("{:08b}".format(b)[::-1], 2) for b in password.encode()[:8].ljust(8, b"\0"))
    enc = Cipher(algorithms.TripleDES(key), modes.ECB()).encryptor()
    return enc.update(challenge) + enc.finalize()


class Client:
    def __init__(self, port, h264=True, jpeg=True, host="127.0.0.1", timeout=20, password=None):
        import numpy as np
        self.np = np
        self.s = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        self.h264 = h264
        self.counts = {"h264": 0, "h264_bytes": 0, "tight": 0, "tight_jpeg": 0, "tight_fill": 0,
                       "tight_palette": 0, "tight_zlib": 0, "desktop_size": 0, "reset": 0,
                       "reset_all": 0, "updates": 0, "bytes": 0}
        self.decoders = {}
        self.zs = [zlib.decompressobj() for _ in range(4)]
        self.last_h264_update = None
        self.h264_nals = []  # NAL header bytes of H.264 rects, oldest first (tests may clear it)
        self.auto_request = True  # ask again after each update, as viewers do
        self.password = password
        self._handshake(jpeg)

    # ---- bytes ----
    def recv(self, n):
        while len(self.buf) < n:
            d = self.s.recv(max(65536, n - len(self.buf)))
            if not d:
                raise RfbError("connection closed")
            self.buf += d
            self.counts["bytes"] += len(d)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def u8(self):
        return self.recv(1)[0]

    def u16(self):
        return struct.unpack(">H", self.recv(2))[0]

    def u32(self):
        return struct.unpack(">I", self.recv(4))[0]

    def _handshake(self, jpeg):
        if not self.recv(12).startswith(b"RFB 003.008"):
            raise RfbError("no RFB 3.8 greeting")
        self.s.sendall(b"RFB 003.008\n")
        types = self.recv(self.u8())
        if self.password is not None and 2 in types:
            self.s.sendall(b"\x02")
            self.s.sendall(vnc_auth_response(self.password, self.recv(16)))
        elif 1 in types:
            self.s.sendall(b"\x01")
        else:
            raise RfbError("security None not offered: %r" % types)
        if self.u32() != 0:
            raise RfbError("security failed")
        self.s.sendall(b"\x01")
        self.w, self.h = self.u16(), self.u16()
        self.recv(16)
        self.recv(self.u32())
        self.fb = self.np.zeros((self.h, self.w, 3), self.np.uint8)
        # 32 bpp, depth 24, little endian, true colour, R at 16, G at 8, B at 0
        self.s.sendall(struct.pack(">B3xBBBBHHHBBB3x", 0, 32, 24, 0, 1, 255, 255, 255, 16, 8, 0))
        encs = ([ENC_H264] if self.h264 else []) + [ENC_TIGHT] + ([-26] if jpeg else []) + \
            [ENC_LASTRECT, ENC_DESKTOP_SIZE]
        self.s.sendall(struct.pack(">BxH%di" % len(encs), 2, len(encs), *encs))
        self.request(False)

    def request(self, incremental=True):
        self.s.sendall(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0, self.w, self.h))

    # ---- one update ----
    def update(self):
        """Reads messages up to and including one FramebufferUpdate; returns
        the rectangle encodings it held."""
        while True:
            t = self.u8()
            if t == 0:
                break
            if t == 2:  # bell
                continue
            if t == 3:  # cut text
                self.recv(3)
                self.recv(self.u32())
                continue
            raise RfbError("unexpected server message %d" % t)
        self.recv(1)
        n = self.u16()
        kinds = []
        for _ in range(n):
            x, y, w, h, enc = struct.unpack(">HHHHi", self.recv(12))
            if enc == ENC_LASTRECT:
                break
            kinds.append(enc)
            if enc == ENC_TIGHT:
                self._tight(x, y, w, h)
            elif enc == ENC_H264:
                self._h264(x, y, w, h)
            elif enc == ENC_DESKTOP_SIZE:
                self.counts["desktop_size"] += 1
                self.w, self.h = w, h
                self.fb = self.np.zeros((h, w, 3), self.np.uint8)
            else:
                raise RfbError("unexpected encoding %d" % enc)
        self.counts["updates"] += 1
        if self.auto_request:
            self.request(True)
        return kinds

    def run(self, seconds, until=None):
        """Reads updates for up to seconds; until(client, kinds) may stop it."""
        end = time.time() + seconds
        while time.time() < end:
            self.s.settimeout(max(0.05, end - time.time()))
            try:
                kinds = self.update()
            except socket.timeout:
                break
            if until and until(self, kinds):
                return True
        self.s.settimeout(20)
        return False

    # ---- Tight ----
    def _compact(self):
        v, shift = 0, 0
        for _ in range(3):
            b = self.u8()
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return v

    def _tight_data(self, stream, raw_len):
        if raw_len < 12:
            return self.recv(raw_len)
        data = self.zs[stream].decompress(self.recv(self._compact()))
        if len(data) != raw_len:
            raise RfbError("tight zlib: %d bytes, want %d" % (len(data), raw_len))
        return data

    def _tight(self, x, y, w, h):
        np = self.np
        self.counts["tight"] += 1
        cc = self.u8()
        for i in range(4):
            if cc & (1 << i):
                self.zs[i] = zlib.decompressobj()
        kind = cc >> 4
        if kind == 8:
            self.counts["tight_fill"] += 1
            self.fb[y:y + h, x:x + w] = np.frombuffer(self.recv(3), np.uint8)
            return
        if kind == 9:
            self.counts["tight_jpeg"] += 1
            from PIL import Image
            img = Image.open(io.BytesIO(self.recv(self._compact()))).convert("RGB")
            self.fb[y:y + h, x:x + w] = np.asarray(img)
            return
        if kind & 8:
            raise RfbError("bad tight control byte 0x%02x" % cc)
        stream = kind & 3
        filt = self.u8() if kind & 4 else 0
        if filt == 1:
            self.counts["tight_palette"] += 1
            ncol = self.u8() + 1
            pal = np.frombuffer(self.recv(ncol * 3), np.uint8).reshape(ncol, 3)
            if ncol == 2:
                rowb = (w + 7) // 8
                bits = np.unpackbits(np.frombuffer(self._tight_data(stream, rowb * h), np.uint8).reshape(h, rowb), axis=1)[:, :w]
                self.fb[y:y + h, x:x + w] = pal[bits]
            else:
                idx = np.frombuffer(self._tight_data(stream, w * h), np.uint8).reshape(h, w)
                self.fb[y:y + h, x:x + w] = pal[idx]
        elif filt == 0:
            self.counts["tight_zlib"] += 1
            self.fb[y:y + h, x:x + w] = np.frombuffer(self._tight_data(stream, w * h * 3), np.uint8).reshape(h, w, 3)
        else:
            raise RfbError("tight filter %d not expected from piglix" % filt)

    # ---- H.264 ----
    def _h264(self, x, y, w, h):
        import av
        length, flags = self.u32(), self.u32()
        data = self.recv(length)
        # Each NAL unit's header byte, for tests that look at what came.
        self.h264_nals += [data[i + 3] for i in range(len(data) - 3) if data[i:i + 3] == b"\0\0\1"]
        self.counts["h264"] += 1
        self.counts["h264_bytes"] += length
        if flags & 2:
            self.counts["reset_all"] += 1
            self.decoders.clear()
        key = (x, y, w, h)
        if flags & 1:
            self.counts["reset"] += 1
            self.decoders.pop(key, None)
        if key not in self.decoders:
            ctx = av.CodecContext.create("h264", "r")
            self.decoders[key] = ctx
        ctx = self.decoders[key]
        frames = []
        for pkt in ctx.parse(data):
            frames += ctx.decode(pkt)
        # Annex-B without a following start code: flush the parser's last unit.
        for pkt in ctx.parse(None) if hasattr(ctx, "parse") else []:
            frames += ctx.decode(pkt)
        if not frames:
            raise RfbError("an H.264 rect of %d bytes decoded to no frame" % length)
        f = frames[-1]
        self.last_colour = (str(f.color_range) if hasattr(f, "color_range") else "", )
        rgb = f.to_ndarray(format="rgb24")
        self.fb[y:y + h, x:x + w] = rgb[:h, :w]
        self.last_h264_update = self.counts["updates"]


def psnr(a, b, mask=None):
    import numpy as np
    d = a.astype(np.int32) - b.astype(np.int32)
    if mask is not None:
        d = d[~mask]
    mse = float((d * d).mean()) if d.size else 0.0
    return 99.0 if mse == 0 else 10 * np.log10(255 * 255 / mse)
