# Cross-building piglix for arm64 (Raspberry Pi OS bookworm, 64-bit) with
# Debian's gcc-aarch64-linux-gnu against a sysroot of Debian's arm64
# packages (deploy/cross/make-sysroot.sh). Test binaries run under
# qemu-aarch64, so ctest works as on the build machine.
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=deploy/cross/aarch64-linux-gnu.cmake \
#         -DPIGLIX_ARM64_SYSROOT=/path/to/sysroot
# deploy/cross/build-arm64.sh does all of it.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)

if(NOT PIGLIX_ARM64_SYSROOT)
  set(PIGLIX_ARM64_SYSROOT "$ENV{PIGLIX_ARM64_SYSROOT}")
endif()
if(NOT PIGLIX_ARM64_SYSROOT OR NOT EXISTS "${PIGLIX_ARM64_SYSROOT}/usr/include")
  message(FATAL_ERROR "set PIGLIX_ARM64_SYSROOT to a sysroot made by deploy/cross/make-sysroot.sh")
endif()
# try_compile() projects read this file again: hand them the sysroot too.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES PIGLIX_ARM64_SYSROOT)

set(CMAKE_SYSROOT "${PIGLIX_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${PIGLIX_ARM64_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config reads the arm64 .pc files and prefixes their paths with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${PIGLIX_ARM64_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR}
    "${PIGLIX_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${PIGLIX_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

find_program(PIGLIX_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(PIGLIX_QEMU_AARCH64)
  # -L: the arm64 dynamic loader and libraries come from the sysroot (no
  # binfmt_misc registration needed).
  set(CMAKE_CROSSCOMPILING_EMULATOR "${PIGLIX_QEMU_AARCH64};-L;${PIGLIX_ARM64_SYSROOT}")
endif()

# The Debian package's architecture (deploy/packaging.cmake).
set(PIGLIX_DEB_ARCH arm64)
