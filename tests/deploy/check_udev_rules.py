#!/usr/bin/env python3
"""A syntax check of udev rules files, as udevd reads them (udev(7)): every
rule is comma-separated KEY{attr}OP"value" pairs, match keys use == or !=,
assignments =, +=, -= or :=, at least one assignment per rule, known keys
only. (udevadm verify, which does this, came after Debian 12's systemd 252.)
Also checks that the rules give piglix's devices the groups its unit runs
with. usage: check_udev_rules.py FILE..."""
import re
import sys

MATCH_ONLY = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTRS", "TAGS", "TEST", "PROGRAM", "RESULT", "CONST", "SYSCTL"}
BOTH = {"NAME", "SYMLINK", "ATTR", "ENV", "TAG", "OWNER", "GROUP", "MODE", "LABEL", "GOTO",
        "IMPORT", "OPTIONS", "RUN", "SECLABEL", "SYSCTL"}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "LABEL", "GOTO", "RUN", "OPTIONS", "SECLABEL"}
PAIR = re.compile(r'\s*([A-Z_]+)(\{[^}]*\})?\s*(==|!=|\+=|-=|:=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,|$)')

# What piglix.service expects: device -> (subsystem, group)
EXPECTED = {"hidg": "piglix", "gpio": "gpio", "video4linux": "video"}


def check_line(line):
    pos, pairs = 0, []
    while pos < len(line):
        m = PAIR.match(line, pos)
        if not m:
            return None, "cannot parse at column %d: %r" % (pos + 1, line[pos:pos + 30])
        pairs.append((m.group(1), m.group(3), m.group(4)))
        pos = m.end()
    assigned = False
    for key, op, value in pairs:
        if key not in MATCH_ONLY | BOTH:
            return None, "unknown key %s" % key
        is_match = op in ("==", "!=")
        if is_match and key in ASSIGN_ONLY:
            return None, "%s cannot be matched" % key
        if not is_match and key in MATCH_ONLY - BOTH:
            return None, "%s cannot be assigned" % key
        if key == "MODE" and not is_match and not re.fullmatch(r"0?[0-7]{3}", value):
            return None, "MODE %r is not an octal mode" % value
        assigned |= not is_match
    if not assigned:
        return None, "rule assigns nothing"
    return pairs, None


def main(paths):
    errors, groups = [], {}
    for path in paths:
        with open(path) as f:
            text = f.read().replace("\\\n", "")
        for n, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            pairs, err = check_line(line)
            if err:
                errors.append("%s:%d: %s" % (path, n, err))
                continue
            subsystem = [v for k, op, v in pairs if k == "SUBSYSTEM" and op == "=="]
            group = [v for k, op, v in pairs if k == "GROUP" and op != "=="]
            if subsystem and group:
                groups[subsystem[0]] = group[-1]
    for subsystem, group in EXPECTED.items():
        if groups.get(subsystem) != group:
            errors.append("no rule gives SUBSYSTEM==%s to group %s (got %s)"
                          % (subsystem, group, groups.get(subsystem)))
    for e in errors:
        print("udev rules: " + e, file=sys.stderr)
    if not errors:
        print("udev rules: %d files OK; groups %s" % (len(paths), groups))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) if len(sys.argv) > 1 else 2)
