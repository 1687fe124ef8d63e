# The files piglix installs besides its binary, and the Debian package
# (CPack DEB) made from them: `cpack -G DEB` in a build directory configured
# with CMAKE_INSTALL_PREFIX=/usr (the default here). Included from the top
# CMakeLists.txt. Cross builds name the package's architecture in
# PIGLIX_DEB_ARCH (deploy/cross/aarch64-linux-gnu.cmake).

# (CMAKE_INSTALL_PREFIX defaults to /usr in the top CMakeLists.txt, before
# the modules compile the installed paths into piglix.)

# Debian 12 keeps systemd units and udev rules under /lib (moving files
# between / and /usr within a release confuses dpkg's file list).
set(PIGLIX_SYSTEMD_UNIT_DIR /lib/systemd/system CACHE PATH "Where the systemd units go")
set(PIGLIX_UDEV_RULES_DIR /lib/udev/rules.d CACHE PATH "Where the udev rules go")
set(PIGLIX_MODULES_LOAD_DIR /usr/lib/modules-load.d CACHE PATH "Where modules-load.d files go")
set(PIGLIX_DATA_DIR share/piglix)

# The configuration an installed piglix starts with: the documented example
# (whose values are the built-in defaults, which the demo and the tests
# start from) made an appliance: capturing from the HDMI bridge instead of
# the built-in test picture (with no device it shows NO CAPTURE DEVICE and
# keeps looking), with the web UI, the USB keyboard and mice and virtual
# media on (without a USB device controller piglix says so and waits for
# one). [atx] stays off: a wrong pin could drive something else.
file(READ ${CMAKE_SOURCE_DIR}/deploy/piglix.ini PIGLIX_INI)
string(REGEX REPLACE "\nsource = test\n" "\nsource = v4l2\n" PIGLIX_INSTALLED_INI "${PIGLIX_INI}")
if(PIGLIX_INSTALLED_INI STREQUAL PIGLIX_INI)
  message(FATAL_ERROR "deploy/piglix.ini: no 'source = test' line to turn into v4l2")
endif()
# The first "enabled = no" line of a section becomes "enabled = yes".
function(piglix_ini_enable var section)
  set(ini "${${var}}")
  string(FIND "${ini}" "\n[${section}]\n" start)
  if(start EQUAL -1)
    message(FATAL_ERROR "deploy/piglix.ini: no [${section}] section")
  endif()
  string(SUBSTRING "${ini}" 0 ${start} head)
  string(SUBSTRING "${ini}" ${start} -1 rest)
  string(FIND "${rest}" "\nenabled = no\n" at)
  # the line must be in this section, before the next one starts
  string(SUBSTRING "${rest}" 1 -1 after_header)
  string(FIND "${after_header}" "\n[" next)
  if(at EQUAL -1 OR (NOT next EQUAL -1 AND at GREATER next))
    message(FATAL_ERROR "deploy/piglix.ini: no 'enabled = no' line in [${section}]")
  endif()
  string(SUBSTRING "${rest}" 0 ${at} before)
  math(EXPR tail_at "${at} + 14")
  string(SUBSTRING "${rest}" ${tail_at} -1 tail)
  set(${var} "${head}${before}\nenabled = yes\n${tail}" PARENT_SCOPE)
endfunction()
foreach(section web hid vmedia)
  piglix_ini_enable(PIGLIX_INSTALLED_INI ${section})
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/deploy/piglix.ini "${PIGLIX_INSTALLED_INI}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/deploy/piglix.ini)

install(FILES ${CMAKE_BINARY_DIR}/deploy/piglix.ini DESTINATION /etc/piglix)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/edid/tc358743-1080p30.hex DESTINATION ${PIGLIX_DATA_DIR}/edid)
if(EXISTS ${CMAKE_SOURCE_DIR}/web/ui)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/web/ui/ DESTINATION ${PIGLIX_DATA_DIR}/web)
endif()
# noVNC and xterm.js as npm installed them for this build (web/vendor), with
# their licence files; the web server finds them here ([web] novnc, xterm "").
if(PIGLIX_HAVE_WEB_VENDOR)
  install(DIRECTORY ${PIGLIX_NOVNC_BUILD}/ DESTINATION ${PIGLIX_DATA_DIR}/novnc
          PATTERN "*.md" EXCLUDE PATTERN "package.json" EXCLUDE)
  install(DIRECTORY ${PIGLIX_XTERM_BUILD}/ DESTINATION ${PIGLIX_DATA_DIR}/xterm
          PATTERN "*.map" EXCLUDE PATTERN "*.md" EXCLUDE PATTERN "typings" EXCLUDE
          PATTERN "src" EXCLUDE PATTERN "out" EXCLUDE PATTERN "package.json" EXCLUDE)
endif()
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/piglix.service
              ${CMAKE_SOURCE_DIR}/deploy/systemd/piglix-gadget.service
        DESTINATION ${PIGLIX_SYSTEMD_UNIT_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/deploy/systemd/piglix-modules.conf
        DESTINATION ${PIGLIX_MODULES_LOAD_DIR} RENAME piglix.conf)
install(FILES ${CMAKE_SOURCE_DIR}/deploy/udev/70-piglix.rules DESTINATION ${PIGLIX_UDEV_RULES_DIR})
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/deploy/INSTALL.md
        DESTINATION share/doc/piglix)

set(CPACK_GENERATOR DEB)
# The units name /usr/bin/piglix, whatever prefix a build directory has.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_NAME piglix)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "piglix developers <piglix@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "KVM-over-IP appliance for the Raspberry Pi")
set(CPACK_PACKAGE_DESCRIPTION
  "piglix captures a server's HDMI output (TC358743 CSI-HDMI bridge or a USB dongle)\n\
and serves it to VNC viewers and browsers, types and clicks on the server as a\n\
USB keyboard and mouse (USB gadget), presents ISO images as virtual media and\n\
presses its power and reset buttons through an ATX board on the GPIO header.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
if(PIGLIX_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${PIGLIX_DEB_ARCH})
endif()
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from the binary: dpkg-shlibdeps (dpkg-dev) in a
# native build; a cross build has no dpkg database for its sysroot, so
# deploy/cross/build-arm64.sh computes them from the sysroot's packages and
# passes CPACK_DEBIAN_PACKAGE_DEPENDS to cpack. The maintainer scripts need
# adduser.
if(NOT CMAKE_CROSSCOMPILING)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "v4l-utils, edid-decode")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_SOURCE_DIR}/deploy/debian/conffiles
  ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
  ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES ON)
include(CPack)
