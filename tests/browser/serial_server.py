#!/usr/bin/env python3
"""The managed server's end of a serial cable, for the browser test: a pty
pair whose slave is reached through LINK (piglix opens it). Commands on
stdin, one a line: `boot` prints a boot log and a login prompt, `say TEXT`
prints TEXT, `unplug` closes the master and removes LINK, `plug` makes a
new pair. Whatever piglix sends is echoed back (as a getty would) and
reported on stdout as `got HEX`. Usage: serial_server.py LINK"""
import os
import select
import sys

BOOT = (b"[    0.000000] Linux version 6.1.0-simserver\r\n"
        b"[    2.500000] systemd[1]: Reached target Multi-User System.\r\n"
        b"\r\nDebian GNU/Linux 12 simserver ttyS0\r\n\r\nsimserver login: ")


def plug(link):
    m, s = os.openpty()
    name = os.ttyname(s)
    os.close(s)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(name, link)
    return m


def main():
    link = sys.argv[1]
    master = plug(link)
    print("ready", flush=True)
    quiet = False
    while True:
        # EIO on the master: nobody has the slave open (piglix not yet, or
        # reopening): look again in a while instead of spinning on it.
        fds = [sys.stdin] + ([master] if master is not None and not quiet else [])
        r, _, _ = select.select(fds, [], [], 0.05)
        quiet = False
        if master is not None and master in r:
            try:
                data = os.read(master, 4096)
            except OSError:
                data = b""
                quiet = True
            if data:
                os.write(master, data)
                print("got " + data.hex(), flush=True)
        if sys.stdin in r:
            line = os.read(sys.stdin.fileno(), 4096).decode()
            if len(line.splitlines()) > 1:
                raise SystemExit("one command at a time")
            if not line:
                return
            cmd, _, arg = line.rstrip("\n").partition(" ")
            if cmd == "boot":
                os.write(master, BOOT)
            elif cmd == "say":
                os.write(master, arg.encode() + b"\r\n")
            elif cmd == "unplug":
                os.close(master)
                master = None
                os.unlink(link)
            elif cmd == "plug":
                master = plug(link)
            print("done " + cmd, flush=True)


if __name__ == "__main__":
    main()
