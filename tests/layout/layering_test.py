#!/usr/bin/env python3
"""The library layering the build declares, checked against what the sources include.

- sc_models/<part>/ includes only its own part and the sc_models parts its library
  links (iosim_add_library(sc_models/<part> iommu_sim::<dep> ...) in CMakeLists.txt,
  followed transitively), and nothing of cpu/, os/, iommu/, device/ or platform/.
- os/ includes of iommu/ only the software interfaces (register maps and in-memory
  formats) of the architectures, iommu/<arch>/sw_interface.h, and the interrupt lines
  every architecture raises, iommu/interrupts.h; of device/ only the mirror device's:
  device/mirror_sw_interface.h.
- No file of device/, iommu/ or os/ names the host-speed machinery (quantum,
  lookahead, slot clocks, stack sizes): the models reach it only through their
  system's Timing and LocalTime objects (sc_models/timing/local_time.h).

Exit 0 when every include is allowed; otherwise each offending include is listed and
the exit status is 1.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL_FOLDERS = ("cpu", "os", "iommu", "device", "platform")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
OS_IOMMU = re.compile(r"iommu/(\w+/sw_interface|interrupts)\.h$")
HOST_SPEED = re.compile(r"quantum|lookahead|slot.?clock|stack.size|QuantumKeeper", re.I)


def declared_parts():
    """sc_models part -> the sc_models parts its library links, from CMakeLists.txt."""
    text = open(os.path.join(ROOT, "CMakeLists.txt")).read()
    parts = {}
    for m in re.finditer(r"iosim_add_library\(sc_models/(\w+)([^)]*)\)", text):
        parts[m.group(1)] = set(re.findall(r"iommu_sim::(\w+)", m.group(2)))
    return parts


def reachable(parts, part):
    seen, todo = set(), [part]
    while todo:
        for dep in parts.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def includes(folder):
    for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
        for f in sorted(files):
            if f.endswith((".h", ".cpp")):
                path = os.path.join(dirpath, f)
                for inc in INCLUDE.findall(open(path).read()):
                    yield os.path.relpath(path, ROOT), inc


def main():
    parts = declared_parts()
    on_disk = sorted(d for d in os.listdir(os.path.join(ROOT, "sc_models"))
                     if os.path.isdir(os.path.join(ROOT, "sc_models", d)))
    problems = []
    if sorted(parts) != on_disk:
        problems.append("sc_models folders %s, libraries declared %s" % (on_disk, sorted(parts)))
    for part in on_disk:
        allowed = reachable(parts, part) | {part}
        for path, inc in includes(os.path.join("sc_models", part)):
            top = inc.split("/")[0]
            if top in MODEL_FOLDERS:
                problems.append("%s includes %s: sc_models knows no %s/" % (path, inc, top))
            elif top == "sc_models":
                used = inc.split("/")[1]
                if used not in allowed:
                    problems.append("%s includes %s, but iommu_sim::%s does not link "
                                    "iommu_sim::%s" % (path, inc, part, used))
    for path, inc in includes("os"):
        if inc.startswith("iommu/") and not OS_IOMMU.match(inc):
            problems.append("%s includes %s: os/ reaches the IOMMU only through "
                            "iommu/<arch>/sw_interface.h and iommu/interrupts.h" % (path, inc))
        if inc.startswith("device/") and inc != "device/mirror_sw_interface.h":
            problems.append("%s includes %s: os/ reaches devices only through "
                            "device/mirror_sw_interface.h" % (path, inc))
    for folder in ("device", "iommu", "os"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in sorted(files):
                path = os.path.join(dirpath, f)
                for n, line in enumerate(open(path), 1):
                    if HOST_SPEED.search(line):
                        problems.append("%s:%d names the timing machinery: %s"
                                        % (os.path.relpath(path, ROOT), n, line.strip()))
    for p in problems:
        print(p)
    if problems:
        return 1
    print("layering holds: %d sc_models parts, os/ through iommu/<arch>/sw_interface.h and "
          "device/mirror_sw_interface.h, no timing "
          "machinery named in device/, iommu/, os/" % len(on_disk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
