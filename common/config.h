/* common/config: piglix's configuration, one INI file plus command-line overrides.
 * Owns struct piglix_config and the table of every option (name, type, range,
 * default, help). Modules read it; only main() writes it. */
#ifndef PIGLIX_COMMON_CONFIG_H
#define PIGLIX_COMMON_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define CONFIG_STR_MAX 256

/* One struct per section, so a module can be handed its own section only. */
struct config_capture {
    char source[16];   /* test | v4l2 */
    char device[CONFIG_STR_MAX];
    int width, height, fps;
    char scenario[16]; /* bios | desktop | motion | pan */
    char format[16];   /* yuyv | uyvy | rgb24 (test source; v4l2: preferred) */
    char edid[CONFIG_STR_MAX]; /* EDID hex file loaded into the device; "" = leave alone */
    int frame_timeout_ms; /* streaming but no frame this long: restart streaming (v4l2) */
    bool type_echo;    /* test source without [hid]: show what viewers type (capture.h) */
};

struct config_encode {
    int quality;            /* JPEG quality 1..100 */
    char subsampling[8];    /* 444 | 422 | 420 | gray */
    int lossless_refresh_ms;/* 0 disables the automatic lossless refresh */
    int tile_size;          /* damage tile edge in pixels */
    char workers[8];        /* auto | 1..8: threads encoding a frame's tiles */
};

struct config_vnc {
    bool enabled;
    char listen[CONFIG_STR_MAX];
    int port;
    char auth[8];           /* vnc | none (none only on loopback) */
    int max_clients;        /* authenticated viewers on the VNC port */
    int max_pending;        /* TCP handshakes not yet authenticated, in all */
    int max_pending_per_addr; /* ... from one address (IPv6: one /64) */
    int handshake_timeout_s; /* to reach ServerInit */
    int auth_fail_limit;    /* failures per address before throttling */
    int auth_throttle_s;    /* first throttle period, doubles each time */
    char name[64];
};

struct config_hid {
    bool enabled;           /* the USB keyboard and mice (needs a UDC) */
    char udc[64];           /* "" = the first USB device controller */
    char vendor_id[8];      /* hex, "0x1d6b" */
    char product_id[8];
    char manufacturer[64], product[64], serial[64];
    int max_power;          /* mA the configuration claims */
    char mouse[12];         /* absolute | relative | both: the mice presented */
    char mouse_mode[12];    /* absolute | relative: the one in use at start */
    char layout[8];         /* the target's keyboard layout */
    int paste_rate;         /* characters per second */
    int key_hold_max_ms;    /* release keys held this long without events; 0 = never */
};

struct config_web {
    bool enabled;
    char listen[CONFIG_STR_MAX];
    int port;               /* HTTPS */
    int http_port;          /* plain HTTP that only redirects; 0: off */
    char cert[CONFIG_STR_MAX]; /* PEM chain; "" = self-signed under [state] dir */
    char key[CONFIG_STR_MAX];
    char hostname[128];     /* for the self-signed certificate; "" = this host's name */
    char root[CONFIG_STR_MAX]; /* the UI's static files; "" = built-in default */
    char novnc[CONFIG_STR_MAX]; /* noVNC's files (core/rfb.js); "" = the one piglix ships */
    char xterm[CONFIG_STR_MAX]; /* xterm.js (xterm/lib/xterm.js); "" = the one piglix ships */
    int session_idle_s;     /* a session ends after this long unused */
    int session_max_s;      /* and this long after login, whatever */
    int login_fail_limit;   /* failures per address/account before delays */
    int login_throttle_s;   /* first delay, doubles with each further failure */
    int max_viewers;        /* browser viewers (WebSocket) at once */
};

struct config_atx {
    bool enabled;
    char chip[64];          /* GPIO chip: name, path, label or number; "" = no GPIO */
    int power_led_line, hdd_led_line;          /* line offsets; -1 = not wired */
    int power_button_line, reset_button_line, intrusion_line;
    bool power_led_active_low, hdd_led_active_low;
    bool power_button_active_low, reset_button_active_low, intrusion_active_low;
    int press_ms, long_press_ms;               /* short press, force-off hold */
    int power_led_debounce_ms, hdd_led_debounce_ms;
    int standby_blink_ms;   /* longest half-period of a standby blink */
    int on_timeout_s, off_timeout_s, force_off_timeout_s, cycle_off_s;
    char wol_mac[32];       /* "" = no Wake-on-LAN */
    char wol_interface[32]; /* "" = the routing table decides */
    char wol_address[64];   /* IPv4 broadcast (or unicast) address */
    int wol_port;
};

struct config_vmedia {
    bool enabled;           /* the image store and the USB mass-storage function (needs [hid]) */
    char dir[CONFIG_STR_MAX]; /* the image store */
    int max_size_mb;        /* largest image accepted (upload or download); 0 = no limit */
    char usb[12];           /* always | mounted: when the mass-storage function is on the bus */
    int upload_idle_s;      /* an upload that sends nothing this long is dropped */
    bool url_private;       /* downloads may reach private ranges (10/8, 192.168/16, fc00::/7...) */
    char url_allow[CONFIG_STR_MAX]; /* addresses downloads may reach whatever their class */
};

struct config_sensors {
    bool enabled;
    char root[CONFIG_STR_MAX];   /* sysfs root ("/sys"; tests point it at a fixture tree) */
    int poll_ms;
    char names[CONFIG_STR_MAX];  /* "ID=Name,ID=Name": display names by sensor id */
    char thresholds[CONFIG_STR_MAX]; /* "ID:lc:lw:uw:uc,...": limits, empty field = unset */
};

struct config_redfish {
    bool enabled;           /* DMTF Redfish under /redfish/v1 on the web port */
};

struct config_ipmi {
    bool enabled;           /* IPMI 2.0 over LAN (RMCP+), UDP */
    char listen[CONFIG_STR_MAX];
    int port;
    int session_timeout_s;
    int max_sessions;
};

struct config_control {
    char mode[12];          /* shared | exclusive: who may type */
    int idle_release_s;     /* exclusive: the keyboard is released after this long without input */
};

struct config_serial {
    bool enabled;           /* the managed server's serial console */
    char device[CONFIG_STR_MAX]; /* a tty path, or "gadget": the USB gadget's CDC ACM function */
    int baud;
    int data_bits;          /* 5..8 */
    char parity[8];         /* none | even | odd */
    int stop_bits;          /* 1 | 2 */
    char flow[8];           /* none | rtscts | xonxoff */
    char log_dir[CONFIG_STR_MAX]; /* "" = [state] dir/serial */
    int log_kb;             /* one console log file's size before rotation */
    int log_files;          /* rotated files kept beside the current one */
    int backlog_kb;         /* recent output kept in memory for new readers */
};

struct config_state {
    char dir[CONFIG_STR_MAX];
};

struct config_log {
    char level[8];
};

struct config_video {
    char h264[8];           /* auto | always | never: RFB encoding 50 for viewers that take it */
    char backend[16];       /* auto | m2m | x264 | openh264 */
    int bitrate_kbps;       /* 0: the encoder's default for the size */
    int quality_qp;         /* the quality held under the ceiling, an H.264 QP (lower: better, more bytes) */
    int keyframe_interval;  /* frames between IDRs; 0: only when a viewer needs one */
    char m2m_device[CONFIG_STR_MAX]; /* "": find the encoder by capability */
    bool previews;          /* typed changes go ahead of their frame, exact (h264.h "Previews") */
};

struct config_audit {
    int max_kb;             /* one file's bound before it rotates */
    int files;              /* audit.log plus rotated ones kept */
    char syslog[CONFIG_STR_MAX]; /* "" or udp://host:port, tcp://host:port */
};

struct config_watchdog {
    int deadline_ms;        /* a thread silent this long is wedged: systemd's watchdog is no longer fed */
};

struct piglix_config {
    struct config_capture capture;
    struct config_encode encode;
    struct config_vnc vnc;
    struct config_hid hid;
    struct config_web web;
    struct config_atx atx;
    struct config_vmedia vmedia;
    struct config_sensors sensors;
    struct config_redfish redfish;
    struct config_ipmi ipmi;
    struct config_serial serial;
    struct config_state state;
    struct config_log log;
    struct config_control control;
    struct config_video video;
    struct config_audit audit;
    struct config_watchdog watchdog;
};

/* Fills every option with its default. */
void config_defaults(struct piglix_config *cfg);

/* Loads an INI file over the current values. Unknown sections/keys and bad
 * values are errors: a message naming file:line and the key goes to err.
 * Returns 0 or -1. */
int config_load_file(struct piglix_config *cfg, const char *path, FILE *err);

/* The same from an open stream; name labels errors. */
int config_load_stream(struct piglix_config *cfg, FILE *file, const char *name, FILE *err);

/* Applies "section.key=value" (a command-line override). Returns 0 or -1. */
int config_set_override(struct piglix_config *cfg, const char *assignment, FILE *err);

/* Sets one option by section and key; origin names the source for errors. */
int config_set(struct piglix_config *cfg, const char *section, const char *key,
               const char *value, const char *origin, FILE *err);

/* Checks relations between options (e.g. auth=none needs a loopback listen). */
int config_validate(const struct piglix_config *cfg, FILE *err);

/* Prints the effective configuration as a loadable INI file. */
void config_print(const struct piglix_config *cfg, FILE *out);

/* True when the address only accepts local connections. */
bool config_is_loopback(const char *listen);

#endif
